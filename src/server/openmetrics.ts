// Rewrites the Prometheus text format 0.0.4 produced by @opentelemetry/exporter-prometheus's
// serializer into OpenMetrics 1.0, which Prometheus asks for first. The exporter has no
// OpenMetrics output of its own. The differences that matter for what we emit:
// - a counter family is named without `_total` (its samples keep it);
// - `# UNIT` must be the suffix of the family name, otherwise it is left out;
// - the exposition ends with `# EOF`.
// Sample lines are identical in both formats.

const HEADER = /^# (HELP|UNIT) /;

export function toOpenMetrics(text: string): string {
  const out: string[] = [];
  let headers: string[] = [];
  for (const line of text.split('\n')) {
    if (HEADER.test(line)) {
      headers.push(line);
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [, , name = '', type = ''] = line.split(' ');
      const family = type === 'counter' ? name.replace(/_total$/, '') : name;
      for (const header of headers) {
        const [, kind = '', , ...rest] = header.split(' ');
        const value = rest.join(' ');
        if (kind === 'UNIT' && !family.endsWith(`_${value}`)) continue;
        out.push(`# ${kind} ${family} ${value}`);
      }
      out.push(`# TYPE ${family} ${type}`);
      headers = [];
      continue;
    }
    // Other comments (the serializer's `# no registered metrics`) and blank lines are not valid OpenMetrics.
    if (line === '' || line.startsWith('#')) continue;
    out.push(line);
  }
  out.push('# EOF');
  return `${out.join('\n')}\n`;
}

// Renders docs/metrics.md from the metric declarations, so the reference cannot drift from the code.
// `npm run docs` rewrites the file; test/docs/metrics-doc.test.ts checks it is current and that a live
// /metrics exports exactly what it lists.

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MetricSpec } from '../src/collectors/collector.ts';
import { COLLECTORS } from '../src/collectors/index.ts';
import { prometheusName } from '../src/prometheus-names.ts';
import { SCRAPE_METRICS } from '../src/server/scrape.ts';

export const METRICS_DOC = fileURLToPath(new URL('../docs/metrics.md', import.meta.url));

export interface DocumentedMetric {
  readonly collector: string;
  readonly spec: MetricSpec;
  /** The sample family name on /metrics (counters with `_total`). */
  readonly exported: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly labels: readonly string[];
}

const promLabel = (key: string): string => key.replace(/[^a-zA-Z0-9_]+/g, '_');

export function documentedMetrics(): DocumentedMetric[] {
  const scopes: [string, readonly MetricSpec[]][] = [
    ...COLLECTORS.map((collector): [string, readonly MetricSpec[]] => [
      collector.name,
      [...collector.metrics, ...(collector.recordedMetrics ?? [])],
    ]),
    ['(always)', Object.values(SCRAPE_METRICS)],
  ];
  return scopes.flatMap(([collector, specs]) =>
    specs.map((spec) => {
      const { name } = prometheusName(spec.name, spec.unit, spec.kind === 'gauge');
      return {
        collector,
        spec,
        exported: spec.kind === 'counter' ? `${name}_total` : name,
        type: spec.kind,
        labels: spec.labels.map(promLabel),
      };
    }),
  );
}

const cell = (text: string): string => text.replace(/\|/g, '\\|');

export function renderMetricsDoc(): string {
  const lines = [
    '# Metrics',
    '',
    '<!-- Generated from the metric declarations by `npm run docs`; edit the collectors, not this file. -->',
    '',
    'Every series `hostmeter serve` exports, by collector. Names follow the OpenTelemetry semantic conventions',
    "and appear on `/metrics` the way the OpenTelemetry Collector's Prometheus exporter writes them: dots become",
    'underscores, the unit word is appended (`s` → `_seconds`, `By` → `_bytes`, unit `1` on a gauge → `_ratio`)',
    'and counters end in `_total`. Histograms also export `_bucket`, `_sum` and `_count`. Every series also',
    'carries the labels Prometheus adds itself (`job`, `instance`).',
    '',
    'A collector that fails or misses the scrape timeout exports none of its series in that scrape, and',
    '`hostmeter_scrape_collector_success{collector}` is 0 for it.',
    '',
  ];
  for (const collector of [...COLLECTORS.map((c) => c.name), '(always)']) {
    const definition = COLLECTORS.find((c) => c.name === collector);
    lines.push(
      `## ${collector === '(always)' ? 'Scrape (always on)' : `\`${collector}\``}`,
      '',
      definition
        ? `${definition.description}. ${definition.defaultEnabled ? 'On' : 'Off'} by default.`
        : 'Exported whatever the collector flags.',
      '',
      '| name | type | unit | labels | meaning |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const metric of documentedMetrics().filter((m) => m.collector === collector)) {
      const unit = metric.spec.unit === '' ? '' : `\`${metric.spec.unit}\``;
      const labels = metric.labels.map((label) => `\`${label}\``).join(', ');
      const meaning = metric.spec.availability
        ? `${metric.spec.description} Present only ${metric.spec.availability}.`
        : metric.spec.description;
      lines.push(`| \`${metric.exported}\` | ${metric.type} | ${unit} | ${labels} | ${cell(meaning)} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(METRICS_DOC, renderMetricsDoc());
  process.stdout.write(`wrote ${METRICS_DOC}\n`);
}

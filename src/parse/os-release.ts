import { ParseError } from './parse-error.ts';

/**
 * Parses os-release(5): `KEY=value` lines where the value may be quoted with `"` or `'` and may use
 * shell backslash escapes inside double quotes. Comments and blank lines are allowed.
 */
export function parseOsRelease(text: string): Readonly<Record<string, string>> {
  const fields: Record<string, string> = {};
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match)
      throw new ParseError('os-release', `expected KEY=value, got ${JSON.stringify(line)}`, index + 1);
    fields[match[1] as string] = unquote(match[2] as string, index + 1);
  }
  if (Object.keys(fields).length === 0) throw new ParseError('os-release', 'no KEY=value line');
  return fields;
}

function unquote(value: string, line: number): string {
  const quote = value[0];
  if (quote !== '"' && quote !== "'") return value;
  if (value.length < 2 || !value.endsWith(quote)) {
    throw new ParseError('os-release', `unterminated ${quote} quote`, line);
  }
  const inner = value.slice(1, -1);
  return quote === '"' ? inner.replace(/\\(["\\`$])/g, '$1') : inner;
}

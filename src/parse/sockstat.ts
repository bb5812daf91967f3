import { ParseError, parseCount } from './parse-error.ts';

/** Protocol (`TCP`, `UDP6`, ...) to its counters (`inuse`, `orphan`, ...). */
export type Sockstat = ReadonlyMap<string, ReadonlyMap<string, number>>;

/** Parses /proc/net/sockstat and sockstat6: `TCP: inuse 1 orphan 0 tw 0 alloc 1 mem 41`. */
export function parseSockstat(text: string, source = 'sockstat'): Sockstat {
  const protocols = new Map<string, Map<string, number>>();
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const lineNo = index + 1;
    const match = /^([^:\s]+):((?:\s+\S+\s+\S+)*)\s*$/.exec(line);
    if (match === null) throw new ParseError(source, 'expected `PROTO: key value ...`', lineNo);
    const pairs = (match[2] ?? '').trim().split(/\s+/);
    const counters = new Map<string, number>();
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      const key = pairs[i] ?? '';
      counters.set(key, parseCount(pairs[i + 1], source, `${match[1]} ${key}`, lineNo));
    }
    protocols.set(match[1] ?? '', counters);
  }
  if (protocols.size === 0) throw new ParseError(source, 'no protocols');
  return protocols;
}

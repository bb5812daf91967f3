import { ParseError, parseCount } from './parse-error.ts';

export interface InterfaceDirectionStats {
  readonly bytes: number;
  readonly packets: number;
  readonly errors: number;
  readonly dropped: number;
}

export interface InterfaceStats {
  readonly name: string;
  readonly receive: InterfaceDirectionStats;
  readonly transmit: InterfaceDirectionStats;
}

// Each direction has 8 columns; bytes, packets, errs and drop lead both.
const DIRECTION_FIELDS = 8;

/** Parses /proc/net/dev: two header lines, then `  eth0: 204007334 5179 0 0 0 0 0 0 278171 3029 0 0 ...`. */
export function parseNetDev(text: string): InterfaceStats[] {
  const lines = text.split('\n');
  if (!lines[0]?.startsWith('Inter-|') || !lines[1]?.includes('|')) {
    throw new ParseError('net/dev', 'missing header');
  }
  const interfaces: InterfaceStats[] = [];
  for (const [index, line] of lines.entries()) {
    if (index < 2 || line.trim() === '') continue;
    const lineNo = index + 1;
    // Large counters can touch the colon (`eth0:123`), so split on it rather than on whitespace.
    const colon = line.lastIndexOf(':');
    const name = line.slice(0, colon).trim();
    if (colon < 0 || name === '') throw new ParseError('net/dev', 'expected `name: counters`', lineNo);
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (fields.length < 2 * DIRECTION_FIELDS) {
      throw new ParseError(
        'net/dev',
        `expected ${2 * DIRECTION_FIELDS} counters, got ${fields.length}`,
        lineNo,
      );
    }
    const direction = (offset: number, what: string): InterfaceDirectionStats => ({
      bytes: parseCount(fields[offset], 'net/dev', `${what} bytes`, lineNo),
      packets: parseCount(fields[offset + 1], 'net/dev', `${what} packets`, lineNo),
      errors: parseCount(fields[offset + 2], 'net/dev', `${what} errors`, lineNo),
      dropped: parseCount(fields[offset + 3], 'net/dev', `${what} dropped`, lineNo),
    });
    interfaces.push({
      name,
      receive: direction(0, 'receive'),
      transmit: direction(DIRECTION_FIELDS, 'transmit'),
    });
  }
  // Every network namespace has at least the loopback interface.
  if (interfaces.length === 0) throw new ParseError('net/dev', 'no interfaces');
  return interfaces;
}

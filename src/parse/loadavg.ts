import { ParseError, parseCount, parseDecimal } from './parse-error.ts';

export interface LoadAverage {
  readonly load1: number;
  readonly load5: number;
  readonly load15: number;
  /** Runnable scheduling entities (processes and threads) right now. */
  readonly runnable: number;
  /** Scheduling entities that exist on the system. */
  readonly entities: number;
}

/** Parses /proc/loadavg: `0.59 0.32 0.12 1/81 3188`. */
export function parseLoadavg(text: string): LoadAverage {
  const fields = text.trim().split(/\s+/);
  if (fields.length < 4) throw new ParseError('loadavg', `expected 5 fields, got ${fields.length}`);
  const [runnable, entities] = (fields[3] ?? '').split('/');
  return {
    load1: parseDecimal(fields[0], 'loadavg', 'load1'),
    load5: parseDecimal(fields[1], 'loadavg', 'load5'),
    load15: parseDecimal(fields[2], 'loadavg', 'load15'),
    runnable: parseCount(runnable, 'loadavg', 'runnable'),
    entities: parseCount(entities, 'loadavg', 'entities'),
  };
}

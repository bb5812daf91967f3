import { ParseError, parseCount } from './parse-error.ts';

/** Cumulative stall time of one /proc/pressure file, in microseconds. */
export interface Pressure {
  /** Time at least one task stalled on the resource; the irq file has no such line. */
  readonly some: number | undefined;
  /** Time all non-idle tasks stalled at once; absent from the cpu file before Linux 5.13. */
  readonly full: number | undefined;
}

/**
 * Parses a /proc/pressure file: `some avg10=2.22 avg60=0.93 avg300=1.82 total=12189910` and a `full` line.
 * `source` names the file in errors (`pressure/cpu`).
 */
export function parsePressure(text: string, source: string): Pressure {
  const totals = new Map<string, number>();
  text.split('\n').forEach((raw, index) => {
    const [scope = '', ...fields] = raw.split(' ');
    if (scope !== 'some' && scope !== 'full') return;
    const total = fields.find((field) => field.startsWith('total='));
    if (total === undefined) throw new ParseError(source, `${scope}: no total= field`, index + 1);
    totals.set(scope, parseCount(total.slice('total='.length), source, `${scope} total`, index + 1));
  });
  if (!totals.has('some') && !totals.has('full')) throw new ParseError(source, 'no some or full line');
  return { some: totals.get('some'), full: totals.get('full') };
}

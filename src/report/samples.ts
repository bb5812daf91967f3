// Exact arithmetic on raw Prometheus samples over one report window. Nothing here extrapolates the way
// PromQL's increase() and rate() do: counter totals are sums of observed deltas, and averages weigh each
// sample by the time it was the latest known value.

export interface Sample {
  /** Unix seconds. */
  readonly t: number;
  readonly v: number;
}

export interface Series {
  readonly labels: Readonly<Record<string, string>>;
  /** Ascending t. */
  readonly samples: readonly Sample[];
}

/** The half-open interval (from, to], in Unix seconds. */
export interface Window {
  readonly from: number;
  readonly to: number;
}

/** A covered interval [start, end] of a step function and its value there. */
export type Step = [number, number, number];

/** A counter delta between two consecutive samples, attributed to the interval [prevT, nextT]. */
export interface CounterDelta {
  readonly prevT: number;
  readonly nextT: number;
  readonly delta: number;
}

/** Index of the first sample after `t` (binary search: the samples are ascending). */
function firstAfter(samples: readonly Sample[], t: number): number {
  let low = 0;
  let high = samples.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((samples[mid] as Sample).t <= t) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * The samples of the window as indexes [start, end), and the last sample at or before `window.from`: the
 * later of `baseline` and any such sample in `samples`, so a caller may pass either a separate baseline or
 * a range that starts before the window.
 */
function inWindow(samples: readonly Sample[], window: Window, baseline?: Sample) {
  const start = firstAfter(samples, window.from);
  const before = samples[start - 1];
  const given = baseline !== undefined && baseline.t <= window.from ? baseline : undefined;
  const base = before === undefined || (given !== undefined && given.t > before.t) ? given : before;
  return { start, end: firstAfter(samples, window.to), base };
}

/**
 * The deltas of consecutive sample pairs whose later sample lies in (from, to], the first pair starting at
 * the baseline. A decrease is a counter reset: the counter restarted from zero, so the new value is what
 * it gained since. Each pair belongs to the window of its later sample, so consecutive windows partition
 * the deltas and their totals add up exactly.
 */
export function counterDeltas(samples: readonly Sample[], window: Window, baseline?: Sample): CounterDelta[] {
  const { start, end, base } = inWindow(samples, window, baseline);
  const out: CounterDelta[] = [];
  let prev = base;
  for (let i = start; i < end; i++) {
    const s = samples[i] as Sample;
    if (prev !== undefined)
      out.push({ prevT: prev.t, nextT: s.t, delta: s.v >= prev.v ? s.v - prev.v : s.v });
    prev = s;
  }
  return out;
}

/**
 * Exact counter increase over the window: the sum of `counterDeltas`. Without a baseline the first sample
 * in the window only sets the starting point. Deltas across gaps count: a counter loses nothing while
 * nobody scrapes it.
 */
export function counterIncrease(samples: readonly Sample[], window: Window, baseline?: Sample): number {
  let total = 0;
  for (const d of counterDeltas(samples, window, baseline)) total += d.delta;
  return total;
}

/**
 * The gauge as a step function: each sample holds its value until the next sample, for at most `maxGap`
 * seconds (beyond that the time is missing, not covered), and never past `window.to`. The baseline covers
 * the window from `from` on under the same rule, measured from its own t.
 */
export function steps(samples: readonly Sample[], window: Window, maxGap: number, baseline?: Sample): Step[] {
  const { start, end, base } = inWindow(samples, window, baseline);
  const out: Step[] = [];
  const hold = (p: Sample, until: number) => {
    const from = Math.max(p.t, window.from);
    const to = Math.min(p.t + maxGap, until);
    if (to > from) out.push([from, to, p.v]);
  };
  let prev = base;
  for (let i = start; i < end; i++) {
    const s = samples[i] as Sample;
    if (prev !== undefined) hold(prev, s.t);
    prev = s;
  }
  if (prev !== undefined) hold(prev, window.to);
  return out;
}

/**
 * Seconds of the window covered by at least one of the series, each under the rule of `steps`. Equal to
 * the covered time of one series holding every sample time of all of them: a sample stands until the
 * next sample of its own series, so the union of their steps is the same as with the merged times, which
 * are few as a computer's series are scraped together.
 */
export function unionCoveredSeconds(
  series: readonly { readonly samples: readonly Sample[]; readonly baseline?: Sample }[],
  window: Window,
  maxGap: number,
): number {
  let times: number[] = [];
  for (const { samples, baseline } of series) {
    const { start, end, base } = inWindow(samples, window, baseline);
    const own = base === undefined ? [] : [base.t];
    for (let i = start; i < end; i++) own.push((samples[i] as Sample).t);
    times = mergeSorted(times, own);
  }
  return coveredSeconds(
    steps(
      times.map((t) => ({ t, v: 0 })),
      window,
      maxGap,
    ),
  );
}

/** Two ascending lists merged into one, without duplicates. */
function mergeSorted(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    const next = y === undefined || (x !== undefined && x <= y) ? (x as number) : y;
    if (next === x) i++;
    if (next === y) j++;
    if (out.at(-1) !== next) out.push(next);
  }
  return out;
}

export function coveredSeconds(steps: readonly Step[]): number {
  let total = 0;
  for (const [start, end] of steps) total += end - start;
  return total;
}

/** Average of the step function over its covered time; undefined when nothing is covered. */
export function timeWeightedAverage(steps: readonly Step[]): number | undefined {
  let weighted = 0;
  let covered = 0;
  for (const [start, end, value] of steps) {
    weighted += value * (end - start);
    covered += end - start;
  }
  return covered > 0 ? weighted / covered : undefined;
}

/**
 * Combines step functions interval by interval: at every instant, `combine` receives each function's value
 * (undefined where it is not covered) and returns the combined value, or undefined to leave the instant
 * uncovered. Cost grows with the number of functions times their boundaries: meant for a few functions.
 */
export function zipSteps(
  functions: readonly (readonly Step[])[],
  combine: (values: readonly (number | undefined)[]) => number | undefined,
): Step[] {
  const unique = new Set<number>();
  for (const f of functions) for (const [start, end] of f) unique.add(start).add(end);
  const bounds = [...unique].sort((a, b) => a - b);
  const cursors = functions.map(() => 0);
  const out: Step[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const start = bounds[i] as number;
    const end = bounds[i + 1] as number;
    const values = functions.map((f, k) => {
      let c = cursors[k] as number;
      while (c < f.length && (f[c] as Step)[1] <= start) c++;
      cursors[k] = c;
      const step = f[c];
      return step !== undefined && step[0] <= start ? step[2] : undefined;
    });
    const value = combine(values);
    if (value === undefined) continue;
    const last = out.at(-1);
    // Merging equal neighbours keeps the output as short as the inputs' distinct values allow.
    if (last !== undefined && last[1] === start && last[2] === value) last[1] = end;
    else out.push([start, end, value]);
  }
  return out;
}

/**
 * The union of the covered intervals of several step functions (values ignored), as sorted disjoint steps
 * of value 1. Each input must be sorted by start, so a linear merge per input suffices.
 */
export function unionIntervals(functions: readonly (readonly Step[])[]): Step[] {
  let acc: Step[] = [];
  for (const f of functions) {
    const merged: Step[] = [];
    let i = 0;
    let j = 0;
    while (i < acc.length || j < f.length) {
      const a = acc[i];
      const b = f[j];
      const takeA = b === undefined || (a !== undefined && a[0] <= b[0]);
      const next = (takeA ? a : b) as Step;
      if (takeA) i++;
      else j++;
      if (next[1] <= next[0]) continue;
      const last = merged.at(-1);
      if (last !== undefined && next[0] <= last[1]) last[1] = Math.max(last[1], next[1]);
      else merged.push([next[0], next[1], 1]);
    }
    acc = merged;
  }
  return acc;
}

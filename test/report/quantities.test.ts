import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ComputerDay, computeQuantities, type SeriesWithBaseline } from '../../src/report/quantities.ts';
import {
  counterIncrease,
  coveredSeconds,
  type Sample,
  type Step,
  steps,
  timeWeightedAverage,
  unionCoveredSeconds,
  unionIntervals,
  type Window,
  zipSteps,
} from '../../src/report/samples.ts';

const DAY = 86_400;
const FROM = Date.UTC(2024, 2, 14) / 1000;
const WINDOW: Window = { from: FROM, to: FROM + DAY };
const SCRAPE = 60;
const MAX_GAP = 3 * SCRAPE;
const MIB = 2 ** 20;

function near(actual: number | undefined, expected: number, what = 'value'): void {
  assert.ok(actual !== undefined, `${what} is undefined, expected ${expected}`);
  const tolerance = 1e-9 * Math.max(1, Math.abs(expected));
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not ${expected}`);
}

/** Samples every SCRAPE seconds in [start, end) (offsets from FROM), value f(offset). */
function sampled(start: number, end: number, f: (offset: number) => number): Sample[] {
  const out: Sample[] = [];
  for (let offset = start; offset < end; offset += SCRAPE) out.push({ t: FROM + offset, v: f(offset) });
  return out;
}

/** A series over the whole day scraped every minute, with its baseline one scrape before midnight. */
function daySeries(labels: Record<string, string>, f: (offset: number) => number): SeriesWithBaseline {
  return { labels, baseline: { t: FROM - 30, v: f(-30) }, samples: sampled(30, DAY, f) };
}

function emptyDay(overrides: Partial<ComputerDay> = {}): ComputerDay {
  return {
    computer: 'COMP-1',
    date: '2024-03-14',
    window: WINDOW,
    maxGap: MAX_GAP,
    hostCpu: [],
    partitionCpu: [],
    partitionProcesses: [],
    partitionMemory: [],
    partitionDisk: [],
    partitionDiskIo: [],
    ...overrides,
  };
}

describe('counterIncrease', () => {
  it('counts a reset mid-window as a restart from zero', () => {
    const samples = [
      { t: FROM + 10, v: 110 },
      { t: FROM + 20, v: 130 },
      { t: FROM + 30, v: 5 },
      { t: FROM + 40, v: 25 },
    ];
    near(counterIncrease(samples, WINDOW, { t: FROM - 10, v: 100 }), 10 + 20 + 5 + 20);
  });

  it('without a baseline, the first sample in the window is only the starting point', () => {
    near(
      counterIncrease(
        [
          { t: FROM + 10, v: 110 },
          { t: FROM + 20, v: 130 },
        ],
        WINDOW,
      ),
      20,
    );
    assert.equal(counterIncrease([{ t: FROM + 10, v: 110 }], WINDOW), 0);
    assert.equal(counterIncrease([], WINDOW), 0);
  });

  it('starts at the last sample before midnight and leaves out the samples after the window', () => {
    const samples = [
      { t: FROM - 90, v: 1 },
      { t: FROM - 30, v: 10 },
      { t: FROM + 30, v: 16 },
      { t: FROM + DAY - 30, v: 40 },
      { t: FROM + DAY + 30, v: 1000 },
    ];
    // The baseline may come inside the samples or apart; an older separate one loses to a newer sample.
    near(counterIncrease(samples, WINDOW), 30);
    near(counterIncrease(samples.slice(2), WINDOW, { t: FROM - 30, v: 10 }), 30);
    near(counterIncrease(samples, WINDOW, { t: FROM - 200, v: 0 }), 30);
    // A sample exactly at `to` belongs to the window, one exactly at `from` is the baseline.
    near(
      counterIncrease(
        [
          { t: FROM, v: 3 },
          { t: FROM + DAY, v: 7 },
        ],
        WINDOW,
      ),
      4,
    );
  });

  it('counts the delta across a two-hour gap in full', () => {
    const samples = [...sampled(0, 3600, (o) => o), ...sampled(3600 + 7200, DAY, (o) => o)];
    near(counterIncrease(samples, WINDOW, { t: FROM, v: 0 }), DAY - SCRAPE);
  });

  it('two consecutive windows add up exactly to the window covering both', () => {
    // Irregular spacing, two resets, a gap: the pairs split between the windows by their later sample.
    const values = [5, 9, 9.5, 2, 40, 41.25, 0.5, 3, 1e6, 1e6 + 0.125, 7];
    const samples = values.map((v, i) => ({ t: FROM + i * 37 + (i % 3) * 11 + (i > 6 ? 5000 : 0), v }));
    const baseline = { t: FROM - 15, v: 4 };
    for (const split of [FROM, FROM + 37, FROM + 100, FROM + 130, FROM + 2000, FROM + 5300, FROM + 9000]) {
      const first = counterIncrease(samples, { from: FROM, to: split }, baseline);
      const second = counterIncrease(samples, { from: split, to: FROM + 9000 }, baseline);
      near(
        first + second,
        counterIncrease(samples, { from: FROM, to: FROM + 9000 }, baseline),
        `split ${split}`,
      );
    }
  });
});

describe('steps', () => {
  it('weighs each sample by the time it stood, with unequal spacing', () => {
    const window = { from: FROM, to: FROM + 500 };
    const f = steps(
      [
        { t: FROM, v: 10 },
        { t: FROM + 100, v: 20 },
        { t: FROM + 400, v: 40 },
      ],
      window,
      1000,
    );
    assert.deepEqual(f, [
      [FROM, FROM + 100, 10],
      [FROM + 100, FROM + 400, 20],
      [FROM + 400, FROM + 500, 40],
    ]);
    near(timeWeightedAverage(f), (10 * 100 + 20 * 300 + 40 * 100) / 500);
    assert.equal(coveredSeconds(f), 500);
  });

  it('leaves a gap longer than maxGap out of the covered time and of the average', () => {
    const samples = [
      { t: FROM, v: 1 },
      { t: FROM + 60, v: 100 },
      { t: FROM + 60 + 7200, v: 3 },
      { t: FROM + 60 + 7260, v: 3 },
    ];
    const f = steps(samples, { from: FROM, to: FROM + 7400 }, MAX_GAP);
    assert.deepEqual(f, [
      [FROM, FROM + 60, 1],
      [FROM + 60, FROM + 60 + MAX_GAP, 100],
      [FROM + 7260, FROM + 7320, 3],
      [FROM + 7320, FROM + 7320 + 80, 3],
    ]);
    assert.equal(coveredSeconds(f), 60 + MAX_GAP + 140);
    near(timeWeightedAverage(f), (60 + 100 * MAX_GAP + 3 * 140) / (60 + MAX_GAP + 140));
  });

  it('covers from midnight with the baseline and stops at the end of the window', () => {
    const f = steps(
      [
        { t: FROM + 30, v: 2 },
        { t: FROM + DAY - 30, v: 4 },
        { t: FROM + DAY + 30, v: 1000 },
      ],
      WINDOW,
      DAY,
      { t: FROM - 30, v: 1 },
    );
    assert.deepEqual(f, [
      [FROM, FROM + 30, 1],
      [FROM + 30, FROM + DAY - 30, 2],
      [FROM + DAY - 30, FROM + DAY, 4],
    ]);
    // A baseline older than maxGap covers nothing; the time before the first sample is missing.
    assert.deepEqual(
      steps([{ t: FROM + 30, v: 2 }], { from: FROM, to: FROM + 60 }, 60, { t: FROM - 61, v: 1 }),
      [[FROM + 30, FROM + 60, 2]],
    );
    assert.equal(timeWeightedAverage([]), undefined);
  });

  it('two consecutive windows add up to the window covering both', () => {
    const samples = sampled(-300, 3000, (o) => (o * 7919) % 1000);
    const both = steps(samples, { from: FROM, to: FROM + 2500 }, MAX_GAP);
    const first = steps(samples, { from: FROM, to: FROM + 1000 }, MAX_GAP);
    const second = steps(samples, { from: FROM + 1000, to: FROM + 2500 }, MAX_GAP);
    const weighted = (f: Step[]) => f.reduce((sum, [s, e, v]) => sum + v * (e - s), 0);
    near(coveredSeconds(first) + coveredSeconds(second), coveredSeconds(both));
    near(weighted(first) + weighted(second), weighted(both));
  });

  it('zips and unites step functions', () => {
    const a: Step[] = [
      [0, 10, 1],
      [10, 20, 2],
    ];
    const b: Step[] = [
      [5, 15, 10],
      [30, 40, 20],
    ];
    const sum = zipSteps([a, b], (v) => (v[0] ?? 0) + (v[1] ?? 0));
    assert.deepEqual(sum, [
      [0, 5, 1],
      [5, 10, 11],
      [10, 15, 12],
      [15, 20, 2],
      [20, 30, 0],
      [30, 40, 20],
    ]);
    assert.deepEqual(unionIntervals([a, b]), [
      [0, 20, 1],
      [30, 40, 1],
    ]);
  });
});

describe('computeQuantities', () => {
  it('host CPU is busy over all CPU seconds, busy being every mode but idle and iowait', () => {
    // Per second of the day, on each of two CPUs: user 0.25, system 0.125, steal 0.0625, iowait 0.0625, idle 0.5.
    const rates: Record<string, number> = {
      user: 0.25,
      system: 0.125,
      steal: 0.0625,
      iowait: 0.0625,
      idle: 0.5,
    };
    const hostCpu = ['0', '1'].flatMap((cpu) =>
      Object.entries(rates).map(([mode, rate]) =>
        daySeries({ cpu_mode: mode, cpu_logical_number: cpu }, (o) => 1e5 + rate * o),
      ),
    );
    const q = computeQuantities(emptyDay({ hostCpu }));
    near(q.host.cpuLoadPercent, 43.75);
    assert.equal(q.host.zeroEmissionRatio, -1);
    near(q.coverage, 1);
    assert.equal(q.partitions.size, 0);
  });

  it('host memory is the time-weighted average of limit minus available', () => {
    const limit = daySeries({}, () => 8 * 2 ** 30);
    // Available: 6 GiB until the sample at 06:00:30, 2 GiB from it on.
    const available = daySeries({}, (o) => (o < 6 * 3600 ? 6 : 2) * 2 ** 30);
    const q = computeQuantities(emptyDay({ memoryLimit: limit, memoryAvailable: available }));
    near(q.host.memoryUsedBytes, ((2 * 21630 + 6 * (DAY - 21630)) / DAY) * 2 ** 30);
    assert.equal(q.host.cpuLoadPercent, undefined);
    assert.equal(computeQuantities(emptyDay({ memoryLimit: limit })).host.memoryUsedBytes, undefined);
  });

  it('a partition active for one hour only has its CPU and memory averaged over that hour', () => {
    // Processes are seen from the sample at 10:00:30 to the one at 11:00:30 excluded, and use half a core
    // (user 0.375, system 0.125 per second) in that hour.
    const start = 10 * 3600 + 30;
    const inHour = (o: number) => o >= start && o < start + 3600;
    const partition = 'slappart3';
    const cpuBefore = (o: number, rate: number) => rate * Math.min(Math.max(o - start, 0), 3600);
    const q = computeQuantities(
      emptyDay({
        partitionCpu: [
          daySeries({ partition, cpu_mode: 'user' }, (o) => 50 + cpuBefore(o, 0.375)),
          daySeries({ partition, cpu_mode: 'system' }, (o) => 7 + cpuBefore(o, 0.125)),
        ],
        partitionProcesses: [daySeries({ partition }, (o) => (inHour(o) ? 3 : 0))],
        partitionMemory: [daySeries({ partition }, (o) => (inHour(o) ? 512 * MIB : 0))],
        partitionDisk: [daySeries({ partition }, () => 3 * 2 ** 30)],
      }),
    );
    const p = q.partitions.get(partition);
    assert.ok(p);
    near(p.cpuLoadPercent, 50, 'cpu');
    near(p.memoryUsedMiB, 512, 'memory');
    near(p.diskUsedMiB, 3072, 'disk');
    near(p.cpuSeconds, 1800, 'cpu seconds');
    assert.equal(p.diskReadBytes, undefined);
  });

  it('a partition with processes but no CPU has a zero CPU load', () => {
    const partition = 'slappart0';
    const q = computeQuantities(
      emptyDay({
        partitionCpu: [daySeries({ partition, cpu_mode: 'user' }, () => 12)],
        partitionProcesses: [daySeries({ partition }, () => 1)],
      }),
    );
    assert.equal(q.partitions.get(partition)?.cpuLoadPercent, 0);
    assert.equal(q.partitions.get(partition)?.cpuSeconds, 0);
    assert.equal(q.partitions.get(partition)?.memoryUsedMiB, undefined);
  });

  it('counts as active the scrape intervals where CPU grew though no process was seen', () => {
    // A job runs 3 s every minute between two scrapes: never in the processes gauge.
    const partition = 'ci-1';
    const q = computeQuantities(
      emptyDay({
        partitionCpu: [daySeries({ partition, cpu_mode: 'user' }, (o) => 3 * Math.floor((o + 30) / 60))],
        partitionProcesses: [daySeries({ partition }, () => 0)],
      }),
    );
    // Active from midnight to the last sample of the day (23:59:30): the CPU of the last 30 s is tomorrow's.
    near(q.partitions.get(partition)?.cpuLoadPercent, ((3 * 1440) / (DAY - 30)) * 100);
    near(q.partitions.get(partition)?.cpuSeconds, 3 * 1440);
  });

  it('a two-hour gap is missing time: out of coverage and averages, its counter delta in the totals', () => {
    const partition = 'slappart1';
    const gapStart = 12 * 3600;
    const gapEnd = gapStart + 2 * 3600;
    const hole = (s: SeriesWithBaseline): SeriesWithBaseline => ({
      ...s,
      samples: s.samples.filter((x) => x.t - FROM <= gapStart || x.t - FROM >= gapEnd),
    });
    // One full core all day; the disk grows 1 MiB per second while nobody looks.
    const q = computeQuantities(
      emptyDay({
        hostCpu: [hole(daySeries({ cpu_mode: 'idle' }, (o) => o))],
        partitionCpu: [hole(daySeries({ partition, cpu_mode: 'user' }, (o) => o))],
        partitionProcesses: [hole(daySeries({ partition }, () => 1))],
        partitionDisk: [hole(daySeries({ partition }, (o) => (o < gapStart ? 0 : MIB * 1000)))],
        partitionDiskIo: [
          hole(daySeries({ partition, disk_io_direction: 'read' }, (o) => 2 * o)),
          hole(daySeries({ partition, disk_io_direction: 'write' }, (o) => 3 * o)),
        ],
      }),
    );
    // The samples either side of the gap are at gapStart - 30 and gapEnd + 30: 7260 s apart, MAX_GAP covered.
    const missing = 7260 - MAX_GAP;
    near(q.coverage, (DAY - missing) / DAY, 'coverage');
    const p = q.partitions.get(partition);
    assert.ok(p);
    near(p.cpuSeconds, DAY, 'cpu seconds');
    near(p.diskReadBytes, 2 * DAY, 'read');
    near(p.diskWrittenBytes, 3 * DAY, 'written');
    near(p.cpuLoadPercent, 100, 'cpu load');
    // 0 MiB until gapStart - 30 + MAX_GAP, then 1000 MiB from gapEnd + 30.
    const zeroTime = gapStart - 30 + MAX_GAP;
    near(p.diskUsedMiB, (1000 * (DAY - gapEnd - 30)) / (zeroTime + DAY - gapEnd - 30), 'disk');
  });

  it('groups by partition and sums several series of one partition', () => {
    const q = computeQuantities(
      emptyDay({
        partitionMemory: [
          daySeries({ partition: 'b', instance: 'x' }, () => MIB),
          daySeries({ partition: 'b', instance: 'y' }, () => 2 * MIB),
        ],
        partitionProcesses: [daySeries({ partition: 'b' }, () => 1)],
        partitionDisk: [daySeries({ partition: 'a' }, () => 5 * MIB)],
      }),
    );
    assert.deepEqual([...q.partitions.keys()].sort(), ['a', 'b']);
    near(q.partitions.get('b')?.memoryUsedMiB, 3);
    near(q.partitions.get('a')?.diskUsedMiB, 5);
    assert.equal(q.partitions.get('a')?.cpuLoadPercent, undefined);
    assert.throws(
      () => computeQuantities(emptyDay({ partitionDisk: [daySeries({}, () => 1)] })),
      /partition label/,
    );
  });

  it('coverage is zero without any sample', () => {
    assert.equal(computeQuantities(emptyDay()).coverage, 0);
  });
});

describe('unionCoveredSeconds', () => {
  it('equals the union of the steps of every series', () => {
    let x = 7;
    const random = () => {
      x = (x * 16807) % 2147483647;
      return x / 2147483647;
    };
    const window = { from: FROM, to: FROM + 20_000 };
    for (let round = 0; round < 20; round++) {
      const series = Array.from({ length: 1 + (round % 5) }, () => {
        let t = FROM - 500 * random();
        const samples: Sample[] = [];
        while (t < window.to + 300) {
          samples.push({ t, v: 0 });
          t += random() < 0.05 ? 2000 * random() : 200 * random();
        }
        return { samples };
      });
      const expected = coveredSeconds(unionIntervals(series.map((s) => steps(s.samples, window, MAX_GAP))));
      near(unionCoveredSeconds(series, window, MAX_GAP), expected, `round ${round}`);
    }
  });
});

// The quantities of one computer's consumption journal for one UTC day, from raw Prometheus samples.
//
// Host:
// - cpuLoadPercent: busy CPU seconds / all CPU seconds × 100 over every logical CPU, both exact counter
//   increases. Busy is every mode but idle and iowait, as psutil's cpu_percent (steal counts as busy).
//   Being a ratio of two increases over the same pairs, it is unaffected by scrape gaps.
// - memoryUsedBytes: time-weighted average of (limit − available), the difference taken pointwise where
//   both gauges are covered.
// - zeroEmissionRatio: always -1 (unknown): hostmeter measures no heating.
//
// Per partition (SlapOS averages its per-minute samples over the minutes in which the partition had a
// process, not over the day; the time-weighted equivalent here):
// - active time: the covered time in which the partition had at least one process, plus the scrape
//   intervals in which its CPU counter grew (processes that started and exited between two scrapes are not
//   in the processes gauge, but their CPU is counted, so their interval must count too).
// - cpuLoadPercent: CPU seconds (both modes) / active seconds × 100, in % of one core (above 100 on several
//   cores). Numerator and denominator cover the same time: as a gauge sample stands for at most maxGap
//   seconds, a counter delta across a longer gap counts for its first maxGap seconds only, pro rata (the
//   rate assumed even over the gap), so an exporter outage neither inflates nor dilutes the average.
//   Edge effect: a delta belongs to the window of its later sample, the time to the window it lies in, so
//   the scrape interval around midnight can shift up to one interval of CPU between consecutive days.
// - memoryUsedMiB: time-weighted average of resident memory over the active time, / 2^20.
// - diskUsedMiB: time-weighted average of the measured directory size over its covered time, / 2^20 (the
//   gauge repeats the hourly measurement at every scrape).
// - cpuSeconds, diskReadBytes, diskWrittenBytes (extended profile): exact counter increases, gaps included.
// Several series for one partition and resource (labels other than the partition's) are summed.
//
// coverage: the union of the covered time of every series of the day / the window's length.

import {
  counterDeltas,
  counterIncrease,
  coveredSeconds,
  type Sample,
  type Series,
  type Step,
  steps,
  timeWeightedAverage,
  unionCoveredSeconds,
  unionIntervals,
  type Window,
  zipSteps,
} from './samples.ts';

export interface SeriesWithBaseline extends Series {
  /** The last sample at or before the window's start, if any. */
  readonly baseline?: Sample;
}

export interface ComputerDay {
  readonly computer: string;
  /** YYYY-MM-DD, UTC. */
  readonly date: string;
  readonly window: Window;
  /** Longest time a sample stands for its series; a longer gap between samples is missing time. */
  readonly maxGap: number;
  /** system_cpu_time_seconds_total: one series per logical CPU and mode, labels include cpu_mode. */
  readonly hostCpu: readonly SeriesWithBaseline[];
  /** system_memory_limit_bytes. */
  readonly memoryLimit?: SeriesWithBaseline;
  /** system_memory_linux_available_bytes. */
  readonly memoryAvailable?: SeriesWithBaseline;
  /** hostmeter_partition_cpu_time_seconds_total, both modes; every partition series has label `partition`. */
  readonly partitionCpu: readonly SeriesWithBaseline[];
  /** hostmeter_partition_processes. */
  readonly partitionProcesses: readonly SeriesWithBaseline[];
  /** hostmeter_partition_memory_usage_bytes. */
  readonly partitionMemory: readonly SeriesWithBaseline[];
  /** hostmeter_partition_disk_usage_bytes. */
  readonly partitionDisk: readonly SeriesWithBaseline[];
  /** hostmeter_partition_disk_io_bytes_total, label disk_io_direction (read, write). */
  readonly partitionDiskIo: readonly SeriesWithBaseline[];
}

export interface PartitionQuantities {
  cpuLoadPercent?: number;
  memoryUsedMiB?: number;
  diskUsedMiB?: number;
  cpuSeconds?: number;
  diskReadBytes?: number;
  diskWrittenBytes?: number;
}

export interface Quantities {
  host: { cpuLoadPercent?: number; memoryUsedBytes?: number; zeroEmissionRatio: number };
  /** Keyed by partition name, in no particular order (the journal sorts). */
  partitions: Map<string, PartitionQuantities>;
  /** 0..1 */
  coverage: number;
}

const MIB = 2 ** 20;
const IDLE_MODES: ReadonlySet<string> = new Set(['idle', 'iowait']);
export const UNKNOWN_ZERO_EMISSION_RATIO = -1;

const both = (values: readonly (number | undefined)[], f: (a: number, b: number) => number | undefined) => {
  const [a, b] = values;
  return a === undefined || b === undefined ? undefined : f(a, b);
};

/** Pointwise sum where at least one function is covered. */
const sumDefined = (values: readonly (number | undefined)[]): number | undefined => {
  let sum: number | undefined;
  for (const v of values) if (v !== undefined) sum = (sum ?? 0) + v;
  return sum;
};

function partitionOf(series: Series): string {
  const partition = series.labels.partition;
  if (partition === undefined || partition === '') {
    throw new Error(`partition series without a partition label: ${JSON.stringify(series.labels)}`);
  }
  return partition;
}

function byPartition(series: readonly SeriesWithBaseline[]): Map<string, SeriesWithBaseline[]> {
  const out = new Map<string, SeriesWithBaseline[]>();
  for (const s of series) {
    const partition = partitionOf(s);
    const list = out.get(partition);
    if (list === undefined) out.set(partition, [s]);
    else list.push(s);
  }
  return out;
}

export function computeQuantities(day: ComputerDay): Quantities {
  const { window, maxGap } = day;
  const increase = (series: readonly SeriesWithBaseline[]): number | undefined =>
    series.length === 0
      ? undefined
      : series.reduce((sum, s) => sum + counterIncrease(s.samples, window, s.baseline), 0);
  const stepsOf = (s: SeriesWithBaseline): Step[] => steps(s.samples, window, maxGap, s.baseline);
  const gauge = (series: readonly SeriesWithBaseline[]): Step[] =>
    series.length === 1
      ? stepsOf(series[0] as SeriesWithBaseline)
      : zipSteps(series.map(stepsOf), sumDefined);
  const average = (f: readonly Step[], scale = 1): number | undefined => {
    const avg = timeWeightedAverage(f);
    return avg === undefined ? undefined : avg / scale;
  };

  const allCpu = increase(day.hostCpu) ?? 0;
  const busyCpu = increase(day.hostCpu.filter((s) => !IDLE_MODES.has(s.labels.cpu_mode ?? ''))) ?? 0;
  const hostMemory =
    day.memoryLimit !== undefined && day.memoryAvailable !== undefined
      ? zipSteps([stepsOf(day.memoryLimit), stepsOf(day.memoryAvailable)], (v) =>
          both(v, (limit, available) => limit - available),
        )
      : [];

  const cpu = byPartition(day.partitionCpu);
  const processes = byPartition(day.partitionProcesses);
  const memory = byPartition(day.partitionMemory);
  const disk = byPartition(day.partitionDisk);
  const io = byPartition(day.partitionDiskIo);
  const names = new Set([...cpu.keys(), ...processes.keys(), ...memory.keys(), ...disk.keys(), ...io.keys()]);

  const partitions = new Map<string, PartitionQuantities>();
  for (const name of names) {
    const cpuSeries = cpu.get(name) ?? [];
    const deltas = cpuSeries.flatMap((s) => counterDeltas(s.samples, window, s.baseline));
    // A pair spanning a gap stands for its first maxGap seconds only, as in `steps`.
    const covered = deltas.map((d) => {
      const length = d.nextT - d.prevT;
      return length <= maxGap
        ? { ...d, end: d.nextT }
        : { ...d, end: d.prevT + maxGap, delta: (d.delta * maxGap) / length };
    });
    const growing: Step[] = covered
      .filter((d) => d.delta > 0)
      .map((d): Step => [Math.max(d.prevT, window.from), d.end, 1])
      .sort((a, b) => a[0] - b[0]);
    const withProcesses = gauge(processes.get(name) ?? []).filter(([, , n]) => n > 0);
    const active = unionIntervals([withProcesses, growing]);
    const activeSeconds = coveredSeconds(active);
    const cpuInCoveredTime = covered.reduce((sum, d) => sum + d.delta, 0);
    const ioSeries = io.get(name) ?? [];
    partitions.set(name, {
      cpuLoadPercent: activeSeconds > 0 ? (cpuInCoveredTime / activeSeconds) * 100 : undefined,
      memoryUsedMiB: average(
        zipSteps([gauge(memory.get(name) ?? []), active], (v) => both(v, (bytes) => bytes)),
        MIB,
      ),
      diskUsedMiB: average(gauge(disk.get(name) ?? []), MIB),
      cpuSeconds: cpuSeries.length === 0 ? undefined : deltas.reduce((sum, d) => sum + d.delta, 0),
      diskReadBytes: increase(ioSeries.filter((s) => s.labels.disk_io_direction === 'read')),
      diskWrittenBytes: increase(ioSeries.filter((s) => s.labels.disk_io_direction === 'write')),
    });
  }

  const everySeries = [
    ...day.hostCpu,
    ...(day.memoryLimit === undefined ? [] : [day.memoryLimit]),
    ...(day.memoryAvailable === undefined ? [] : [day.memoryAvailable]),
    ...day.partitionCpu,
    ...day.partitionProcesses,
    ...day.partitionMemory,
    ...day.partitionDisk,
    ...day.partitionDiskIo,
  ];
  const length = window.to - window.from;
  return {
    host: {
      cpuLoadPercent: allCpu > 0 ? (busyCpu / allCpu) * 100 : undefined,
      memoryUsedBytes: average(hostMemory),
      zeroEmissionRatio: UNKNOWN_ZERO_EMISSION_RATIO,
    },
    partitions,
    coverage: length > 0 ? unionCoveredSeconds(everySeries, window, maxGap) / length : 0,
  };
}

// A synthetic fleet whose every sample follows from a few parameters, written as OpenMetrics text for
// `promtool tsdb create-blocks-from openmetrics`, so the report's quantities can be computed analytically.
//
// Times are seconds relative to DAY_START (midnight UTC starting DAY). Each computer is scraped every STEP
// seconds at DAY_START + STEP·k + phase, from DATA_FROM (the evening before) to DATA_TO (the morning after),
// except during its gaps. Activity intervals, reset times and gauge change points are sample times, so
// every counter delta and every held gauge value is exact.

export const DAY = '2026-01-14';
export const NEXT_DAY = '2026-01-15';
export const DAY_START = Date.UTC(2026, 0, 14) / 1000;
export const DAY_SECONDS = 86_400;
export const STEP = 60;
export const HOUR = 3600;
/** Data starts at 20:00 the day before and ends before 04:00 the day after. */
export const DATA_FROM = -4 * HOUR;
export const DATA_TO = DAY_SECONDS + 4 * HOUR;
export const MIB = 2 ** 20;

/** [start, end) in seconds relative to DAY_START. */
export interface Interval {
  readonly from: number;
  readonly to: number;
}

/** A piecewise constant function: each [from, value] holds from `from` until the next entry's `from`. */
export type Piecewise = readonly (readonly [from: number, value: number])[];

export interface PartitionSpec {
  readonly name: string;
  /** CPU seconds per second while active (user + system: 3/4 user, 1/4 system). */
  readonly cpuRate: number;
  readonly active: readonly Interval[];
  /** The processes gauge while active (0 outside). */
  readonly processes: number;
  /** Resident memory while active. */
  readonly memory: Piecewise;
  /** Resident memory outside the active time (page cache of a cgroup, say): not part of the average. */
  readonly idleMemory: number;
  /** Directory size; no series when absent. */
  readonly disk?: Piecewise;
  /** Bytes per second read and written while active. */
  readonly readRate: number;
  readonly writeRate: number;
  /** Counter value at DATA_FROM, so counters do not start at zero. */
  readonly base: number;
}

export interface ComputerSpec {
  readonly instance: string;
  /** Seconds after each whole minute at which the computer is scraped, 1..59. */
  readonly phase: number;
  /** Per logical CPU: CPU seconds per second spent in each mode (summing to 1). */
  readonly cpus: readonly Readonly<Record<string, number>>[];
  readonly memoryLimit: number;
  readonly available: Piecewise;
  /** No sample in [from, to). */
  readonly gaps: readonly Interval[];
  /** Every counter of the computer restarts from zero at this time (20 s after a sample). */
  readonly reset?: number;
  readonly partitions: readonly PartitionSpec[];
}

/** CPU modes hostmeter's report counts as idle. */
export const IDLE_MODES: ReadonlySet<string> = new Set(['idle', 'iowait']);
export const USER_SHARE = 0.75;

const always: readonly Interval[] = [{ from: DATA_FROM, to: DATA_TO }];

/**
 * c1: a reboot at 13:00:35 resets every counter; slappart0 busy all day, slappart1 active 14:00–15:00
 * only (on more than one core), slappart2 idle all day.
 * c2: scraped nowhere between 10:00 and 12:00; slappart0 busy all day, its disk measured anew in the gap.
 * c3: slappart0 active around both midnights (23:00–01:00); processes outside any partition.
 */
export const FLEET: readonly ComputerSpec[] = [
  {
    instance: 'c1',
    phase: 15,
    cpus: [
      { user: 0.25, system: 0.125, idle: 0.5, iowait: 0.0625, steal: 0.0625 },
      { user: 0.5, system: 0.25, idle: 0.25, iowait: 0, steal: 0 },
    ],
    memoryLimit: 8 * 2 ** 30,
    available: [
      [DATA_FROM, 6 * 2 ** 30],
      [6 * HOUR + 15, 5 * 2 ** 30],
      [20 * HOUR + 15, 7 * 2 ** 30],
    ],
    gaps: [],
    reset: 13 * HOUR + 15 + 20,
    partitions: [
      {
        name: 'slappart0',
        cpuRate: 0.5,
        active: always,
        processes: 3,
        memory: [
          [DATA_FROM, 100 * MIB],
          [6 * HOUR + 15, 300 * MIB],
        ],
        idleMemory: 0,
        disk: [
          [DATA_FROM, 1024 * MIB],
          [12 * HOUR + 15, 1536 * MIB],
        ],
        readRate: 4096,
        writeRate: 1024,
        base: 1000,
      },
      {
        name: 'slappart1',
        cpuRate: 1.5,
        active: [{ from: 14 * HOUR + 15, to: 15 * HOUR + 15 }],
        processes: 1,
        memory: [
          [DATA_FROM, 50 * MIB],
          [14 * HOUR + 30 * 60 + 15, 70 * MIB],
        ],
        idleMemory: MIB,
        readRate: 0,
        writeRate: 65_536,
        base: 20,
      },
      {
        name: 'slappart2',
        cpuRate: 0,
        active: [],
        processes: 0,
        memory: [[DATA_FROM, 0]],
        idleMemory: 0,
        disk: [[DATA_FROM, 0]],
        readRate: 0,
        writeRate: 0,
        base: 7.25,
      },
    ],
  },
  {
    instance: 'c2',
    phase: 30,
    cpus: [
      { user: 0.125, system: 0.125, idle: 0.625, iowait: 0.125, steal: 0 },
      { user: 0.0625, system: 0.0625, idle: 0.875, iowait: 0, steal: 0 },
    ],
    memoryLimit: 4 * 2 ** 30,
    available: [
      [DATA_FROM, 3 * 2 ** 30],
      [18 * HOUR + 30, 2 * 2 ** 30],
    ],
    gaps: [{ from: 10 * HOUR, to: 12 * HOUR }],
    partitions: [
      {
        name: 'slappart0',
        cpuRate: 0.25,
        active: always,
        processes: 2,
        memory: [
          [DATA_FROM, 64 * MIB],
          [18 * HOUR + 30, 128 * MIB],
        ],
        idleMemory: 0,
        disk: [
          [DATA_FROM, 2048 * MIB],
          [11 * HOUR + 30, 2560 * MIB],
        ],
        readRate: 512,
        writeRate: 256,
        base: 5000,
      },
    ],
  },
  {
    instance: 'c3',
    phase: 45,
    cpus: [
      { user: 0.375, system: 0.125, idle: 0.5, iowait: 0, steal: 0 },
      { user: 0.125, system: 0.125, idle: 0.5, iowait: 0.25, steal: 0 },
    ],
    memoryLimit: 16 * 2 ** 30,
    available: [[DATA_FROM, 12 * 2 ** 30]],
    gaps: [],
    partitions: [
      {
        name: 'slappart0',
        cpuRate: 0.75,
        active: [
          { from: -HOUR + 45, to: HOUR + 45 },
          { from: 23 * HOUR + 45, to: 25 * HOUR + 45 },
        ],
        processes: 4,
        memory: [
          [DATA_FROM, 80 * MIB],
          [12 * HOUR + 45, 40 * MIB],
        ],
        idleMemory: 2 * MIB,
        disk: [[DATA_FROM, 300 * MIB]],
        readRate: 8192,
        writeRate: 2048,
        base: 42,
      },
      {
        name: '_unassigned',
        cpuRate: 0.125,
        active: always,
        processes: 40,
        memory: [[DATA_FROM, 500 * MIB]],
        idleMemory: 0,
        readRate: 128,
        writeRate: 64,
        base: 300,
      },
    ],
  },
];

/** The value of a piecewise constant function at t. */
export function valueAt(f: Piecewise, t: number): number {
  let value = Number.NaN;
  for (const [from, v] of f) if (from <= t) value = v;
  return value;
}

/** Length of the intersection of `intervals` with [from, to]. */
export function measure(intervals: readonly Interval[], from: number, to: number): number {
  let total = 0;
  for (const i of intervals) total += Math.max(0, Math.min(i.to, to) - Math.max(i.from, from));
  return total;
}

const isActive = (intervals: readonly Interval[], t: number): boolean =>
  intervals.some((i) => i.from <= t && t < i.to);

export function sampleTimes(c: ComputerSpec): number[] {
  const times: number[] = [];
  for (let t = DATA_FROM + c.phase; t < DATA_TO; t += STEP) {
    if (!c.gaps.some((g) => g.from <= t && t < g.to)) times.push(t);
  }
  return times;
}

/** A counter growing at `rate` during `active`, from `base` at DATA_FROM, restarting from zero at `reset`. */
function counterAt(
  rate: number,
  active: readonly Interval[],
  base: number,
  t: number,
  reset?: number,
): number {
  if (reset !== undefined && t >= reset) return rate * measure(active, reset, t);
  return base + rate * measure(active, DATA_FROM, t);
}

interface Family {
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly series: { labels: Record<string, string>; value: (t: number) => number; times: number[] }[];
}

function families(fleet: readonly ComputerSpec[]): Family[] {
  const hostCpu: Family = { name: 'system_cpu_time_seconds', type: 'counter', series: [] };
  const limit: Family = { name: 'system_memory_limit_bytes', type: 'gauge', series: [] };
  const available: Family = { name: 'system_memory_linux_available_bytes', type: 'gauge', series: [] };
  const cpu: Family = { name: 'hostmeter_partition_cpu_time_seconds', type: 'counter', series: [] };
  const processes: Family = { name: 'hostmeter_partition_processes', type: 'gauge', series: [] };
  const memory: Family = { name: 'hostmeter_partition_memory_usage_bytes', type: 'gauge', series: [] };
  const disk: Family = { name: 'hostmeter_partition_disk_usage_bytes', type: 'gauge', series: [] };
  const io: Family = { name: 'hostmeter_partition_disk_io_bytes', type: 'counter', series: [] };
  for (const c of fleet) {
    const times = sampleTimes(c);
    const instance = c.instance;
    for (const [n, modes] of c.cpus.entries()) {
      for (const [mode, rate] of Object.entries(modes)) {
        hostCpu.series.push({
          labels: { instance, cpu_logical_number: String(n), cpu_mode: mode },
          value: (t) => counterAt(rate, always, 100_000 * (n + 1), t, c.reset),
          times,
        });
      }
    }
    limit.series.push({ labels: { instance }, value: () => c.memoryLimit, times });
    available.series.push({ labels: { instance }, value: (t) => valueAt(c.available, t), times });
    for (const p of c.partitions) {
      const labels = { instance, partition: p.name };
      const counter =
        (rate: number) =>
        (t: number): number =>
          counterAt(rate, p.active, p.base, t, c.reset);
      cpu.series.push(
        { labels: { ...labels, cpu_mode: 'user' }, value: counter(p.cpuRate * USER_SHARE), times },
        { labels: { ...labels, cpu_mode: 'system' }, value: counter(p.cpuRate * (1 - USER_SHARE)), times },
      );
      processes.series.push({
        labels,
        value: (t) => (isActive(p.active, t) ? p.processes : 0),
        times,
      });
      memory.series.push({
        labels,
        value: (t) => (isActive(p.active, t) ? valueAt(p.memory, t) : p.idleMemory),
        times,
      });
      const diskUsage = p.disk;
      if (diskUsage !== undefined) disk.series.push({ labels, value: (t) => valueAt(diskUsage, t), times });
      io.series.push(
        { labels: { ...labels, disk_io_direction: 'read' }, value: counter(p.readRate), times },
        { labels: { ...labels, disk_io_direction: 'write' }, value: counter(p.writeRate), times },
      );
    }
  }
  return [hostCpu, limit, available, cpu, processes, memory, disk, io];
}

const labelText = (labels: Record<string, string>): string =>
  Object.entries(labels)
    .map(([name, value]) => `${name}="${value}"`)
    .join(',');

/**
 * The fleet's samples as OpenMetrics text. promtool silently drops a sample older than the previous one of
 * its series, so each series is written whole, in time order.
 */
export function openMetrics(fleet: readonly ComputerSpec[] = FLEET): string {
  const lines: string[] = [];
  for (const family of families(fleet)) {
    lines.push(`# TYPE ${family.name} ${family.type}`);
    const sampleName = family.type === 'counter' ? `${family.name}_total` : family.name;
    for (const s of family.series) {
      const prefix = `${sampleName}{${labelText(s.labels)}} `;
      for (const t of s.times) lines.push(`${prefix}${s.value(t)} ${DAY_START + t}`);
    }
  }
  lines.push('# EOF', '');
  return lines.join('\n');
}

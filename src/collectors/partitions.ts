// Per-partition process usage: one /proc pass per scrape feeds every instrument. The counters come
// from the accounting state machine (src/accounting/accountant.ts); see docs/accounting.md.

import { renameSync, statSync, writeFileSync } from 'node:fs';
import { Gauge } from 'prom-client';
import {
  Accountant,
  type AccountantState,
  type CpuSeconds,
  type ProcessSnapshot,
} from '../accounting/accountant.ts';
import { type Usage, zeroUsage } from '../accounting/usage.ts';
import { procPath, readOptionalText, readText, rootPath } from '../io/host-files.ts';
import { type ProcessReading, readProcessDetails, scanProcesses } from '../io/proc-scan.ts';
import type { Logger } from '../log.ts';
import { parsePasswd } from '../parse/passwd.ts';
import { parseProcStat } from '../parse/proc-stat.ts';
import { DiskUsageMonitor } from '../partitions/disk-usage.ts';
import { PartitionResolver, type Resolution } from '../partitions/resolver.ts';
import { prometheusName } from '../prometheus-names.ts';
import {
  type CollectorContext,
  type CollectorDefinition,
  type MetricSpec,
  Observations,
  type ObservedMetricSpec,
  SetupError,
} from './collector.ts';

/** USER_HZ: /proc/PID/stat times are in hundredths of a second on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;
/** Processes read between two yields to the event loop: about 8 ms of work here (proc-scan.ts). */
const SCAN_CHUNK = 256;

const PARTITION = ['partition'] as const;

export const PARTITION_METRICS = {
  cpuTime: {
    name: 'hostmeter.partition.cpu.time',
    kind: 'counter',
    unit: 's',
    description: 'CPU time used by the processes of the partition, exited ones included.',
    labels: ['partition', 'cpu.mode'],
  },
  memory: {
    name: 'hostmeter.partition.memory.usage',
    kind: 'gauge',
    unit: 'By',
    description: 'Resident memory of the processes of the partition (sum of their RSS).',
    labels: PARTITION,
  },
  processes: {
    name: 'hostmeter.partition.processes',
    kind: 'gauge',
    unit: '{process}',
    description: 'Processes in the partition.',
    labels: PARTITION,
  },
  threads: {
    name: 'hostmeter.partition.threads',
    kind: 'gauge',
    unit: '{thread}',
    description: 'Threads of the processes in the partition.',
    labels: PARTITION,
  },
  diskIo: {
    name: 'hostmeter.partition.disk.io',
    kind: 'counter',
    unit: 'By',
    description:
      'Bytes the partition read from or wrote to storage (read_bytes, write_bytes of /proc/PID/io).',
    labels: ['partition', 'disk.io.direction'],
  },
  ioSyscalls: {
    name: 'hostmeter.partition.io.syscalls',
    kind: 'counter',
    unit: '{syscall}',
    description: 'Read and write system calls made by the partition (syscr, syscw of /proc/PID/io).',
    labels: ['partition', 'disk.io.direction'],
  },
  contextSwitches: {
    name: 'hostmeter.partition.context_switches',
    kind: 'counter',
    unit: '{context_switch}',
    description: 'Voluntary and involuntary context switches of the main threads of the partition.',
    labels: ['partition', 'process.context_switch_type'],
  },
  pageFaults: {
    name: 'hostmeter.partition.paging.faults',
    kind: 'counter',
    unit: '{fault}',
    description: 'Major and minor page faults of the partition, reaped children included.',
    labels: ['partition', 'process.paging.fault_type'],
  },
  openFds: {
    name: 'hostmeter.partition.open_file_descriptors',
    kind: 'gauge',
    unit: '{file_descriptor}',
    description: 'Open file descriptors of the processes of the partition whose fd table could be read.',
    labels: PARTITION,
  },
  readErrors: {
    name: 'hostmeter.partition.read_errors',
    kind: 'counter',
    unit: '{error}',
    description:
      'Per-process /proc files that could not be read, by file and reason (vanished, permission, other); without root, io and fd reads fail here instead of reporting zeros.',
    labels: ['file', 'reason'],
  },
  diskUsage: {
    name: 'hostmeter.partition.disk.usage',
    kind: 'gauge',
    unit: 'By',
    description: 'Allocated size of the partition directory, measured in the background.',
    labels: PARTITION,
    availability: 'for partitions whose rule has a disk-usage directory, once it has been measured',
  },
  diskUsageTime: {
    name: 'hostmeter.partition.disk.usage.time',
    kind: 'gauge',
    unit: 's',
    description: 'When the partition directory size was last measured, in Unix seconds.',
    labels: PARTITION,
    availability: 'for partitions whose rule has a disk-usage directory, once it has been measured',
  },
} as const satisfies Record<string, ObservedMetricSpec>;

/** Recorded through prom-client rather than observed: its series must leave the output with their process. */
export const TOP_PROCESS_SPEC: MetricSpec = {
  name: 'hostmeter.top_process.cpu.utilization',
  kind: 'gauge',
  unit: '1',
  description: 'CPU used by the busiest processes since the previous scrape, as a fraction of one CPU.',
  labels: ['pid', 'comm', 'partition'],
  availability:
    'with --processes.top above 0, for the processes that used the most CPU since the previous scrape',
};

export const TOP_PROCESS_METRIC = prometheusName(TOP_PROCESS_SPEC.name, TOP_PROCESS_SPEC.unit, true).name;

interface SavedState {
  readonly version: 1;
  /** Boot time of the machine that wrote the state: process identities mean nothing across a reboot. */
  readonly bootTime: number;
  readonly accountant: AccountantState;
  readonly cgroupCpu: Record<string, string>;
  readonly diskUsage: Record<string, string>;
  /** hostmeter_partition_read_errors_total is a counter too: it must not go back to zero on restart. */
  readonly readErrors: Record<string, number>;
}

const keyOf = (reading: ProcessReading): string => `${reading.stat.pid}:${reading.stat.startTicks}`;

function snapshotOf(reading: ProcessReading, partition: string): ProcessSnapshot {
  const { stat, status, io } = reading;
  // An unreadable io file is NaN, not 0, so the accountant keeps the last baseline instead of counting
  // the whole counter again when it becomes readable.
  const own: Usage = {
    cpuUser: stat.userTicks / TICKS_PER_SECOND,
    cpuSystem: stat.systemTicks / TICKS_PER_SECOND,
    readBytes: io?.readBytes ?? Number.NaN,
    writtenBytes: io?.writtenBytes ?? Number.NaN,
    readSyscalls: io?.readSyscalls ?? Number.NaN,
    writeSyscalls: io?.writeSyscalls ?? Number.NaN,
    minorFaults: stat.minorFaults,
    majorFaults: stat.majorFaults,
    voluntarySwitches: status.voluntaryContextSwitches,
    involuntarySwitches: status.involuntaryContextSwitches,
  };
  const children: Usage = {
    ...zeroUsage(),
    cpuUser: stat.childUserTicks / TICKS_PER_SECOND,
    cpuSystem: stat.childSystemTicks / TICKS_PER_SECOND,
    minorFaults: stat.childMinorFaults,
    majorFaults: stat.childMajorFaults,
  };
  return { key: keyOf(reading), pid: stat.pid, ppid: stat.ppid, partition, own, children };
}

/** user_usec and system_usec of a cgroup v2 cpu.stat, in seconds. */
function parseCgroupCpu(text: string): CpuSeconds | undefined {
  const field = (name: string): number | undefined => {
    const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
    return match?.[1] === undefined ? undefined : Number(match[1]) / 1e6;
  };
  const user = field('user_usec');
  const system = field('system_usec');
  return user === undefined || system === undefined ? undefined : { user, system };
}

/** The host's user names, re-read when /etc/passwd changes (users are added while the exporter runs). */
class UserNames {
  readonly #path: string;
  #mtimeMs = -1;
  #names: ReadonlyMap<number, string> = new Map();

  constructor(path: string) {
    this.#path = path;
  }

  refresh(): void {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(this.#path).mtimeMs;
    } catch {
      return;
    }
    if (mtimeMs === this.#mtimeMs) return;
    this.#mtimeMs = mtimeMs;
    this.#names = parsePasswd(readText(this.#path));
  }

  has(name: string): boolean {
    return [...this.#names.values()].includes(name);
  }

  /** The user name, or the numeric uid when passwd does not know it. */
  name(uid: number): string {
    return this.#names.get(uid) ?? String(uid);
  }
}

class PartitionCollector {
  readonly #ctx: CollectorContext;
  readonly #log: Logger;
  readonly #users: UserNames;
  readonly #resolver: PartitionResolver;
  #accountant = new Accountant();
  readonly #readErrors = new Map<string, number>();
  /** Per partition, the cgroup whose cpu.stat gives its CPU, and the directory whose size is measured. */
  readonly #cgroupCpu = new Map<string, string>();
  readonly #diskPaths = new Map<string, string>();
  readonly #diskUsage: DiskUsageMonitor;
  readonly #top: Gauge | undefined;
  /** CPU seconds per process at the previous scrape, for the top processes' rates. */
  #previousCpu = new Map<string, number>();
  #previousTime = 0;
  readonly #saveTimer: NodeJS.Timeout | undefined;

  constructor(ctx: CollectorContext) {
    this.#ctx = ctx;
    this.#log = ctx.log;
    const settings = ctx.settings.partitions;
    this.#users = new UserNames(rootPath(ctx.paths, 'etc/passwd'));
    this.#users.refresh();
    for (const rule of settings.rules) {
      if (rule.user !== undefined && !this.#users.has(rule.user)) {
        throw new SetupError(
          `partitions.rules[${rule.index}].user: unknown user ${JSON.stringify(rule.user)} (not in ${rootPath(ctx.paths, 'etc/passwd')})`,
        );
      }
    }
    this.#resolver = new PartitionResolver({
      rules: settings.rules,
      inherit: settings.inherit,
      userName: (uid) => this.#users.name(uid),
      details: (pid, needs) => {
        const { details, failures } = readProcessDetails(ctx.paths, pid, needs);
        for (const failure of failures) this.#countError(failure);
        return details;
      },
    });
    this.#diskUsage = new DiskUsageMonitor({
      intervalMs: settings.diskUsageIntervalMs,
      concurrency: settings.diskUsageConcurrency,
      log: ctx.log,
    });
    if (settings.top > 0) {
      this.#top = new Gauge({
        name: TOP_PROCESS_METRIC,
        help: TOP_PROCESS_SPEC.description,
        labelNames: TOP_PROCESS_SPEC.labels,
        registers: [ctx.registry],
      });
    }
    this.#restore();
    if (settings.stateFile !== '') {
      this.#saveTimer = setInterval(() => this.save(), settings.stateSaveIntervalMs);
      this.#saveTimer.unref();
    }
  }

  #countError(key: string): void {
    this.#readErrors.set(key, (this.#readErrors.get(key) ?? 0) + 1);
  }

  #bootTime(): number {
    return parseProcStat(readText(procPath(this.#ctx.paths, 'stat'))).bootTime;
  }

  #restore(): void {
    const file = this.#ctx.settings.partitions.stateFile;
    if (file === '') return;
    const text = readOptionalText(file);
    if (text === undefined) {
      this.#log.info('no partition state file yet: counters start from zero', { file });
      return;
    }
    try {
      const state = JSON.parse(text) as SavedState;
      if (state.version !== 1 || typeof state.accountant?.totals !== 'object')
        throw new Error('unknown format');
      this.#accountant = Accountant.fromState(state.accountant, state.bootTime === this.#bootTime());
      for (const [partition, dir] of Object.entries(state.cgroupCpu ?? {}))
        this.#cgroupCpu.set(partition, dir);
      for (const [partition, dir] of Object.entries(state.diskUsage ?? {}))
        this.#diskPaths.set(partition, dir);
      for (const [key, count] of Object.entries(state.readErrors ?? {})) this.#readErrors.set(key, count);
      this.#log.info('partition counters resumed from the state file', {
        file,
        partitions: this.#accountant.totals.size,
      });
    } catch (error) {
      this.#log.warn('partition state file is unreadable: counters start from zero', {
        file,
        err: (error as Error).message,
      });
    }
  }

  /** Writes the state file atomically: a crash leaves the previous version, never half of one. */
  save(): void {
    const file = this.#ctx.settings.partitions.stateFile;
    if (file === '') return;
    const state: SavedState = {
      version: 1,
      bootTime: this.#bootTime(),
      accountant: this.#accountant.toState(),
      cgroupCpu: Object.fromEntries(this.#cgroupCpu),
      diskUsage: Object.fromEntries(this.#diskPaths),
      readErrors: Object.fromEntries(this.#readErrors),
    };
    const temporary = `${file}.${process.pid}.tmp`;
    try {
      writeFileSync(temporary, JSON.stringify(state), { flush: true });
      renameSync(temporary, file);
    } catch (error) {
      this.#log.error('cannot write the partition state file', { file, err: (error as Error).message });
    }
  }

  #remember(partition: string, resolution: Resolution): void {
    if (resolution.cgroupCpu !== undefined) this.#cgroupCpu.set(partition, resolution.cgroupCpu);
    if (resolution.diskUsage !== undefined) this.#diskPaths.set(partition, resolution.diskUsage);
  }

  #readCgroupCpu(): Map<string, CpuSeconds> {
    const readings = new Map<string, CpuSeconds>();
    for (const [partition, dir] of this.#cgroupCpu) {
      const cpu = parseCgroupCpu(readOptionalText(`${dir}/cpu.stat`) ?? '');
      if (cpu) readings.set(partition, cpu);
      else this.#countError('cgroup-cpu.stat:vanished');
    }
    return readings;
  }

  async collect(): Promise<Observations> {
    this.#top?.reset();
    this.#users.refresh();
    const scan = await scanProcesses(this.#ctx.paths, { countFds: true, chunkSize: SCAN_CHUNK });
    for (const [key, count] of scan.failures)
      this.#readErrors.set(key, (this.#readErrors.get(key) ?? 0) + count);

    const trackedByPid = new Map<number, string>();
    for (const reading of scan.processes) {
      const partition = this.#accountant.partitionOf(keyOf(reading));
      if (partition !== undefined) trackedByPid.set(reading.pid, partition);
    }
    const newcomers = scan.processes.filter((reading) => !trackedByPid.has(reading.pid));
    const resolved = this.#resolver.resolveAll(
      newcomers.map(({ stat, status }) => ({
        pid: stat.pid,
        ppid: stat.ppid,
        uid: status.realUid,
        comm: stat.comm,
      })),
      (pid) => trackedByPid.get(pid),
    );
    const snapshots = scan.processes.map((reading) => {
      const resolution = resolved.get(reading.pid);
      if (resolution) this.#remember(resolution.partition, resolution);
      return snapshotOf(reading, trackedByPid.get(reading.pid) ?? resolution?.partition ?? '');
    });
    this.#accountant.update({ processes: snapshots, cgroupCpu: this.#readCgroupCpu() });

    const out = new Observations();
    this.#observeCounters(out);
    this.#observeGauges(out, scan.processes);
    this.#observeDiskUsage(out);
    this.#recordTop(scan.processes, snapshots);
    return out;
  }

  #observeCounters(out: Observations): void {
    const m = PARTITION_METRICS;
    for (const [partition, usage] of this.#accountant.totals) {
      out.add(m.cpuTime, usage.cpuUser, { partition, 'cpu.mode': 'user' });
      out.add(m.cpuTime, usage.cpuSystem, { partition, 'cpu.mode': 'system' });
      out.add(m.diskIo, usage.readBytes, { partition, 'disk.io.direction': 'read' });
      out.add(m.diskIo, usage.writtenBytes, { partition, 'disk.io.direction': 'write' });
      out.add(m.ioSyscalls, usage.readSyscalls, { partition, 'disk.io.direction': 'read' });
      out.add(m.ioSyscalls, usage.writeSyscalls, { partition, 'disk.io.direction': 'write' });
      out.add(m.contextSwitches, usage.voluntarySwitches, {
        partition,
        'process.context_switch_type': 'voluntary',
      });
      out.add(m.contextSwitches, usage.involuntarySwitches, {
        partition,
        'process.context_switch_type': 'involuntary',
      });
      out.add(m.pageFaults, usage.majorFaults, { partition, 'process.paging.fault_type': 'major' });
      out.add(m.pageFaults, usage.minorFaults, { partition, 'process.paging.fault_type': 'minor' });
    }
    for (const [key, count] of this.#readErrors) {
      const [file = '', reason = ''] = key.split(':');
      out.add(PARTITION_METRICS.readErrors, count, { file, reason });
    }
  }

  /** Gauges describe the processes alive now; a partition with none left reports zeros. */
  #observeGauges(out: Observations, readings: readonly ProcessReading[]): void {
    const gauges = new Map<string, { processes: number; threads: number; rss: number; fds: number }>();
    for (const partition of this.#accountant.totals.keys())
      gauges.set(partition, { processes: 0, threads: 0, rss: 0, fds: 0 });
    for (const reading of readings) {
      const partition = this.#accountant.partitionOf(keyOf(reading));
      const gauge = partition === undefined ? undefined : gauges.get(partition);
      if (!gauge) continue;
      gauge.processes += 1;
      gauge.threads += reading.stat.threads;
      gauge.rss += reading.status.residentBytes;
      gauge.fds += reading.openFds ?? 0;
    }
    for (const [partition, gauge] of gauges) {
      out.add(PARTITION_METRICS.processes, gauge.processes, { partition });
      out.add(PARTITION_METRICS.threads, gauge.threads, { partition });
      out.add(PARTITION_METRICS.memory, gauge.rss, { partition });
      out.add(PARTITION_METRICS.openFds, gauge.fds, { partition });
    }
  }

  #observeDiskUsage(out: Observations): void {
    this.#diskUsage.setTargets(this.#diskPaths);
    for (const [partition, reading] of this.#diskUsage.readings()) {
      out.add(PARTITION_METRICS.diskUsage, reading.bytes, { partition });
      out.add(PARTITION_METRICS.diskUsageTime, reading.measuredAt, { partition });
    }
  }

  #recordTop(readings: readonly ProcessReading[], snapshots: readonly ProcessSnapshot[]): void {
    const now = performance.now() / 1000;
    const elapsed = now - this.#previousTime;
    const cpu = new Map(
      snapshots.map((snapshot) => [snapshot.key, snapshot.own.cpuUser + snapshot.own.cpuSystem]),
    );
    if (this.#top && this.#previousTime > 0 && elapsed > 0) {
      const rates = readings
        .map((reading, index) => {
          const key = snapshots[index]?.key ?? '';
          const before = this.#previousCpu.get(key);
          return { reading, key, rate: before === undefined ? 0 : ((cpu.get(key) ?? 0) - before) / elapsed };
        })
        .filter((entry) => entry.rate > 0)
        .sort((a, b) => b.rate - a.rate)
        .slice(0, this.#ctx.settings.partitions.top);
      for (const { reading, key, rate } of rates) {
        this.#top.set(
          {
            pid: String(reading.pid),
            comm: reading.stat.comm,
            partition: this.#accountant.partitionOf(key) ?? '',
          },
          rate,
        );
      }
    }
    this.#previousCpu = cpu;
    this.#previousTime = now;
  }

  close(): void {
    if (this.#saveTimer) clearInterval(this.#saveTimer);
    this.#diskUsage.close();
    this.save();
  }
}

export const partitionsCollector: CollectorDefinition = {
  name: 'partitions',
  description: 'Per-partition (tenant) CPU, memory, I/O, processes and threads, exact across process exits',
  defaultEnabled: true,
  metrics: Object.values(PARTITION_METRICS),
  recordedMetrics: [TOP_PROCESS_SPEC],
  create(ctx) {
    const collector = new PartitionCollector(ctx);
    return { collect: () => collector.collect(), close: () => collector.close() };
  },
};

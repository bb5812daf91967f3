// The per-partition accounting engine: one /proc pass per collection, partition resolution for new
// processes, the accounting state machine and its state file. It runs in a worker thread
// (engine-worker.ts) so that a pass over thousands of processes and its garbage never stall the
// exporter's event loop; what it returns is small (one row per partition plus the top processes).

import { renameSync, statSync, writeFileSync } from 'node:fs';
import {
  Accountant,
  type AccountantState,
  type CpuSeconds,
  type ProcessSnapshot,
} from '../accounting/accountant.ts';
import { type Usage, zeroUsage } from '../accounting/usage.ts';
import { type HostPaths, procPath, readOptionalText, readText, rootPath } from '../io/host-files.ts';
import { type ProcessReading, readProcessDetails, scanProcesses } from '../io/proc-scan.ts';
import type { Logger } from '../log.ts';
import { parsePasswd } from '../parse/passwd.ts';
import { parseProcStat } from '../parse/proc-stat.ts';
import { PartitionResolver, type Resolution } from './resolver.ts';
import type { PartitionRule } from './rules.ts';

/** USER_HZ: /proc/PID/stat times are in hundredths of a second on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;
/** Processes read between two yields: the worker's event loop answers save and close requests between chunks. */
const SCAN_CHUNK = 256;

export interface EngineSettings {
  readonly paths: HostPaths;
  readonly rules: readonly PartitionRule[];
  readonly inherit: boolean;
  readonly top: number;
  readonly stateFile: string;
}

/** Thrown when the rules do not fit the host (a rule names an unknown user). */
export class EngineSetupError extends Error {
  override name = 'EngineSetupError';
}

export interface PartitionGauges {
  processes: number;
  threads: number;
  residentBytes: number;
  openFds: number;
}

export interface TopProcess {
  readonly pid: number;
  readonly comm: string;
  readonly partition: string;
  /** CPU seconds per second since the previous collection. */
  readonly rate: number;
}

/** What one collection reports: small enough to cross from the worker every scrape. */
export interface PartitionReport {
  readonly totals: [string, Usage][];
  readonly gauges: [string, PartitionGauges][];
  readonly readErrors: [string, number][];
  readonly top: TopProcess[];
  /** Partition directories whose size is measured (from the rules' disk-usage templates). */
  readonly diskPaths: [string, string][];
}

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

export class PartitionEngine {
  readonly #settings: EngineSettings;
  readonly #log: Logger;
  readonly #users: UserNames;
  readonly #resolver: PartitionResolver;
  #accountant = new Accountant();
  readonly #readErrors = new Map<string, number>();
  /** Per partition, the cgroup whose cpu.stat gives its CPU, and the directory whose size is measured. */
  readonly #cgroupCpu = new Map<string, string>();
  readonly #diskPaths = new Map<string, string>();
  /** CPU seconds per process at the previous scrape, for the top processes' rates. */
  #previousCpu = new Map<string, number>();
  #previousTime = 0;

  constructor(settings: EngineSettings, log: Logger) {
    this.#settings = settings;
    this.#log = log;
    const passwd = rootPath(settings.paths, 'etc/passwd');
    this.#users = new UserNames(passwd);
    this.#users.refresh();
    for (const rule of settings.rules) {
      if (rule.user !== undefined && !this.#users.has(rule.user)) {
        throw new EngineSetupError(
          `partitions.rules[${rule.index}].user: unknown user ${JSON.stringify(rule.user)} (not in ${passwd})`,
        );
      }
    }
    this.#resolver = new PartitionResolver({
      rules: settings.rules,
      inherit: settings.inherit,
      userName: (uid) => this.#users.name(uid),
      details: (pid, needs) => {
        const { details, failures } = readProcessDetails(settings.paths, pid, needs);
        for (const failure of failures) this.#countError(failure);
        return details;
      },
    });
    this.#restore();
  }

  #countError(key: string): void {
    this.#readErrors.set(key, (this.#readErrors.get(key) ?? 0) + 1);
  }

  #bootTime(): number {
    return parseProcStat(readText(procPath(this.#settings.paths, 'stat'))).bootTime;
  }

  #restore(): void {
    const file = this.#settings.stateFile;
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
    const file = this.#settings.stateFile;
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

  async collect(): Promise<PartitionReport> {
    this.#users.refresh();
    const scan = await scanProcesses(this.#settings.paths, { countFds: true, chunkSize: SCAN_CHUNK });
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

    return {
      totals: [...this.#accountant.totals],
      gauges: [...this.#gauges(scan.processes)],
      readErrors: [...this.#readErrors],
      top: this.#topProcesses(scan.processes, snapshots),
      diskPaths: [...this.#diskPaths],
    };
  }

  /** Gauges describe the processes alive now; a partition with none left reports zeros. */
  #gauges(readings: readonly ProcessReading[]): Map<string, PartitionGauges> {
    const gauges = new Map<string, PartitionGauges>();
    for (const partition of this.#accountant.totals.keys()) {
      gauges.set(partition, { processes: 0, threads: 0, residentBytes: 0, openFds: 0 });
    }
    for (const reading of readings) {
      const partition = this.#accountant.partitionOf(keyOf(reading));
      const gauge = partition === undefined ? undefined : gauges.get(partition);
      if (!gauge) continue;
      gauge.processes += 1;
      gauge.threads += reading.stat.threads;
      gauge.residentBytes += reading.status.residentBytes;
      gauge.openFds += reading.openFds ?? 0;
    }
    return gauges;
  }

  #topProcesses(readings: readonly ProcessReading[], snapshots: readonly ProcessSnapshot[]): TopProcess[] {
    const now = performance.now() / 1000;
    const elapsed = now - this.#previousTime;
    const cpu = new Map(
      snapshots.map((snapshot) => [snapshot.key, snapshot.own.cpuUser + snapshot.own.cpuSystem]),
    );
    let top: TopProcess[] = [];
    if (this.#settings.top > 0 && this.#previousTime > 0 && elapsed > 0) {
      const rates = readings
        .map((reading, index) => {
          const key = snapshots[index]?.key ?? '';
          const before = this.#previousCpu.get(key);
          return { reading, key, rate: before === undefined ? 0 : ((cpu.get(key) ?? 0) - before) / elapsed };
        })
        .filter((entry) => entry.rate > 0)
        .sort((a, b) => b.rate - a.rate)
        .slice(0, this.#settings.top);
      top = rates.map(({ reading, key, rate }) => ({
        pid: reading.pid,
        comm: reading.stat.comm,
        partition: this.#accountant.partitionOf(key) ?? '',
        rate,
      }));
    }
    this.#previousCpu = cpu;
    this.#previousTime = now;
    return top;
  }
}

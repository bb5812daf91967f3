// The accounting core: a pure state machine that turns successive snapshots of the process table into
// per-partition counters that are exact, monotonic and count nothing twice. docs/accounting.md explains
// the algorithm, its guarantees and its blind spots.

import { addUsage, CPU_KEYS, REAP, USAGE_KEYS, type Usage, type UsageKey, zeroUsage } from './usage.ts';

/** One process as read in one collection. */
export interface ProcessSnapshot {
  /** Identity that survives pid reuse: `${pid}:${start time in ticks since boot}`. */
  readonly key: string;
  readonly pid: number;
  readonly ppid: number;
  /** The partition rules give it; used only the first time the process is seen (the choice is sticky). */
  readonly partition: string;
  /**
   * The process's own cumulative counters (its I/O includes reaped children's: the kernel folds it in).
   * NaN for a value that could not be read this time: the previous reading stands.
   */
  readonly own: Usage;
  /** Cumulative usage of its reaped children as the kernel reports it (CPU and faults; zero otherwise). */
  readonly children: Usage;
}

export interface CpuSeconds {
  readonly user: number;
  readonly system: number;
}

export interface Collection {
  readonly processes: readonly ProcessSnapshot[];
  /**
   * CPU of partitions whose rule takes it from their cgroup's cpu.stat (kept exactly by the kernel,
   * exited tasks included). Their processes' CPU is then not summed.
   */
  readonly cgroupCpu?: ReadonlyMap<string, CpuSeconds>;
}

interface Tracked {
  readonly pid: number;
  readonly ppid: number;
  readonly partition: string;
  readonly own: Usage;
  readonly children: Usage;
}

/** Usage of exited children that their parent's counters will absorb when it reaps them. */
interface Credit {
  readonly usage: Usage;
  readonly partitions: Set<string>;
  /** Collections this credit has waited; a reap may show in the collection after the child vanished. */
  age: number;
}

/** How many later collections a credit waits for its parent's counters to grow. */
const CREDIT_COLLECTIONS = 2;

export interface AccountantState {
  readonly version: 1;
  readonly initialized: boolean;
  readonly totals: Record<string, Usage>;
  readonly processes: Record<string, Tracked>;
  readonly credits: Record<string, { usage: Usage; partitions: string[]; age: number }>;
  readonly cgroupCpu: Record<string, CpuSeconds>;
}

const clampedDelta = (now: number, before: number): number => (now > before ? now - before : 0);

/** The readings, with an unreadable (NaN) value replaced by the previous reading, or 0 for a new process. */
function knownUsage(now: Usage, before: Usage | undefined): Usage {
  const known = { ...now };
  for (const key of USAGE_KEYS) if (Number.isNaN(known[key])) known[key] = before?.[key] ?? 0;
  return known;
}

export class Accountant {
  #initialized = false;
  readonly #totals = new Map<string, Usage>();
  #tracked = new Map<string, Tracked>();
  readonly #credits = new Map<string, Credit>();
  readonly #cgroupCpu = new Map<string, CpuSeconds>();

  /** Counters per partition; they only ever grow. */
  get totals(): ReadonlyMap<string, Usage> {
    return this.#totals;
  }

  /** The partition a process was given when first seen, if it is tracked. */
  partitionOf(key: string): string | undefined {
    return this.#tracked.get(key)?.partition;
  }

  /** Whether `update` has run (or the state was restored): processes seen later are new, not pre-existing. */
  get initialized(): boolean {
    return this.#initialized;
  }

  #charge(partition: string, key: UsageKey, amount: number): void {
    if (amount <= 0) return;
    let usage = this.#totals.get(partition);
    if (!usage) {
      usage = zeroUsage();
      this.#totals.set(partition, usage);
    }
    usage[key] += amount;
  }

  /** Makes sure a partition is reported (with zeros) even before it used anything. */
  #touch(partition: string): void {
    if (!this.#totals.has(partition)) this.#totals.set(partition, zeroUsage());
  }

  update(collection: Collection): void {
    const keyOfPid = new Map(collection.processes.map((process) => [process.pid, process.key]));
    this.#creditExitedProcesses(collection, keyOfPid);
    const cgroupPartitions = collection.cgroupCpu ?? new Map<string, CpuSeconds>();
    const next = new Map<string, Tracked>();
    for (const reading of collection.processes) {
      const previous = this.#tracked.get(reading.key);
      const process = { ...reading, own: knownUsage(reading.own, previous?.own) };
      const partition = previous?.partition ?? process.partition;
      this.#touch(partition);
      this.#account(process, previous, partition, cgroupPartitions.has(partition));
      next.set(process.key, {
        pid: process.pid,
        ppid: process.ppid,
        partition,
        own: process.own,
        children: process.children,
      });
    }
    this.#tracked = next;
    this.#ageCredits(keyOfPid);
    this.#accountCgroups(cgroupPartitions);
    this.#initialized = true;
  }

  /**
   * A tracked process that vanished was reaped: its parent's counters now hold its whole lifetime. What
   * we already charged for it becomes a credit on the parent, so that only the part we never saw (its
   * usage after our last sample) is charged when the parent's counters grow.
   */
  #creditExitedProcesses(collection: Collection, keyOfPid: ReadonlyMap<number, string>): void {
    const present = new Set(collection.processes.map((process) => process.key));
    const vanished = new Map(
      [...this.#tracked].filter(([key]) => !present.has(key)).map(([, t]) => [t.pid, t]),
    );
    for (const exited of vanished.values()) {
      // A parent that vanished too (a job that reaps its workers and exits) handed everything it reaped
      // to its own parent: the credit goes to the nearest ancestor still alive.
      let ppid = exited.ppid;
      for (let hops = 0; !keyOfPid.has(ppid) && hops < vanished.size; hops++) {
        const ancestor = vanished.get(ppid);
        if (!ancestor) break;
        ppid = ancestor.ppid;
      }
      const parentKey = keyOfPid.get(ppid);
      if (parentKey === undefined) continue;
      let credit = this.#credits.get(parentKey);
      if (!credit) {
        credit = { usage: zeroUsage(), partitions: new Set(), age: 0 };
        this.#credits.set(parentKey, credit);
      }
      for (const usageKey of USAGE_KEYS) {
        const mode = REAP[usageKey];
        if (mode === 'none') continue;
        credit.usage[usageKey] +=
          exited.own[usageKey] + (mode === 'children' ? exited.children[usageKey] : 0);
      }
      credit.partitions.add(exited.partition);
      credit.age = 0;
    }
  }

  #account(
    process: ProcessSnapshot,
    previous: Tracked | undefined,
    partition: string,
    cpuFromCgroup: boolean,
  ): void {
    // Processes already running at the first collection only contribute what they use from then on;
    // a process first seen later was born since the previous collection and is charged from birth.
    const baselineOnly = previous === undefined && !this.#initialized;
    const credit = this.#credits.get(process.key);
    const [onlyPartition] = credit?.partitions.size === 1 ? credit.partitions : [];
    for (const key of USAGE_KEYS) {
      if (cpuFromCgroup && (CPU_KEYS as readonly string[]).includes(key)) continue;
      const own = baselineOnly ? 0 : clampedDelta(process.own[key], previous?.own[key] ?? 0);
      const children = baselineOnly ? 0 : clampedDelta(process.children[key], previous?.children[key] ?? 0);
      const mode = REAP[key];
      if (mode === 'none') {
        this.#charge(partition, key, own);
        continue;
      }
      // The counter that grows when this process reaps a child, and what of it we already charged.
      const growth = mode === 'children' ? children : own;
      const absorbed = Math.min(growth, credit?.usage[key] ?? 0);
      if (credit) credit.usage[key] -= absorbed;
      const remainder = growth - absorbed;
      if (mode === 'children') this.#charge(partition, key, own);
      // The unseen part of a reaped child's life (its usage after our last sample, or the whole life of a
      // child we never saw) belongs to the child's partition when the children that just vanished all had
      // one. For I/O the kernel mixes it with the parent's own I/O of the interval, which goes along.
      this.#charge(onlyPartition ?? partition, key, remainder);
    }
  }

  #ageCredits(keyOfPid: ReadonlyMap<number, string>): void {
    const alive = new Set(keyOfPid.values());
    for (const [parentKey, credit] of this.#credits) {
      credit.age += 1;
      const exhausted = USAGE_KEYS.every((key) => credit.usage[key] <= 0);
      if (exhausted || credit.age > CREDIT_COLLECTIONS || !alive.has(parentKey))
        this.#credits.delete(parentKey);
    }
  }

  #accountCgroups(readings: ReadonlyMap<string, CpuSeconds>): void {
    for (const [partition, now] of readings) {
      const before = this.#cgroupCpu.get(partition);
      // A cgroup first seen after the first collection was created since: all of its CPU is new.
      const baseline = before ?? (this.#initialized ? { user: 0, system: 0 } : now);
      this.#touch(partition);
      this.#charge(partition, 'cpuUser', clampedDelta(now.user, baseline.user));
      this.#charge(partition, 'cpuSystem', clampedDelta(now.system, baseline.system));
      // A decrease (the cgroup was recreated) starts a new baseline rather than going backwards.
      this.#cgroupCpu.set(partition, now);
    }
  }

  toState(): AccountantState {
    return {
      version: 1,
      initialized: this.#initialized,
      totals: Object.fromEntries(this.#totals),
      processes: Object.fromEntries(this.#tracked),
      credits: Object.fromEntries(
        [...this.#credits].map(([key, credit]) => [
          key,
          { usage: credit.usage, partitions: [...credit.partitions], age: credit.age },
        ]),
      ),
      cgroupCpu: Object.fromEntries(this.#cgroupCpu),
    };
  }

  /**
   * Resumes from a saved state: a process alive across the restart continues from its saved baseline,
   * and one started while the exporter was down is charged from birth. Pass `sameBoot: false` when the
   * machine rebooted since: totals continue (Prometheus sees no reset) but the saved processes are gone.
   */
  static fromState(state: AccountantState, sameBoot: boolean): Accountant {
    const accountant = new Accountant();
    for (const [partition, usage] of Object.entries(state.totals)) {
      const restored = zeroUsage();
      addUsage(restored, usage);
      accountant.#totals.set(partition, restored);
    }
    accountant.#initialized = state.initialized;
    if (sameBoot) {
      accountant.#tracked = new Map(Object.entries(state.processes));
      for (const [key, credit] of Object.entries(state.credits)) {
        accountant.#credits.set(key, {
          usage: credit.usage,
          partitions: new Set(credit.partitions),
          age: credit.age,
        });
      }
      for (const [partition, cpu] of Object.entries(state.cgroupCpu))
        accountant.#cgroupCpu.set(partition, cpu);
    }
    return accountant;
  }
}

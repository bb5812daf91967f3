// Per-partition process usage. The engine (src/partitions/engine.ts: one /proc pass per scrape, the
// accounting state machine, the state file) runs in a worker thread; this collector turns its small
// report into observations, the top processes into prom-client series, and measures partition
// directories in the background. See docs/accounting.md.

import { Worker } from 'node:worker_threads';
import { Gauge } from 'prom-client';
import type { Logger } from '../log.ts';
import { DiskUsageMonitor } from '../partitions/disk-usage.ts';
import type { PartitionReport } from '../partitions/engine.ts';
import type { EngineMessage, EngineRequest, WorkerSettings } from '../partitions/engine-worker.ts';
import { prometheusName } from '../prometheus-names.ts';
import {
  type CollectorContext,
  type CollectorDefinition,
  type MetricSpec,
  Observations,
  type ObservedMetricSpec,
  SetupError,
} from './collector.ts';

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

// Compiled, the worker is dist/partitions/engine-worker.js; in tests the sources run as .ts.
const WORKER_URL = new URL(
  `../partitions/engine-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`,
  import.meta.url,
);

/** Requests to the engine's worker thread, one reply per request. */
class EngineClient {
  readonly #worker: Worker;
  readonly #pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  #nextId = 0;
  #failure: Error | undefined;

  private constructor(worker: Worker, log: Logger) {
    this.#worker = worker;
    worker.on('message', (message: EngineMessage) => {
      if (message.type === 'log') log[message.level](message.msg, message.fields);
      if (message.type !== 'reply') return;
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (message.error === undefined) pending?.resolve(message.result);
      else pending?.reject(new Error(message.error));
    });
    const fail = (error: Error): void => {
      this.#failure = error;
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
    };
    worker.on('error', (error) => {
      log.error('the partition worker crashed', { err: error.message });
      fail(new Error(`the partition worker crashed: ${error.message}`));
    });
    worker.on('exit', () => fail(new Error('the partition worker has stopped')));
  }

  /** Starts the worker; rejects with a SetupError when the rules do not fit the host. */
  static start(settings: WorkerSettings, log: Logger): Promise<EngineClient> {
    // A small young generation: the pass allocates a few short-lived strings and records per process, and
    // with V8's default (sized from the machine's RAM) it cost 419–451 ms of CPU per scrape at 5,000
    // processes here against 308–369 ms with 4–16 MB (bench/processes.ts set-up, docs/benchmarks.md).
    const worker = new Worker(WORKER_URL, {
      workerData: settings,
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
    });
    return new Promise((resolve, reject) => {
      const onMessage = (message: EngineMessage): void => {
        // Restoring the state file logs before the engine is ready.
        if (message.type === 'log') log[message.level](message.msg, message.fields);
        if (message.type === 'ready') {
          worker.off('message', onMessage);
          resolve(new EngineClient(worker, log));
        } else if (message.type === 'setup-error') {
          void worker.terminate();
          reject(message.rules ? new SetupError(message.message) : new Error(message.message));
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  }

  request<T>(type: EngineRequest['type']): Promise<T> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#worker.postMessage({ id, type } satisfies EngineRequest);
    });
  }

  async close(): Promise<void> {
    await this.request('close').catch(() => {});
    await this.#worker.terminate();
  }
}

function observe(out: Observations, report: PartitionReport): void {
  const m = PARTITION_METRICS;
  for (const [partition, usage] of report.totals) {
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
  for (const [partition, gauge] of report.gauges) {
    out.add(m.processes, gauge.processes, { partition });
    out.add(m.threads, gauge.threads, { partition });
    out.add(m.memory, gauge.residentBytes, { partition });
    out.add(m.openFds, gauge.openFds, { partition });
  }
  for (const [key, count] of report.readErrors) {
    const [file = '', reason = ''] = key.split(':');
    out.add(m.readErrors, count, { file, reason });
  }
}

export const partitionsCollector: CollectorDefinition = {
  name: 'partitions',
  description: 'Per-partition (tenant) CPU, memory, I/O, processes and threads, exact across process exits',
  defaultEnabled: true,
  metrics: Object.values(PARTITION_METRICS),
  recordedMetrics: [TOP_PROCESS_SPEC],
  async create(ctx: CollectorContext) {
    const settings = ctx.settings.partitions;
    const engine = await EngineClient.start(
      {
        paths: ctx.paths,
        rules: settings.rules,
        inherit: settings.inherit,
        top: settings.top,
        stateFile: settings.stateFile,
        saveIntervalMs: settings.stateSaveIntervalMs,
      },
      ctx.log,
    );
    const diskUsage = new DiskUsageMonitor({
      intervalMs: settings.diskUsageIntervalMs,
      concurrency: settings.diskUsageConcurrency,
      log: ctx.log,
    });
    const top =
      settings.top > 0
        ? new Gauge({
            name: TOP_PROCESS_METRIC,
            help: TOP_PROCESS_SPEC.description,
            labelNames: TOP_PROCESS_SPEC.labels,
            registers: [ctx.registry],
          })
        : undefined;
    return {
      async collect() {
        top?.reset();
        const report = await engine.request<PartitionReport>('collect');
        const out = new Observations();
        observe(out, report);
        for (const row of report.top) {
          top?.set({ pid: String(row.pid), comm: row.comm, partition: row.partition }, row.rate);
        }
        diskUsage.setTargets(new Map(report.diskPaths));
        for (const [partition, reading] of diskUsage.readings()) {
          out.add(PARTITION_METRICS.diskUsage, reading.bytes, { partition });
          out.add(PARTITION_METRICS.diskUsageTime, reading.measuredAt, { partition });
        }
        return out;
      },
      async close() {
        diskUsage.close();
        await engine.close();
      },
    };
  },
};

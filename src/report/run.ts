// One run of `hostmeter report`: fetch the window's raw samples shard by shard of the fleet (one query per
// metric and shard), compute each computer's quantities, write each report atomically, optionally upload it.

import type { ReportConfig } from '../config/report-config.ts';
import type { Logger } from '../log.ts';
import { UNASSIGNED } from '../partitions/resolver.ts';
import { alreadyReported, computerDir, markSent, reportPath, writeAtomically } from './files.ts';
import { renderJournal } from './journal.ts';
import type { PrometheusClient, RawSeries } from './prometheus-client.ts';
import { type ComputerDay, computeQuantities, type SeriesWithBaseline } from './quantities.ts';
import type { Sample } from './samples.ts';
import { uploadReport } from './upload.ts';

/** Exit codes of `hostmeter report` (documented in the README). */
export const REPORT_EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  belowCoverage: 3,
  prometheus: 4,
  upload: 5,
} as const;

type SeriesField = Exclude<keyof ComputerDay, 'computer' | 'date' | 'window' | 'maxGap'>;

interface MetricQuery {
  readonly field: SeriesField;
  readonly selector: string;
  readonly kind: 'counter' | 'gauge';
  readonly extendedOnly?: boolean;
}

const QUERIES: readonly MetricQuery[] = [
  { field: 'hostCpu', selector: 'system_cpu_time_seconds_total', kind: 'counter' },
  { field: 'memoryLimit', selector: 'system_memory_limit_bytes', kind: 'gauge' },
  { field: 'memoryAvailable', selector: 'system_memory_linux_available_bytes', kind: 'gauge' },
  { field: 'partitionCpu', selector: 'hostmeter_partition_cpu_time_seconds_total', kind: 'counter' },
  { field: 'partitionProcesses', selector: 'hostmeter_partition_processes', kind: 'gauge' },
  { field: 'partitionMemory', selector: 'hostmeter_partition_memory_usage_bytes', kind: 'gauge' },
  { field: 'partitionDisk', selector: 'hostmeter_partition_disk_usage_bytes', kind: 'gauge' },
  {
    field: 'partitionDiskIo',
    selector: 'hostmeter_partition_disk_io_bytes_total',
    kind: 'counter',
    extendedOnly: true,
  },
];

/** How far before the window a counter's last sample is looked for (a day: a long gap still counts). */
const COUNTER_LOOKBACK_SECONDS = 86_400;

export interface ReportSummary {
  written: number;
  skipped: number;
  belowCoverage: number;
  uploaded: number;
  uploadFailed: number;
  partitions: number;
}

export interface ReportDeps {
  readonly client: PrometheusClient;
  readonly log: Logger;
  /** Called after each computer, for a progress bar on a terminal. */
  readonly progress?: (done: number, total: number) => void;
  /** First delay between upload attempts (tests shorten it). */
  readonly uploadBackoffMs?: number;
}

/** Labels without the metric name, in a fixed order: a baseline answer (last_over_time) has no name. */
function seriesKey(labels: Readonly<Record<string, string>>): string {
  let key = '';
  for (const name of Object.keys(labels).sort())
    if (name !== '__name__') key += `${name}\u0000${labels[name]}\u0000`;
  return key;
}

/** Every series of the window, by computer and metric, each with its baseline sample. */
type FleetDay = Map<string, Map<SeriesField, SeriesWithBaseline[]>>;

/** The computers of one shard: their ids, and a label matcher selecting their series (none: every series). */
interface Shard {
  readonly computers: readonly string[];
  readonly matcher?: string;
}

/** A PromQL label matcher selecting exactly these values of `label` (RE2 syntax characters escaped). */
export function exactValuesMatcher(label: string, values: readonly string[]): string {
  const regex = values.map((value) => value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&')).join('|');
  return `${label}=~${JSON.stringify(regex)}`;
}

/** The computer id of a value of the computer label, through --computer.map. */
function computerId(config: ReportConfig, labelValue: string): string {
  return config.computerMap.get(labelValue) ?? labelValue;
}

function activeQueries(config: ReportConfig): MetricQuery[] {
  return QUERIES.filter((query) => !query.extendedOnly || config.profile === 'extended');
}

/**
 * The computers with series in the window (from Prometheus's index, no samples read), in shards of at
 * most `computersPerQuery`: each shard's series come with one query per metric, so memory and each
 * query's size stay bounded by a shard whatever the fleet's size. A fleet that fits in one shard is
 * queried without a matcher.
 */
async function planShards(config: ReportConfig, client: PrometheusClient): Promise<Shard[]> {
  const { from, to } = config.window;
  const values = await client.labelValues(
    config.computerLabel,
    activeQueries(config).map((query) => query.selector),
    from,
    to,
  );
  const valuesByComputer = new Map<string, string[]>();
  for (const value of values) {
    const computer = computerId(config, value);
    const list = valuesByComputer.get(computer) ?? [];
    valuesByComputer.set(computer, list);
    list.push(value);
  }
  const computers = [...valuesByComputer.keys()].sort();
  if (computers.length <= config.computersPerQuery) return [{ computers }];
  const shards: Shard[] = [];
  for (let start = 0; start < computers.length; start += config.computersPerQuery) {
    const ids = computers.slice(start, start + config.computersPerQuery);
    const shardValues = ids.flatMap((id) => valuesByComputer.get(id) ?? []);
    shards.push({ computers: ids, matcher: exactValuesMatcher(config.computerLabel, shardValues) });
  }
  return shards;
}

async function fetchShard(config: ReportConfig, client: PrometheusClient, shard: Shard): Promise<FleetDay> {
  const { from, to } = config.window;
  const fleet: FleetDay = new Map();
  for (const query of activeQueries(config)) {
    const selector = shard.matcher === undefined ? query.selector : `${query.selector}{${shard.matcher}}`;
    const baselines = new Map<string, Sample>();
    const keepLast = (series: RawSeries): void => {
      const last = series.samples.at(-1);
      if (last) baselines.set(seriesKey(series.labels), last);
    };
    // The last sample before the window, with its own timestamp, for gauges and counters alike.
    await client.rangeSamples(selector, Math.ceil(config.maxGapSeconds), from, keepLast);
    if (query.kind === 'counter') {
      // A counter's baseline may be older than the max gap (an outage across midnight): its value still
      // counts, but an instant query stamps it with the evaluation time, so it is dated a full lookback
      // before the window, which makes the pair across the outage a gap, as it was.
      await client.instant(`last_over_time(${selector}[${COUNTER_LOOKBACK_SECONDS}s])`, from, (series) => {
        const key = seriesKey(series.labels);
        const last = series.samples.at(-1);
        if (last && !baselines.has(key))
          baselines.set(key, { t: from - COUNTER_LOOKBACK_SECONDS, v: last.v });
      });
    }
    await client.rangeSamples(selector, Math.ceil(to - from), to, (series) => {
      const labelValue = series.labels[config.computerLabel];
      if (labelValue === undefined) return;
      const computer = computerId(config, labelValue);
      const byField = fleet.get(computer) ?? new Map<SeriesField, SeriesWithBaseline[]>();
      fleet.set(computer, byField);
      const list = byField.get(query.field) ?? [];
      byField.set(query.field, list);
      const baseline = baselines.get(seriesKey(series.labels));
      list.push({ ...series, ...(baseline && { baseline }) });
    });
  }
  return fleet;
}

function computerDay(
  config: ReportConfig,
  computer: string,
  series: Map<SeriesField, SeriesWithBaseline[]>,
): ComputerDay {
  const all = (field: SeriesField): SeriesWithBaseline[] => series.get(field) ?? [];
  // A partition counter that first appears inside the window, after the computer itself was first seen,
  // belongs to a partition born in the window: hostmeter charged its processes from birth, so its first
  // sample is usage of this window. It is counted from a zero dated at most one max gap earlier (so the
  // interval counts as active, not as missing time). A counter that appears with its computer (a fresh
  // exporter) starts at zero anyway.
  const computerSince = Math.min(
    ...all('hostCpu').map((one) => one.baseline?.t ?? one.samples[0]?.t ?? Number.POSITIVE_INFINITY),
  );
  const bornInWindow = (field: SeriesField): SeriesWithBaseline[] =>
    all(field).map((one) => {
      const first = one.samples[0];
      if (one.baseline !== undefined || first === undefined || !(first.t > computerSince)) return one;
      const zero = { t: Math.max(config.window.from, first.t - config.maxGapSeconds, computerSince), v: 0 };
      return { ...one, samples: [zero, ...one.samples] };
    });
  const one = (field: SeriesField): SeriesWithBaseline | undefined => all(field)[0];
  const memoryLimit = one('memoryLimit');
  const memoryAvailable = one('memoryAvailable');
  return {
    computer,
    date: config.window.label,
    window: { from: config.window.from, to: config.window.to },
    maxGap: config.maxGapSeconds,
    hostCpu: all('hostCpu'),
    ...(memoryLimit && { memoryLimit }),
    ...(memoryAvailable && { memoryAvailable }),
    partitionCpu: bornInWindow('partitionCpu'),
    partitionProcesses: all('partitionProcesses'),
    partitionMemory: all('partitionMemory'),
    partitionDisk: all('partitionDisk'),
    partitionDiskIo: bornInWindow('partitionDiskIo'),
  };
}

/** Computes, writes and optionally uploads one computer's report, counting the outcome in `summary`. */
async function reportComputer(
  config: ReportConfig,
  deps: ReportDeps,
  summary: ReportSummary,
  computer: string,
  series: Map<SeriesField, SeriesWithBaseline[]>,
): Promise<void> {
  const { log } = deps;
  const label = config.window.label;
  const path = reportPath(config.outputDir, computer, label);
  if (!config.force && alreadyReported(config.outputDir, computer, label)) {
    summary.skipped++;
    log.info('already reported: skipped', { computer, date: label, file: path });
    return;
  }
  const quantities = computeQuantities(computerDay(config, computer, series));
  // SlapOS's master rejects a whole journal whose references it does not know.
  if (config.profile === 'slapos') quantities.partitions.delete(UNASSIGNED);
  if (quantities.coverage < config.minCoverage) {
    summary.belowCoverage++;
    log.warn('coverage below --min-coverage: not written', {
      computer,
      date: label,
      coverage: quantities.coverage,
    });
    return;
  }
  const xml = renderJournal(computer, label, quantities, config.profile);
  writeAtomically(path, xml);
  summary.written++;
  summary.partitions += quantities.partitions.size;
  log.info('report written', {
    computer,
    date: label,
    file: path,
    coverage: Number(quantities.coverage.toFixed(6)),
    partitions: quantities.partitions.size,
  });
  if (!config.upload) return;
  try {
    await uploadReport(computer, xml, {
      ...config.upload,
      timeoutMs: config.prometheus.timeoutMs,
      backoffMs: deps.uploadBackoffMs ?? 1000,
      log,
    });
    markSent(computerDir(config.outputDir, computer), `${label}.xml`);
    summary.uploaded++;
  } catch (error) {
    summary.uploadFailed++;
    log.error('upload failed: the report stays queued for `hostmeter report upload`', {
      computer,
      err: (error as Error).message,
    });
  }
}

export async function runReport(
  config: ReportConfig,
  deps: ReportDeps,
): Promise<{ summary: ReportSummary; exitCode: number }> {
  const { log } = deps;
  const summary: ReportSummary = {
    written: 0,
    skipped: 0,
    belowCoverage: 0,
    uploaded: 0,
    uploadFailed: 0,
    partitions: 0,
  };
  const label = config.window.label;
  const { client } = deps;
  const unreadable = (error: unknown) => {
    client.cancel();
    log.error(
      summary.written + summary.skipped + summary.belowCoverage === 0
        ? 'cannot read the window from Prometheus: nothing was written'
        : 'cannot read the window from Prometheus: the computers of the shards read before were written, the others were not; a rerun writes them',
      { err: (error as Error).message, written: summary.written },
    );
    return { summary, exitCode: REPORT_EXIT.prometheus };
  };
  let shards: Shard[];
  try {
    shards = await planShards(config, client);
  } catch (error) {
    return unreadable(error);
  }
  const total = shards.reduce((sum, shard) => sum + shard.computers.length, 0);
  let done = 0;
  let planned = 0;
  // Two shards in flight: Prometheus evaluates the next one's queries while this process reads the other's
  // answers and writes its reports. Each is awaited in turn, where its failure is reported.
  const fetching = (index: number): Promise<FleetDay> | undefined => {
    const shard = shards[index];
    if (shard === undefined) return undefined;
    const promise = fetchShard(config, client, shard);
    promise.catch(() => {});
    return promise;
  };
  let next = fetching(0);
  for (let index = 0; index < shards.length; index++) {
    const current = next;
    next = fetching(index + 1);
    let fleet: FleetDay;
    try {
      fleet = (await current) as FleetDay;
    } catch (error) {
      return unreadable(error);
    }
    for (const computer of [...fleet.keys()].sort()) {
      await reportComputer(config, deps, summary, computer, fleet.get(computer) ?? new Map());
      deps.progress?.(++done, total);
    }
    // Computers in the index without a sample in the window have nothing to report.
    planned += (shards[index] as Shard).computers.length;
    if (done < planned) {
      done = planned;
      deps.progress?.(done, total);
    }
  }
  const exitCode =
    summary.uploadFailed > 0
      ? REPORT_EXIT.upload
      : summary.belowCoverage > 0
        ? REPORT_EXIT.belowCoverage
        : REPORT_EXIT.ok;
  log.info('report run finished', { date: label, ...summary, computers: total });
  return { summary, exitCode };
}

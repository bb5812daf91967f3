// One scrape: run the enabled collectors under a deadline, feed their observations to the
// OpenTelemetry instruments, collect through the PrometheusExporter reader, and serialize.
//
// Why the collectors do not observe inside SDK callbacks directly:
// - a collector that misses the deadline must be reported failed *in this response*, with its
//   series left out (the SDK would export its previous values, stale);
// - series of a device, mount or interface that vanished must leave the output (the SDK keeps
//   every attribute set an observable ever reported, forever);
// - the per-collector duration and success gauges must describe this scrape, which needs every
//   collector finished before the SDK callbacks run.

import { gzipSync } from 'node:zlib';
import type { Meter, Observable, Attributes as OtelAttributes } from '@opentelemetry/api';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import type { Registry } from 'prom-client';
import type {
  Attributes,
  Observation,
  ObservedMetricSpec,
  RunningCollector,
} from '../collectors/collector.ts';
import type { Logger } from '../log.ts';
import { prometheusName } from '../prometheus-names.ts';
import { toOpenMetrics } from './openmetrics.ts';
import type { MetricsReader } from './telemetry.ts';

export const SCRAPE_METRICS = {
  duration: {
    name: 'hostmeter.scrape.collector.duration',
    kind: 'gauge',
    unit: 's',
    description: 'How long the collector took in this scrape.',
    labels: ['collector'],
  },
  success: {
    name: 'hostmeter.scrape.collector.success',
    kind: 'gauge',
    unit: '',
    description:
      'Whether the collector succeeded in this scrape (1) or failed or missed the scrape timeout (0).',
    labels: ['collector'],
  },
} as const satisfies Record<string, ObservedMetricSpec>;

const SCRAPE_SCOPE = 'hostmeter.scrape';

/** When the synchronous part of a scrape (every collector's collect() call) ended. */
interface SyncPhase {
  end?: number;
}

export interface CollectorEntry {
  readonly name: string;
  readonly metrics: readonly ObservedMetricSpec[];
  readonly running: RunningCollector;
}

interface CollectorOutcome {
  readonly observations: readonly Observation[];
  readonly ok: boolean;
  readonly seconds: number;
  readonly error?: string;
}

/** The result of one collection, serialized lazily and at most once per format and encoding. */
export class Exposition {
  readonly resourceMetrics: ResourceMetrics;
  readonly #serializer: PrometheusSerializer;
  /** Text-format families from the prom-client registry (series that churn), appended after the SDK's. */
  readonly #registryText: string;
  readonly #cache = new Map<string, string | Buffer>();

  constructor(resourceMetrics: ResourceMetrics, serializer: PrometheusSerializer, registryText = '') {
    this.resourceMetrics = resourceMetrics;
    this.#serializer = serializer;
    this.#registryText = registryText;
  }

  #memo<T extends string | Buffer>(key: string, make: () => T): T {
    let value = this.#cache.get(key) as T | undefined;
    if (value === undefined) {
      value = make();
      this.#cache.set(key, value);
    }
    return value;
  }

  text(): string {
    return this.#memo(
      'text',
      () => `${this.#serializer.serialize(this.resourceMetrics).replace(/\n?$/, '\n')}${this.#registryText}`,
    );
  }

  openMetrics(): string {
    return this.#memo('openmetrics', () => toOpenMetrics(this.text()));
  }

  body(format: 'text' | 'openmetrics', gzip: boolean): string | Buffer {
    const plain = format === 'text' ? this.text() : this.openMetrics();
    return gzip ? this.#memo(`${format}.gz`, () => gzipSync(plain)) : plain;
  }
}

const attributesKey = (attributes: OtelAttributes): string =>
  Object.keys(attributes)
    .sort()
    .map((key) => `${key}\u0000${String(attributes[key])}`)
    .join('\u0001');

export class Scraper {
  readonly #collectors: readonly CollectorEntry[];
  readonly #reader: MetricsReader;
  readonly #log: Logger;
  readonly #serializer = new PrometheusSerializer(undefined, false, undefined, false, true);
  /** Each collector's outcome in the scrape being assembled. */
  #outcomes = new Map<string, CollectorOutcome>();
  /** Attribute sets observed in the scrape being assembled, per instrument name. */
  #observed = new Map<string, Set<string>>();
  /** Collectors whose last collect() missed its deadline and has not finished yet. */
  readonly #stillRunning = new Set<string>();
  readonly #lastError = new Map<string, string>();
  #inFlight: Promise<Exposition> | undefined;
  readonly #names = new Map<string, { name: string; unit: string }>();
  readonly #registry: Registry | undefined;

  constructor(
    collectors: readonly CollectorEntry[],
    meterFor: (scope: string) => Meter,
    reader: MetricsReader,
    log: Logger,
    registry?: Registry,
  ) {
    this.#collectors = collectors;
    this.#reader = reader;
    this.#log = log;
    this.#registry = registry;
    for (const entry of collectors) {
      this.#register(
        meterFor(entry.name),
        entry.metrics,
        () => this.#outcomes.get(entry.name)?.observations ?? [],
      );
    }
    this.#register(meterFor(SCRAPE_SCOPE), Object.values(SCRAPE_METRICS), () => this.#scrapeObservations());
    assertUniqueNames([...collectors.flatMap((entry) => entry.metrics), ...Object.values(SCRAPE_METRICS)]);
  }

  /** Creates the instruments of one scope and a batch callback that observes what `source` returns. */
  #register(meter: Meter, specs: readonly ObservedMetricSpec[], source: () => readonly Observation[]): void {
    const instruments = new Map<string, Observable>(
      specs.map((spec) => {
        const options = { unit: spec.unit, description: spec.description };
        const instrument =
          spec.kind === 'counter'
            ? meter.createObservableCounter(spec.name, options)
            : meter.createObservableGauge(spec.name, options);
        return [spec.name, instrument];
      }),
    );
    meter.addBatchObservableCallback(
      (result) => {
        for (const { metric, value, attributes } of source()) {
          const instrument = instruments.get(metric.name);
          if (instrument === undefined)
            throw new Error(`metric ${metric.name} is not declared by its collector`);
          result.observe(instrument, value, attributes);
          const seen = this.#observed.get(metric.name) ?? new Set<string>();
          this.#observed.set(metric.name, seen);
          seen.add(attributesKey(attributes));
        }
      },
      [...instruments.values()],
    );
  }

  #scrapeObservations(): Observation[] {
    const out: Observation[] = [];
    for (const [collector, outcome] of this.#outcomes) {
      const attributes: Attributes = { collector };
      out.push({ metric: SCRAPE_METRICS.duration, value: outcome.seconds, attributes });
      out.push({ metric: SCRAPE_METRICS.success, value: outcome.ok ? 1 : 0, attributes });
    }
    return out;
  }

  /** Runs one collection, or joins the one already running (concurrent scrapes share it). */
  scrape(timeoutMs: number): Promise<Exposition> {
    this.#inFlight ??= this.#collect(timeoutMs).finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #collect(timeoutMs: number): Promise<Exposition> {
    const deadline = performance.now() + timeoutMs;
    const phase: SyncPhase = {};
    const running = this.#collectors.map((entry) => this.#runCollector(entry, deadline, phase));
    phase.end = performance.now();
    const outcomes = await Promise.all(running);
    this.#outcomes = new Map(
      this.#collectors.map((entry, index) => [entry.name, outcomes[index] as CollectorOutcome]),
    );
    this.#observed = new Map();
    const remaining = Math.max(1, deadline - performance.now());
    const { resourceMetrics, errors } = await this.#reader.collect({ timeoutMillis: remaining });
    for (const error of errors) this.#log.warn('metric collection error', { err: String(error) });
    const registryText = this.#registry ? await this.#registry.metrics() : '';
    return new Exposition(this.#present(resourceMetrics), this.#serializer, registryText);
  }

  async #runCollector(entry: CollectorEntry, deadline: number, phase: SyncPhase): Promise<CollectorOutcome> {
    if (this.#stillRunning.has(entry.name)) {
      return this.#failed(entry.name, 0, 'previous collection has not finished');
    }
    const started = performance.now();
    let called = started;
    // An asynchronous collector is not charged for the synchronous collectors that ran after it was called.
    const elapsed = (): number => {
      const waitingSince = Math.max(called, phase.end ?? called);
      return (called - started + Math.max(0, performance.now() - waitingSince)) / 1000;
    };
    try {
      const pending = entry.running.collect();
      called = performance.now();
      const observations =
        pending instanceof Promise ? await this.#withDeadline(entry.name, pending, deadline) : pending;
      if (observations === undefined) return this.#failed(entry.name, elapsed(), 'scrape timeout reached');
      if (this.#lastError.delete(entry.name))
        this.#log.info('collector recovered', { collector: entry.name });
      return { observations: observations.items, ok: true, seconds: elapsed() };
    } catch (error) {
      return this.#failed(entry.name, elapsed(), error instanceof Error ? error.message : String(error));
    }
  }

  /** Resolves with the collector's result, or undefined at the deadline; a late result is dropped. */
  async #withDeadline<T>(name: string, pending: Promise<T>, deadline: number): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - performance.now()));
    });
    const settled = pending.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    const winner = await Promise.race([settled, timeout]);
    clearTimeout(timer);
    if (winner === undefined) {
      this.#stillRunning.add(name);
      void settled.then(() => this.#stillRunning.delete(name));
      return undefined;
    }
    if ('error' in winner) throw winner.error;
    return winner.value;
  }

  #failed(name: string, seconds: number, error: string): CollectorOutcome {
    if (this.#lastError.get(name) !== error) {
      this.#log.warn('collector failed', { collector: name, err: error });
      this.#lastError.set(name, error);
    }
    return { observations: [], ok: false, seconds, error };
  }

  /** Drops what this scrape did not observe, and gives each metric its Prometheus name and unit word. */
  #present(resourceMetrics: ResourceMetrics): ResourceMetrics {
    const scopeMetrics = resourceMetrics.scopeMetrics
      .filter(({ scope }) => this.#outcomes.get(scope.name)?.ok !== false)
      .map((scoped) => ({
        ...scoped,
        metrics: scoped.metrics
          .map((metric) => this.#presentMetric(metric))
          .filter((metric) => metric.dataPoints.length > 0),
      }));
    return { ...resourceMetrics, scopeMetrics };
  }

  #presentMetric(metric: MetricData): MetricData {
    const { descriptor } = metric;
    let translated = this.#names.get(descriptor.name);
    if (!translated) {
      translated = prometheusName(
        descriptor.name,
        descriptor.unit,
        metric.dataPointType !== DataPointType.SUM,
      );
      this.#names.set(descriptor.name, translated);
    }
    const renamed = { ...descriptor, name: translated.name, unit: translated.unit };
    if (metric.dataPointType === DataPointType.HISTOGRAM) return { ...metric, descriptor: renamed };
    const seen = this.#observed.get(descriptor.name);
    const dataPoints = metric.dataPoints.filter(
      (point) => seen?.has(attributesKey(point.attributes)) === true,
    );
    return { ...metric, descriptor: renamed, dataPoints } as MetricData;
  }
}

/** Two instruments that would export under one Prometheus name are a programming error: fail at start. */
export function assertUniqueNames(specs: readonly { name: string; unit: string; kind: string }[]): void {
  const owners = new Map<string, string>();
  for (const spec of specs) {
    const { name } = prometheusName(spec.name, spec.unit, spec.kind !== 'counter');
    const family = spec.kind === 'counter' ? `${name}_total` : name;
    const owner = owners.get(family);
    if (owner !== undefined && owner !== spec.name) {
      throw new Error(`metrics ${owner} and ${spec.name} would both be exported as ${family}`);
    }
    owners.set(family, spec.name);
  }
}

// The contract between one collector and the scrape loop.
//
// A collector reads its sources once per scrape and returns plain observations; the scrape loop
// owns the OpenTelemetry instruments and feeds the observations to them. Keeping collectors free
// of SDK state is what lets the scrape loop time them out, drop a failed collector's series from
// the response, and drop series whose device or mount disappeared (the SDK alone would keep
// exporting their last value forever).

import type { Meter } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import type { HostPaths } from '../io/host-files.ts';
import type { Logger } from '../log.ts';
import type { PartitionRule } from '../partitions/rules.ts';

/** A cumulative counter, a gauge (current value), or a histogram of recorded events. */
export type MetricKind = 'counter' | 'gauge' | 'histogram';

/** One exported metric, named and united after the OpenTelemetry semantic conventions. */
export interface MetricSpec {
  /** OpenTelemetry instrument name, e.g. `system.cpu.time`. */
  readonly name: string;
  readonly kind: MetricKind;
  /** UCUM unit: `s`, `By`, `Hz`, `Cel`, `1`, or an annotation such as `{process}`. */
  readonly unit: string;
  readonly description: string;
  /** Attribute keys every observation carries, in this order (documented in docs/metrics.md). */
  readonly labels: readonly string[];
  /** When the series may be absent (hardware or kernel feature), for docs/metrics.md; unset means always present. */
  readonly availability?: string;
}

export type Attributes = Readonly<Record<string, string>>;

/** A metric the scrape loop observes from a collector's readings. */
export type ObservedMetricSpec = MetricSpec & { readonly kind: 'counter' | 'gauge' };

export interface Observation {
  readonly metric: ObservedMetricSpec;
  readonly value: number;
  readonly attributes: Attributes;
}

/** Collects observations for one scrape; `add` skips non-finite values so a bad reading never exports NaN. */
export class Observations {
  readonly items: Observation[] = [];

  add(metric: ObservedMetricSpec, value: number, attributes: Attributes = {}): void {
    if (Number.isFinite(value)) this.items.push({ metric, value, attributes });
  }
}

export interface CollectorContext {
  readonly paths: HostPaths;
  readonly settings: CollectorSettings;
  readonly log: Logger;
  /** For the few instruments that are recorded as events rather than observed (GC durations). */
  readonly meter: Meter;
  /**
   * For series whose label sets churn (one per process): a prom-client registry whose gauges are reset
   * every scrape, so a series leaves the output with its process. SDK observables would keep every
   * label set they ever saw.
   */
  readonly registry: Registry;
}

/** Options that only some collectors read; all have defaults in the configuration schema. */
export interface CollectorSettings {
  readonly filesystem: {
    readonly mountPointsExclude: RegExp;
    readonly fsTypesExclude: RegExp;
    readonly mountTimeoutMs: number;
  };
  readonly disk: { readonly deviceExclude: RegExp };
  readonly network: { readonly deviceExclude: RegExp };
  readonly partitions: {
    readonly rules: readonly PartitionRule[];
    readonly inherit: boolean;
    /** How many top CPU processes to export; 0 for none. */
    readonly top: number;
    /** Where counters are kept across restarts; '' for nowhere. */
    readonly stateFile: string;
    readonly stateSaveIntervalMs: number;
    readonly diskUsageIntervalMs: number;
    readonly diskUsageConcurrency: number;
  };
}

export interface RunningCollector {
  /** Reads the sources. A thrown error marks the collector failed for this scrape. */
  collect(): Observations | Promise<Observations>;
  /** Releases observers, timers or workers, and saves what must survive a restart. */
  close?(): void | Promise<void>;
}

export interface CollectorDefinition {
  readonly name: string;
  /** One line, shown by `hostmeter collectors` and `--help`. */
  readonly description: string;
  readonly defaultEnabled: boolean;
  /** Every metric the collector may observe, for docs/metrics.md and instrument creation. */
  readonly metrics: readonly ObservedMetricSpec[];
  /** Metrics the collector records itself through `ctx.meter` (histograms), listed for the documentation. */
  readonly recordedMetrics?: readonly MetricSpec[];
  create(ctx: CollectorContext): RunningCollector | Promise<RunningCollector>;
}

/** The configuration does not fit this host (a rule names an unknown user): `serve` exits with code 2. */
export class SetupError extends Error {
  override name = 'SetupError';
}

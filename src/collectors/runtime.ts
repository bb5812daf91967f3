import {
  constants,
  type IntervalHistogram,
  monitorEventLoopDelay,
  type NodeGCPerformanceDetail,
  type PerformanceEntry,
  PerformanceObserver,
} from 'node:perf_hooks';
import v8 from 'node:v8';
import {
  type CollectorDefinition,
  type MetricSpec,
  Observations,
  type ObservedMetricSpec,
} from './collector.ts';

/** Sampling interval of the event-loop delay monitor, in milliseconds. */
const EVENT_LOOP_RESOLUTION_MS = 20;

const eventLoopDelay = (statistic: 'p50' | 'p99' | 'max', meaning: string): ObservedMetricSpec => ({
  name: `nodejs.eventloop.delay.${statistic}`,
  kind: 'gauge',
  unit: 's',
  description: `${meaning} event-loop delay since the previous scrape, beyond the ${EVENT_LOOP_RESOLUTION_MS} ms sampling interval.`,
  labels: [],
  availability: 'when the event loop was sampled since the previous scrape',
});

export const RUNTIME_METRICS = {
  heapUsed: {
    name: 'v8js.memory.heap.used',
    kind: 'gauge',
    unit: 'By',
    description: 'Bytes of objects in a V8 heap space.',
    labels: ['v8js.heap.space.name'],
  },
  heapLimit: {
    name: 'v8js.memory.heap.limit',
    kind: 'gauge',
    unit: 'By',
    description: 'Bytes V8 has reserved for a heap space.',
    labels: ['v8js.heap.space.name'],
  },
  eventLoopDelayP50: eventLoopDelay('p50', 'Median'),
  eventLoopDelayP99: eventLoopDelay('p99', '99th percentile'),
  eventLoopDelayMax: eventLoopDelay('max', 'Maximum'),
  cpuTime: {
    name: 'process.cpu.time',
    kind: 'counter',
    unit: 's',
    description: 'CPU time consumed by the exporter process.',
    labels: ['cpu.mode'],
  },
  memoryUsage: {
    name: 'process.memory.usage',
    kind: 'gauge',
    unit: 'By',
    description: 'Resident set size of the exporter process.',
    labels: [],
  },
} as const satisfies Record<string, ObservedMetricSpec>;

export const GC_DURATION: MetricSpec = {
  name: 'v8js.gc.duration',
  kind: 'histogram',
  unit: 's',
  description: 'Duration of V8 garbage collection pauses.',
  labels: ['v8js.gc.type'],
  availability: 'after the first garbage collection',
};

/** Minor collections usually take well under a millisecond, so the buckets start at 100 µs. */
const GC_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];

const GC_TYPES: ReadonlyMap<number, string> = new Map([
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
]);

/**
 * The monitor's samples are the time between two ticks of its repeating timer, so an idle loop reads
 * the resolution itself; subtracting it leaves the delay the loop actually added.
 */
function delaySeconds(nanoseconds: number): number {
  return Math.max(0, nanoseconds / 1e9 - EVENT_LOOP_RESOLUTION_MS / 1000);
}

function observeEventLoop(histogram: IntervalHistogram, out: Observations): void {
  // Without a sample since the last reset (two scrapes closer than the resolution) the histogram's
  // statistics are meaningless placeholders, so nothing is reported.
  if (histogram.count === 0) return;
  out.add(RUNTIME_METRICS.eventLoopDelayP50, delaySeconds(histogram.percentile(50)));
  out.add(RUNTIME_METRICS.eventLoopDelayP99, delaySeconds(histogram.percentile(99)));
  out.add(RUNTIME_METRICS.eventLoopDelayMax, delaySeconds(histogram.max));
  // Each scrape describes the interval since the previous one rather than the whole process lifetime.
  histogram.reset();
}

export const runtimeCollector: CollectorDefinition = {
  name: 'runtime',
  description: "The exporter's own GC pauses, heap, event-loop delay, CPU time and memory",
  defaultEnabled: true,
  metrics: Object.values(RUNTIME_METRICS),
  recordedMetrics: [GC_DURATION],
  create({ meter }) {
    const gcDuration = meter.createHistogram(GC_DURATION.name, {
      unit: GC_DURATION.unit,
      description: GC_DURATION.description,
      advice: { explicitBucketBoundaries: GC_BUCKETS },
    });
    // V8 can report several collections in one batch; every entry is recorded, not just the first.
    const gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const { detail } = entry as PerformanceEntry & { detail?: NodeGCPerformanceDetail };
        const type = detail === undefined ? undefined : GC_TYPES.get(detail.kind);
        if (type !== undefined) gcDuration.record(entry.duration / 1000, { 'v8js.gc.type': type });
      }
    });
    gcObserver.observe({ entryTypes: ['gc'] });
    const eventLoop = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
    eventLoop.enable();

    return {
      collect() {
        const out = new Observations();
        for (const space of v8.getHeapSpaceStatistics()) {
          const attributes = { 'v8js.heap.space.name': space.space_name };
          out.add(RUNTIME_METRICS.heapUsed, space.space_used_size, attributes);
          out.add(RUNTIME_METRICS.heapLimit, space.space_size, attributes);
        }
        observeEventLoop(eventLoop, out);
        const cpu = process.cpuUsage();
        out.add(RUNTIME_METRICS.cpuTime, cpu.user / 1e6, { 'cpu.mode': 'user' });
        out.add(RUNTIME_METRICS.cpuTime, cpu.system / 1e6, { 'cpu.mode': 'system' });
        out.add(RUNTIME_METRICS.memoryUsage, process.memoryUsage.rss());
        return out;
      },
      close() {
        gcObserver.disconnect();
        eventLoop.disable();
      },
    };
  },
};

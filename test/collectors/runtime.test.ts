import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { setImmediate as nextTick } from 'node:timers/promises';
import { type HistogramMetricData, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { RUNTIME_METRICS, runtimeCollector } from '../../src/collectors/runtime.ts';
import { observed, testContext } from '../helpers/context.ts';

class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

async function gcHistogram(reader: MetricReader): Promise<HistogramMetricData | undefined> {
  const { resourceMetrics } = await reader.collect();
  const all = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  return all.find((metric) => metric.descriptor.name === 'v8js.gc.duration') as
    | HistogramMetricData
    | undefined;
}

/** Young-generation garbage: enough short-lived objects to trigger scavenges. */
function allocate(): number {
  let total = 0;
  for (let i = 0; i < 200_000; i++) total += [i, { i }].length;
  return total;
}

describe('runtime collector', () => {
  it('records minor GC pauses in the histogram', async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const running = await runtimeCollector.create({ ...testContext(), meter: provider.getMeter('t') });
    try {
      let minorCount = 0;
      for (let round = 0; round < 200 && minorCount === 0; round++) {
        allocate();
        // GC entries reach the observer asynchronously.
        await nextTick();
        const point = (await gcHistogram(reader))?.dataPoints.find(
          (p) => p.attributes['v8js.gc.type'] === 'minor',
        );
        minorCount = point?.value.count ?? 0;
      }
      assert.ok(minorCount >= 1, 'no minor GC recorded');
      const histogram = await gcHistogram(reader);
      assert.equal(histogram?.descriptor.unit, 's');
      assert.deepEqual(
        histogram?.dataPoints[0]?.value.buckets.boundaries,
        [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      );
    } finally {
      await running.close?.();
      await provider.shutdown();
    }
  });

  it('reports CPU time, RSS, heap spaces and event-loop delay of this process', async () => {
    const running = await runtimeCollector.create(testContext());
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const before = process.cpuUsage();
      const out = await running.collect();
      const user = observed(out, 'process.cpu.time', { 'cpu.mode': 'user' }) ?? Number.NaN;
      const system = observed(out, 'process.cpu.time', { 'cpu.mode': 'system' }) ?? Number.NaN;
      assert.ok(user >= before.user / 1e6, `user ${user} < ${before.user / 1e6}`);
      assert.ok(system >= before.system / 1e6, `system ${system} < ${before.system / 1e6}`);

      const vmRssKiB = Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
      const rss = observed(out, 'process.memory.usage') ?? Number.NaN;
      assert.ok(
        Math.abs(rss - vmRssKiB * 1024) <= 0.2 * vmRssKiB * 1024,
        `rss ${rss} vs VmRSS ${vmRssKiB} kB`,
      );

      const oldSpace = { 'v8js.heap.space.name': 'old_space' };
      const used = observed(out, 'v8js.memory.heap.used', oldSpace) ?? Number.NaN;
      const limit = observed(out, 'v8js.memory.heap.limit', oldSpace) ?? Number.NaN;
      assert.ok(used > 0 && used <= limit, `old_space used ${used} limit ${limit}`);

      const p50 = observed(out, 'nodejs.eventloop.delay.p50') ?? Number.NaN;
      const max = observed(out, 'nodejs.eventloop.delay.max') ?? Number.NaN;
      assert.ok(p50 >= 0 && p50 <= max, `p50 ${p50} max ${max}`);

      for (const { metric, attributes } of out.items) {
        assert.ok(Object.values(RUNTIME_METRICS).includes(metric));
        assert.deepEqual(Object.keys(attributes), metric.labels);
      }
    } finally {
      await running.close?.();
    }
  });
});

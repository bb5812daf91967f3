import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Observations,
  type ObservedMetricSpec,
  type RunningCollector,
} from '../../src/collectors/collector.ts';
import { silentLogger } from '../../src/log.ts';
import { assertUniqueNames, type CollectorEntry, Scraper } from '../../src/server/scrape.ts';
import { createTelemetry } from '../../src/server/telemetry.ts';

const DEVICE_BYTES: ObservedMetricSpec = {
  name: 'test.device.io',
  kind: 'counter',
  unit: 'By',
  description: 'Bytes per device.',
  labels: ['device'],
};
const TEMPERATURE: ObservedMetricSpec = {
  name: 'test.temperature',
  kind: 'gauge',
  unit: 'Cel',
  description: 'A temperature.',
  labels: [],
};

function scraperFor(
  collectors: Record<string, { metrics: ObservedMetricSpec[]; running: RunningCollector }>,
): Scraper {
  const telemetry = createTelemetry('test');
  const entries: CollectorEntry[] = Object.entries(collectors).map(([name, value]) => ({ name, ...value }));
  return new Scraper(entries, (scope) => telemetry.provider.getMeter(scope), telemetry.reader, silentLogger);
}

const observing = (fill: (out: Observations) => void) => (): Observations => {
  const out = new Observations();
  fill(out);
  return out;
};

describe('Scraper', () => {
  it('exports collector readings under Prometheus names with unit suffixes', async () => {
    const scraper = scraperFor({
      devices: {
        metrics: [DEVICE_BYTES],
        running: { collect: observing((out) => out.add(DEVICE_BYTES, 42, { device: 'vda' })) },
      },
    });
    const text = (await scraper.scrape(1000)).text();
    assert.match(text, /^# TYPE test_device_io_bytes_total counter$/m);
    assert.match(text, /^test_device_io_bytes_total\{device="vda"\} 42$/m);
    assert.match(text, /^hostmeter_scrape_collector_success\{collector="devices"\} 1$/m);
  });

  it('drops series whose attribute set was not observed in this scrape', async () => {
    let devices = ['vda', 'vdb'];
    const scraper = scraperFor({
      devices: {
        metrics: [DEVICE_BYTES],
        running: {
          collect: observing((out) => {
            for (const device of devices) out.add(DEVICE_BYTES, 1, { device });
          }),
        },
      },
    });
    assert.match((await scraper.scrape(1000)).text(), /device="vdb"/);
    devices = ['vda'];
    const text = (await scraper.scrape(1000)).text();
    assert.match(text, /device="vda"/);
    assert.doesNotMatch(text, /device="vdb"/);
  });

  it('shares one collection between concurrent scrapes', async () => {
    let calls = 0;
    const scraper = scraperFor({
      slow: {
        metrics: [TEMPERATURE],
        running: {
          collect: async () => {
            calls++;
            await new Promise((resolve) => setTimeout(resolve, 50));
            const out = new Observations();
            out.add(TEMPERATURE, 40);
            return out;
          },
        },
      },
    });
    const results = await Promise.all([scraper.scrape(1000), scraper.scrape(1000), scraper.scrape(1000)]);
    assert.equal(calls, 1);
    assert.equal(new Set(results).size, 1);
    await scraper.scrape(1000);
    assert.equal(calls, 2, 'a later scrape collects again');
  });

  it('reports a collector that misses the deadline as failed, leaves its series out and does not restart it', async () => {
    let hungCalls = 0;
    let release: () => void = () => {};
    const scraper = scraperFor({
      hung: {
        metrics: [TEMPERATURE],
        running: {
          collect: () => {
            hungCalls++;
            return new Promise<Observations>((resolve) => {
              release = () => resolve(observing((out) => out.add(TEMPERATURE, 99))());
            });
          },
        },
      },
      devices: {
        metrics: [DEVICE_BYTES],
        running: { collect: observing((out) => out.add(DEVICE_BYTES, 7, { device: 'vda' })) },
      },
    });
    const first = (await scraper.scrape(100)).text();
    assert.match(first, /^hostmeter_scrape_collector_success\{collector="hung"\} 0$/m);
    assert.match(first, /^hostmeter_scrape_collector_success\{collector="devices"\} 1$/m);
    assert.match(first, /^test_device_io_bytes_total\{device="vda"\} 7$/m);
    assert.doesNotMatch(first, /test_temperature/);

    const second = (await scraper.scrape(100)).text();
    assert.equal(hungCalls, 1, 'a collection still running is not started again');
    assert.match(second, /^hostmeter_scrape_collector_success\{collector="hung"\} 0$/m);

    release();
    await new Promise((resolve) => setImmediate(resolve));
    const third = (await scraper.scrape(100)).text();
    assert.equal(hungCalls, 2);
    assert.match(
      third,
      /^hostmeter_scrape_collector_success\{collector="hung"\} 0$/m,
      'the new call hangs again',
    );
  });

  it('reports a collector that throws as failed and keeps serving the others', async () => {
    const scraper = scraperFor({
      broken: {
        metrics: [TEMPERATURE],
        running: {
          collect: () => {
            throw new Error('cannot read /proc/broken: EACCES');
          },
        },
      },
      devices: {
        metrics: [DEVICE_BYTES],
        running: { collect: observing((out) => out.add(DEVICE_BYTES, 1, { device: 'vda' })) },
      },
    });
    const text = (await scraper.scrape(1000)).text();
    assert.match(text, /^hostmeter_scrape_collector_success\{collector="broken"\} 0$/m);
    assert.match(text, /^test_device_io_bytes_total/m);
  });

  it('serves gzip and OpenMetrics from the same collection', async () => {
    const { gunzipSync } = await import('node:zlib');
    const scraper = scraperFor({
      devices: {
        metrics: [DEVICE_BYTES],
        running: { collect: observing((out) => out.add(DEVICE_BYTES, 5, { device: 'vda' })) },
      },
    });
    const exposition = await scraper.scrape(1000);
    assert.equal(gunzipSync(exposition.body('text', true) as Buffer).toString(), exposition.text());
    assert.match(exposition.openMetrics(), /^# TYPE test_device_io_bytes counter$/m);
    assert.match(exposition.openMetrics(), /# EOF\n$/);
  });
});

describe('assertUniqueNames', () => {
  it('rejects two instruments that would share a Prometheus name', () => {
    assert.throws(
      () =>
        assertUniqueNames([
          { name: 'a.b', unit: 's', kind: 'gauge' },
          { name: 'a.b_seconds', unit: '', kind: 'gauge' },
        ]),
      /a\.b and a\.b_seconds would both be exported as a_b_seconds/,
    );
  });
});

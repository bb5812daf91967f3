// A real Prometheus scrapes a real `hostmeter serve` every second; every check asks Prometheus.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { statfsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { COLLECTORS } from '../../src/collectors/index.ts';
import { type RunningHostmeter, startHostmeter, waitFor } from '../helpers/hostmeter.ts';
import { type RunningPrometheus, requireBinary, startPrometheus } from '../helpers/prometheus.ts';

/** Prometheus 2.42's Accept header for scrapes. */
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

describe('hostmeter scraped by a real Prometheus', () => {
  let hostmeter: RunningHostmeter;
  let prometheus: RunningPrometheus;

  /** The value Prometheus holds now for a single series. */
  const latest = (expr: string): Promise<number> => prometheus.scalar(expr);

  /** Waits until Prometheus has scraped at least `count` more times. */
  const scrapes = async (count: number): Promise<void> => {
    const target = (await latest('count_over_time(up{job="hostmeter"}[1h])')) + count;
    await waitFor(
      async () => (await latest('count_over_time(up{job="hostmeter"}[1h])')) >= target,
      `${count} scrapes`,
      30_000,
    );
  };

  before(async () => {
    requireBinary('prometheus');
    hostmeter = await startHostmeter();
    prometheus = await startPrometheus({ targets: [new URL(hostmeter.url).host] });
    await waitFor(
      async () => (await prometheus.query('up{job="hostmeter"} == 1')).length === 1,
      'first scrape',
      30_000,
    );
    await scrapes(2);
  });

  after(async () => {
    await prometheus?.stop();
    await hostmeter?.stop();
  });

  it('is up, and Prometheus reports no scrape error', async () => {
    assert.equal(await latest('up{job="hostmeter"}'), 1);
    const [target] = await prometheus.targets();
    assert.equal(target?.health, 'up');
    assert.equal(target?.lastError, '');
  });

  it('reports success for every enabled collector', async () => {
    const samples = await prometheus.query('hostmeter_scrape_collector_success');
    const enabled = COLLECTORS.filter((collector) => collector.defaultEnabled).map(
      (collector) => collector.name,
    );
    assert.deepEqual(samples.map((sample) => sample.metric.collector).sort(), [...enabled].sort());
    for (const sample of samples)
      assert.equal(sample.value, 1, `collector ${sample.metric.collector} succeeded`);
  });

  it('shows CPU seconds rising', async () => {
    const before = await latest('sum(system_cpu_time_seconds_total)');
    await scrapes(2);
    const later = await latest('sum(system_cpu_time_seconds_total)');
    assert.ok(later > before, `CPU seconds rose: ${before} → ${later}`);
  });

  it('reports the root filesystem size that statfs gives', async () => {
    const stats = statfsSync('/');
    const size = await latest('system_filesystem_limit_bytes{system_filesystem_mountpoint="/"}');
    assert.equal(size, stats.blocks * stats.bsize);
  });

  it('counts a loopback transfer of N bytes in lo receive bytes', async () => {
    const N = 8 * 1024 * 1024;
    const query = 'system_network_io_bytes_total{network_interface_name="lo",network_io_direction="receive"}';
    const before = await latest(query);
    const server = createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.end(Buffer.alloc(N, 1)));
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    server.close();
    await scrapes(2);
    const later = await latest(query);
    assert.ok(later - before >= N, `lo received ${later - before} bytes, at least ${N} expected`);
  });

  it('negotiates OpenMetrics with the header Prometheus sends, and gzip', async () => {
    const response = await fetch(`${hostmeter.url}/metrics`, {
      headers: { Accept: PROMETHEUS_ACCEPT, 'Accept-Encoding': 'gzip' },
    });
    assert.equal(
      response.headers.get('content-type'),
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    );
    assert.equal(response.headers.get('content-encoding'), 'gzip');
    const body = await response.text(); // fetch decompresses
    assert.match(body, /^# TYPE system_cpu_time_seconds counter$/m);
    assert.match(body, /# EOF\n$/);
    const plain = await fetch(`${hostmeter.url}/metrics`);
    assert.equal(plain.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  });

  it('passes promtool check metrics without a finding', async () => {
    const body = await (await fetch(`${hostmeter.url}/metrics`)).text();
    const result = spawnSync(requireBinary('promtool'), ['check', 'metrics'], {
      input: body,
      encoding: 'utf8',
    });
    assert.equal(`${result.stdout}${result.stderr}`, '');
    assert.equal(result.status, 0);
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger, type Logger } from '../../src/log.ts';
import {
  PrometheusClient,
  type PrometheusClientOptions,
  PrometheusError,
  type RawSeries,
} from '../../src/report/prometheus-client.ts';
import { startFakeHttp } from '../helpers/fake-http.ts';
import { freePort, nodeAsync, waitFor } from '../helpers/hostmeter.ts';
import { type RunningPrometheus, requireBinary, startPrometheus } from '../helpers/prometheus.ts';

const T = 1_700_000_000;

function matrixAnswer(result: unknown[], extra = ''): string {
  return `{"status":"success","data":{"resultType":"matrix","result":${JSON.stringify(result)}}${extra}}`;
}

function recordingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger('debug', 'json', (line) => lines.push(line)), lines };
}

function client(url: string, options: Partial<PrometheusClientOptions> = {}): PrometheusClient {
  return new PrometheusClient({ url, timeoutMs: 2000, retries: 2, backoffMs: 5, ...options });
}

async function collect(
  run: (onSeries: (series: RawSeries) => void) => Promise<number>,
): Promise<{ count: number; series: RawSeries[] }> {
  const series: RawSeries[] = [];
  const count = await run((one) => series.push(one));
  return { count, series };
}

async function rejection(promise: Promise<unknown>): Promise<PrometheusError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof PrometheusError, `expected a PrometheusError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the query to fail');
}

describe('PrometheusClient answers', () => {
  it('streams the raw samples of every series, with special values, escapes and trailing warnings', async () => {
    const labels = { __name__: 'cpu', instance: 'h{1}', partition: 'a "quoted" \\ ü 日本 [x]' };
    const server = await startFakeHttp([
      {
        body: matrixAnswer(
          [
            {
              metric: labels,
              values: [
                [T - 60, '0'], // on the left edge: outside (t - 60, t]
                [T - 59.999, '1.5'],
                [T - 30, 'NaN'],
                [T - 10, '+Inf'],
                [T, '-Inf'],
              ],
            },
            { metric: { instance: 'h2' }, values: [[T - 60, '7']] },
            { metric: { instance: 'h3' }, values: [[T - 1, '1e3']] },
          ],
          ',"warnings":["something {odd}"],"infos":[]',
        ),
      },
    ]);
    try {
      const { count, series } = await collect((on) => client(server.url).rangeSamples('cpu', 60, T, on));
      assert.equal(count, 2, 'the series whose only sample is on the left edge is left out');
      assert.deepEqual(series[0]?.labels, labels);
      assert.deepEqual(series[0]?.samples, [
        { t: T - 59.999, v: 1.5 },
        { t: T - 30, v: Number.NaN },
        { t: T - 10, v: Number.POSITIVE_INFINITY },
        { t: T, v: Number.NEGATIVE_INFINITY },
      ]);
      assert.deepEqual(series[1], { labels: { instance: 'h3' }, samples: [{ t: T - 1, v: 1000 }] });
      const [request] = server.requests;
      assert.equal(request?.method, 'POST');
      assert.equal(request?.url, '/api/v1/query');
      assert.match(String(request?.headers['content-type']), /^application\/x-www-form-urlencoded/);
      const form = new URLSearchParams(request?.body);
      assert.equal(form.get('query'), 'cpu[60s]');
      assert.equal(Number(form.get('time')), T);
      assert.equal(request?.headers.authorization, undefined);
      assert.match(String(request?.headers['accept-encoding']), /gzip/);
    } finally {
      await server.close();
    }
  });

  it('reads compact answers (the byte parser) exactly as spaced ones (JSON.parse)', async () => {
    const result = [
      {
        metric: { instance: 'h,"values":[[1,"2"]]}', partition: '{"metric":\\"' },
        values: [
          [T - 3000, '1'],
          [T - 2999.9, '2.5e-7'],
          [T - 2999.99, '-3'],
          [T - 0.001, '1.7976931348623157e+308'],
          [T, '12345678901234567'],
        ],
      },
      { metric: {}, values: [[T - 10, 'NaN']] },
      { metric: { instance: 'h2' }, values: [] },
    ];
    const compact = matrixAnswer(result);
    const spaced = JSON.stringify(JSON.parse(compact), null, 1);
    const server = await startFakeHttp([{ body: compact }, { body: spaced }]);
    try {
      const fast = await collect((on) => client(server.url).rangeSamples('x', 3600, T, on));
      const generic = await collect((on) => client(server.url).rangeSamples('x', 3600, T, on));
      assert.deepEqual(fast, generic);
      assert.equal(fast.count, 2);
      assert.deepEqual(
        fast.series[0]?.samples.map((sample) => sample.t),
        [T - 3000, T - 2999.9, T - 2999.99, T - 0.001, T],
      );
      assert.equal(fast.series[0]?.samples[4]?.v, Number('12345678901234567'));
    } finally {
      await server.close();
    }
  });

  it('lists label values with a GET of the index API, and rejects a malformed list', async () => {
    const server = await startFakeHttp([
      { body: '{"status":"success","data":["b","a"]}' },
      { body: '{"status":"success","data":["a",1]}' },
    ]);
    try {
      const reader = client(`${server.url}/prefix/`, { auth: { bearer: 'token' }, gzip: false });
      assert.deepEqual(await reader.labelValues('instance', ['x', 'y{a="1"}'], T - 60, T), ['a', 'b']);
      const [request] = server.requests;
      assert.equal(request?.method, 'GET');
      const url = new URL(request?.url ?? '', server.url);
      assert.equal(url.pathname, '/prefix/api/v1/label/instance/values');
      assert.deepEqual(url.searchParams.getAll('match[]'), ['x', 'y{a="1"}']);
      assert.equal(Number(url.searchParams.get('start')), T - 60);
      assert.equal(Number(url.searchParams.get('end')), T);
      assert.equal(request?.headers.authorization, 'Bearer token');
      assert.equal(request?.headers['accept-encoding'], 'identity');
      const error = await rejection(reader.labelValues('instance', ['x'], T - 60, T));
      assert.equal(error.kind, 'malformed');
      assert.match(error.message, /a label value is not a string/);
    } finally {
      await server.close();
    }
  });

  it('parses an answer that arrives one character at a time', async () => {
    const body = matrixAnswer([
      { metric: { instance: 'hôte-ü', partition: '}]"\\' }, values: [[T, '2']] },
      { metric: {}, values: [[T, '3']] },
    ]);
    const server = await startFakeHttp([{ body: () => [...body] }]);
    try {
      const { count, series } = await collect((on) => client(server.url).rangeSamples('x', 3600, T, on));
      assert.equal(count, 2);
      assert.deepEqual(series[0]?.labels, { instance: 'hôte-ü', partition: '}]"\\' });
      assert.deepEqual(series[1]?.samples, [{ t: T, v: 3 }]);
    } finally {
      await server.close();
    }
  });

  it('answers instant queries with one-sample series and works under a path prefix with auth', async () => {
    const server = await startFakeHttp([
      {
        body: JSON.stringify({
          status: 'success',
          data: {
            resultType: 'vector',
            result: [
              { metric: { instance: 'a' }, value: [T - 120.5, '42'] },
              { metric: { instance: 'b' }, value: [T - 3, '0.25'] },
            ],
          },
        }),
      },
      { body: '{"status":"success","data":{"resultType":"vector","result":[]}}' },
    ]);
    try {
      const basic = client(`${server.url}/prometheus/`, { auth: { username: 'report', password: 'pä:ss' } });
      const { count, series } = await collect((on) => basic.instant('last_over_time(x[1h])', T, on));
      assert.equal(count, 2);
      assert.deepEqual(series[0], { labels: { instance: 'a' }, samples: [{ t: T - 120.5, v: 42 }] });
      const bearer = client(`${server.url}/prometheus`, { auth: { bearer: 'tok.en' } });
      assert.equal(await bearer.instant('absent_metric', T, () => assert.fail('no series')), 0);
      assert.deepEqual(
        server.requests.map((request) => [request.url, request.headers.authorization]),
        [
          ['/prometheus/api/v1/query', `Basic ${Buffer.from('report:pä:ss').toString('base64')}`],
          ['/prometheus/api/v1/query', 'Bearer tok.en'],
        ],
      );
    } finally {
      await server.close();
    }
  });
});

describe('PrometheusClient faults', () => {
  it('reports an unreachable Prometheus after retries + 1 attempts, logging each retry', async () => {
    const { log, lines } = recordingLogger();
    const url = `http://127.0.0.1:${await freePort()}`;
    const error = await rejection(client(url, { log }).rangeSamples('up', 60, T, () => {}));
    assert.equal(error.kind, 'unreachable');
    assert.equal(error.query, 'up[60s]');
    assert.match(error.message, /unreachable for the query "up\[60s\]": .*ECONNREFUSED.*\(3 attempts\)/);
    assert.equal(lines.length, 2);
    for (const line of lines) {
      const record = JSON.parse(line) as Record<string, unknown>;
      assert.equal(record.level, 'warn');
      assert.equal(record.query, 'up[60s]');
    }
  });

  it('retries 500s and then succeeds', async () => {
    const { log, lines } = recordingLogger();
    const server = await startFakeHttp([
      { status: 500, body: '{"status":"error","errorType":"internal","error":"boom"}' },
      { status: 500, body: 'proxy says no' },
      { body: matrixAnswer([{ metric: { instance: 'a' }, values: [[T, '1']] }]) },
    ]);
    try {
      const { count } = await collect((on) => client(server.url, { log }).rangeSamples('up', 60, T, on));
      assert.equal(count, 1);
      assert.equal(server.requests.length, 3);
      assert.equal(lines.length, 2);
      assert.match(lines[0] ?? '', /internal: boom/);
    } finally {
      await server.close();
    }
  });

  it('gives up on 5xx after the retries', async () => {
    const server = await startFakeHttp([{ status: 503, body: 'unavailable' }]);
    try {
      const error = await rejection(client(server.url, { retries: 1 }).instant('up', T, () => {}));
      assert.equal(error.kind, 'server');
      assert.equal(error.status, 503);
      assert.equal(server.requests.length, 2);
    } finally {
      await server.close();
    }
  });

  it('times out on a slow answer, after the retries', async () => {
    const server = await startFakeHttp([{ delayMs: 2000, body: matrixAnswer([]) }]);
    try {
      const slow = client(server.url, { timeoutMs: 100, retries: 1 });
      const error = await rejection(slow.rangeSamples('up', 60, T, () => {}));
      assert.equal(error.kind, 'timeout');
      assert.match(error.message, /did not answer the query "up\[60s\]" within 100 ms/);
      assert.equal(server.requests.length, 2);
    } finally {
      await server.close();
    }
  });

  it('names the query and Prometheus error on a 4xx, without retrying', async () => {
    const server = await startFakeHttp([
      {
        status: 400,
        body: '{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected end of input"}',
      },
    ]);
    try {
      const error = await rejection(client(server.url).instant('foo[1d', T, () => {}));
      assert.equal(error.kind, 'client');
      assert.equal(error.status, 400);
      assert.equal(
        error.message,
        'Prometheus rejected the query "foo[1d": 400 bad_data: 1:5: parse error: unexpected end of input',
      );
      assert.equal(server.requests.length, 1);
    } finally {
      await server.close();
    }
  });

  it('treats a 200 with status error like a rejection', async () => {
    const server = await startFakeHttp([
      { body: '{"status":"error","errorType":"execution","error":"too many samples"}' },
    ]);
    try {
      const error = await rejection(client(server.url).rangeSamples('x', 86400, T, () => {}));
      assert.equal(error.kind, 'client');
      assert.match(
        error.message,
        /^Prometheus rejected the query "x\[86400s\]": 200 execution: too many samples$/,
      );
      assert.equal(server.requests.length, 1);
    } finally {
      await server.close();
    }
  });

  for (const [name, body] of [
    [
      'invalid JSON',
      '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"2"]]',
    ],
    ['a truncated element', '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"val'],
    [
      'garbage in an element',
      '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{}, nope}]}}',
    ],
    ['an HTML page', '<html><body>Sign in</body></html>'],
    ['an empty body', ''],
    ['a wrong result type', '{"status":"success","data":{"resultType":"vector","result":[]}}'],
    ['a scalar result', '{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}'],
    ['no result', '{"status":"success","data":{"resultType":"matrix"}}'],
    ['a bad sample value', matrixAnswer([{ metric: {}, values: [[T, 'lots']] }])],
    ['a sample that is not a pair', matrixAnswer([{ metric: {}, values: [[T]] }])],
    ['a numeric label', matrixAnswer([{ metric: { a: 1 }, values: [[T, '1']] }])],
    ['native histograms', matrixAnswer([{ metric: {}, histograms: [[T, {}]] }])],
    ['a missing status', '{"data":{"resultType":"matrix","result":[]}}'],
    ['data after the end', `${matrixAnswer([])}{}`],
  ] as const) {
    it(`rejects ${name} as malformed, without retrying`, async () => {
      const server = await startFakeHttp([{ body }]);
      try {
        const error = await rejection(client(server.url).rangeSamples('up', 60, T, () => {}));
        assert.equal(error.kind, 'malformed');
        assert.match(error.message, /^Prometheus sent a malformed answer to the query "up\[60s\]": /);
        assert.equal(server.requests.length, 1);
      } finally {
        await server.close();
      }
    });
  }

  it('retries a connection reset before any series, but not once series were delivered', async () => {
    const answer = matrixAnswer([
      { metric: { instance: 'a' }, values: [[T, '1']] },
      { metric: { instance: 'b' }, values: [[T, '2']] },
    ]);
    const server = await startFakeHttp([
      { reset: true },
      { body: answer },
      { body: answer.slice(0, answer.indexOf('"b"')), resetAfterBody: true },
    ]);
    try {
      const reader = client(server.url);
      assert.equal((await collect((on) => reader.rangeSamples('up', 60, T, on))).count, 2);
      assert.equal(server.requests.length, 2);
      const seen: RawSeries[] = [];
      const error = await rejection(reader.rangeSamples('up', 60, T, (series) => seen.push(series)));
      assert.equal(error.kind, 'unreachable');
      assert.match(error.message, /after 1 series were delivered, so not retried/);
      assert.equal(seen.length, 1);
      assert.equal(server.requests.length, 3);
    } finally {
      await server.close();
    }
  });

  it('refuses a range that is not a whole number of seconds before asking', async () => {
    await assert.rejects(
      client('http://127.0.0.1:1').rangeSamples('up', 1.5, T, () => {}),
      RangeError,
    );
  });

  it('passes an error thrown by the callback through, without retrying', async () => {
    const server = await startFakeHttp([{ body: matrixAnswer([{ metric: {}, values: [[T, '1']] }]) }]);
    try {
      await assert.rejects(
        client(server.url).rangeSamples('up', 60, T, () => {
          throw new Error('caller is full');
        }),
        /caller is full/,
      );
      assert.equal(server.requests.length, 1);
    } finally {
      await server.close();
    }
  });
});

describe('PrometheusClient memory', () => {
  // The client runs in a child process so that its memory is not mixed with the fake server's, with a V8
  // heap limit far below the answer's size. Reading a first answer a tenth the size pays the fixed costs
  // (fetch loaded, code compiled, young generation grown: about 25 MB of RSS whatever the size), so the
  // growth of the peak RSS from the small to the large answer is what the answer's size costs.
  const CLIENT = `
    import { PrometheusClient } from ${JSON.stringify(new URL('../../src/report/prometheus-client.ts', import.meta.url).href)};
    const client = new PrometheusClient({ url: process.argv[2], timeoutMs: 120000, retries: 0, backoffMs: 1 });
    const read = async () => {
      let samples = 0;
      let sum = 0;
      const started = performance.now();
      const series = await client.rangeSamples('cpu', 7200, ${T}, (one) => {
        samples += one.samples.length;
        for (const sample of one.samples) sum += sample.v;
      });
      return { series, samples, sum, ms: Math.round(performance.now() - started), peak: process.resourceUsage().maxRSS * 1024 };
    };
    globalThis.gc();
    const start = process.memoryUsage().rss;
    const small = await read();
    const large = await read();
    console.log(JSON.stringify({ start, small, large }));
  `;

  it('parses a 50 MB answer with memory bounded by one series, not by the answer', async () => {
    const samplesPerSeries = 50;
    const values = Array.from({ length: samplesPerSeries }, (_, i) => `[${T - 3600 + i * 60},"${i}.5"]`).join(
      ',',
    );
    const bodyBytes = [0, 0];
    function answer(index: number, seriesCount: number): () => Generator<string> {
      return function* body() {
        const parts = ['{"status":"success","data":{"resultType":"matrix","result":['];
        for (let s = 0; s < seriesCount; s++) {
          const labels = `"__name__":"cpu","instance":"host-${s % 997}:9464","partition":"slapuser${s}"`;
          parts.push(`${s === 0 ? '' : ','}{"metric":{${labels}},"values":[${values}]}`);
          if (parts.length >= 64 || s === seriesCount - 1) {
            if (s === seriesCount - 1) parts.push(']},"warnings":[]}');
            const chunk = parts.join('');
            bodyBytes[index] = (bodyBytes[index] ?? 0) + Buffer.byteLength(chunk);
            yield chunk;
            parts.length = 0;
          }
        }
      };
    }
    const seriesCounts = [5_000, 50_000];
    const server = await startFakeHttp((_request, index) => ({
      body: answer(index, seriesCounts[index] ?? 0),
    }));
    const dir = mkdtempSync(join(tmpdir(), 'hm-client-'));
    try {
      writeFileSync(join(dir, 'client.mjs'), CLIENT);
      const { status, stdout, stderr } = await nodeAsync(
        ['--max-old-space-size=16', '--expose-gc', join(dir, 'client.mjs'), server.url],
        300_000,
      );
      assert.equal(status, 0, stderr);
      interface Read {
        series: number;
        samples: number;
        sum: number;
        ms: number;
        peak: number;
      }
      const { start, small, large } = JSON.parse(stdout) as { start: number; small: Read; large: Read };
      const [smallBytes = 0, largeBytes = 0] = bodyBytes;
      const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);
      const growth = large.peak - small.peak;
      console.log(
        `# ${mb(largeBytes)} MB answer: ${large.series} series, ${large.samples} samples in ${large.ms} ms; ` +
          `peak RSS +${mb(small.peak - start)} MB after a ${mb(smallBytes)} MB answer, then +${mb(growth)} MB more`,
      );
      assert.ok(largeBytes > 50e6);
      const perSeries = (samplesPerSeries * (samplesPerSeries - 1)) / 2 + samplesPerSeries * 0.5;
      for (const [read, seriesCount] of [
        [small, 5_000],
        [large, 50_000],
      ] as const) {
        assert.equal(read.series, seriesCount);
        assert.equal(read.samples, seriesCount * samplesPerSeries);
        assert.equal(read.sum, seriesCount * perSeries);
      }
      assert.ok(
        growth < (largeBytes - smallBytes) / 5,
        `peak RSS grew by ${mb(growth)} MB more for a ${mb(largeBytes)} MB answer than for a ${mb(smallBytes)} MB one`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await server.close();
    }
  });
});

describe('PrometheusClient against a real Prometheus', () => {
  let prometheus: RunningPrometheus | undefined;
  let target: Awaited<ReturnType<typeof startFakeHttp>> | undefined;

  before(async () => {
    requireBinary('prometheus');
    // A static target is enough to give Prometheus series to store: `up` and two tenants' counters.
    target = await startFakeHttp([
      {
        headers: { 'content-type': 'text/plain; version=0.0.4' },
        body: [
          '# TYPE hostmeter_test_cpu_seconds_total counter',
          'hostmeter_test_cpu_seconds_total{partition="slapuser1"} 1.5',
          'hostmeter_test_cpu_seconds_total{partition="slapuser2"} 2.5',
          '',
        ].join('\n'),
      },
    ]);
    prometheus = await startPrometheus({ targets: [new URL(target.url).host] });
    const running = prometheus;
    await waitFor(
      async () => ((await running.query('count_over_time(up[1m])'))[0]?.value ?? 0) >= 2,
      'two scrapes',
      30_000,
    );
  });

  after(async () => {
    await prometheus?.stop();
    await target?.close();
  });

  it('reads raw samples and instant values', async () => {
    const url = (prometheus as RunningPrometheus).url;
    const reader = client(url);
    const now = Date.now() / 1000;
    const up = await collect((on) => reader.rangeSamples('up', 60, now, on));
    assert.equal(up.count, 1);
    assert.equal(up.series[0]?.labels.job, 'hostmeter');
    assert.ok((up.series[0]?.samples.length ?? 0) >= 2);
    for (const sample of up.series[0]?.samples ?? []) {
      assert.equal(sample.v, 1);
      assert.ok(sample.t > now - 60 && sample.t <= now);
    }

    const cpu = await collect((on) => reader.rangeSamples('hostmeter_test_cpu_seconds_total', 60, now, on));
    assert.deepEqual(cpu.series.map((series) => [series.labels.partition, series.samples[0]?.v]).sort(), [
      ['slapuser1', 1.5],
      ['slapuser2', 2.5],
    ]);

    const instant = await collect((on) => reader.instant('sum by (job) (up)', now, on));
    assert.deepEqual(
      instant.series.map((series) => [series.labels, series.samples.length, series.samples[0]?.v]),
      [[{ job: 'hostmeter' }, 1, 1]],
    );

    const error = await rejection(reader.instant('foo[1d', now, () => {}));
    assert.equal(error.kind, 'client');
    assert.match(error.message, /^Prometheus rejected the query "foo\[1d": 400 bad_data: /);

    assert.deepEqual(
      await reader.labelValues('partition', ['hostmeter_test_cpu_seconds_total', 'up'], now - 60, now),
      ['slapuser1', 'slapuser2'],
    );
    assert.deepEqual(await reader.labelValues('partition', ['up'], now - 60, now), []);
    const badMatch = await rejection(reader.labelValues('partition', ['up{'], now - 60, now));
    assert.equal(badMatch.kind, 'client');
    assert.match(badMatch.message, /\/api\/v1\/label\/partition\/values\?.*: 400 bad_data: /);
  });
});

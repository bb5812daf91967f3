// `hostmeter report` against failing Prometheus and upload endpoints. A fake HTTP server stands in front of
// a real Prometheus holding the synthetic day: it fails the requests a test chooses and passes the others
// through. After a Prometheus failure nothing is written, and a rerun writes the same bytes as a clean run.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BackfilledPrometheus, startBackfilledPrometheus } from '../helpers/backfill.ts';
import {
  type FakeHttpServer,
  type FakeResponse,
  type RecordedRequest,
  startFakeHttp,
} from '../helpers/fake-http.ts';
import { type CommandResult, freePort, hostmeterAsync } from '../helpers/hostmeter.ts';
import { DAY, FLEET, openMetrics } from '../helpers/synthetic-day.ts';
import { validateXml } from '../helpers/xmllint.ts';

const COMPUTERS = ['c1', 'c3'];
const FAST_FAILURE = ['--prometheus.retries=1', '--prometheus.timeout=1s'];

/** Every file under `dir`, relative, sorted. */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();

describe('hostmeter report faults', () => {
  let prometheus: BackfilledPrometheus;
  const servers: FakeHttpServer[] = [];
  const dirs: string[] = [];
  /** The files of a clean run, by path relative to the output dir. */
  const clean = new Map<string, string>();

  const outputDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-faults-'));
    dirs.push(dir);
    return dir;
  };
  const report = (url: string, dir: string, ...args: string[]): Promise<CommandResult> =>
    hostmeterAsync(['report', `--prometheus.url=${url}`, `--output.dir=${dir}`, `--date=${DAY}`, ...args]);

  /** The real Prometheus's answer to a request the fake server received. */
  const passThrough = async (request: RecordedRequest): Promise<string> => {
    const response = await fetch(
      `${prometheus.url}${request.url}`,
      request.method === 'GET'
        ? {}
        : {
            method: request.method,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: request.body,
          },
    );
    return response.text();
  };
  const proxied = (request: RecordedRequest): FakeResponse => ({
    body: async function* () {
      yield await passThrough(request);
    },
  });
  /** A fake Prometheus answering request `index` with `fault(index)`, or passing it through. */
  const faulty = async (fault: (index: number, request: RecordedRequest) => FakeResponse | undefined) => {
    const server = await startFakeHttp((request, index) => fault(index, request) ?? proxied(request));
    servers.push(server);
    return server;
  };
  const fakeEndpoint = async (script: readonly FakeResponse[]): Promise<FakeHttpServer> => {
    const server = await startFakeHttp(script);
    servers.push(server);
    return server;
  };

  const assertNothingWritten = (dir: string, result: CommandResult): void => {
    assert.equal(result.status, 4, result.stderr);
    assert.match(result.stderr, /nothing was written/);
    assert.deepEqual(filesUnder(dir), [], 'no report, no temporary file');
  };
  /** Files at `dir` equal to the clean run's, moved to sent/ when `sent`. */
  const assertCleanFiles = (dir: string, sent = false): void => {
    const expected = [...clean.keys()].map((file) => (sent ? file.replace('/', '/sent/') : file)).sort();
    assert.deepEqual(filesUnder(dir), expected);
    for (const [file, xml] of clean)
      assert.equal(readFileSync(join(dir, sent ? file.replace('/', '/sent/') : file), 'utf8'), xml, file);
  };
  /** A rerun against the real Prometheus writes what a clean run writes. */
  const assertRerunIsClean = async (dir: string): Promise<void> => {
    const result = await report(prometheus.url, dir);
    assert.equal(result.status, 0, result.stderr);
    assertCleanFiles(dir);
  };

  before(async () => {
    prometheus = await startBackfilledPrometheus(
      openMetrics(FLEET.filter((c) => COMPUTERS.includes(c.instance))),
    );
    const dir = outputDir();
    const result = await report(prometheus.url, dir);
    assert.equal(result.status, 0, result.stderr);
    for (const file of filesUnder(dir)) {
      const xml = readFileSync(join(dir, file), 'utf8');
      const validation = validateXml(xml);
      assert.ok(validation.ok, validation.messages);
      clean.set(file, xml);
    }
    assert.deepEqual(
      [...clean.keys()],
      COMPUTERS.map((c) => `${c}/${DAY}.xml`),
    );
  });

  after(async () => {
    for (const server of servers) await server.close();
    await prometheus?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('exits 4 when Prometheus is unreachable', async () => {
    const dir = outputDir();
    assertNothingWritten(dir, await report(`http://127.0.0.1:${await freePort()}`, dir, ...FAST_FAILURE));
    await assertRerunIsClean(dir);
  });

  it('retries a 500 and then writes what a clean run writes', async () => {
    const server = await faulty((index) => (index === 0 ? { status: 500, body: 'overloaded' } : undefined));
    const dir = outputDir();
    const result = await report(server.url, dir, ...FAST_FAILURE);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /retrying/);
    assertCleanFiles(dir);
  });

  it('exits 4 without writing when 500s outlast the retries, late in the run', async () => {
    // The first queries succeed: what they brought must not be written either.
    const server = await faulty((index) =>
      index >= 6
        ? { status: 503, body: '{"status":"error","errorType":"unavailable","error":"down"}' }
        : undefined,
    );
    const dir = outputDir();
    assertNothingWritten(dir, await report(server.url, dir, ...FAST_FAILURE));
    assert.equal(server.requests.length, 8, 'the failing query was tried twice, then the run stopped');
    await assertRerunIsClean(dir);
  });

  it('keeps the shards read before a failure; a rerun writes the rest, byte for byte', async () => {
    // One computer per shard: every query for c3 fails, those for c1 pass.
    const server = await faulty((_index, request) =>
      request.body.includes('c3') ? { status: 503, body: 'down' } : undefined,
    );
    const dir = outputDir();
    const result = await report(server.url, dir, ...FAST_FAILURE, '--query.computers=1');
    assert.equal(result.status, 4, result.stderr);
    assert.match(result.stderr, /the others were not; a rerun writes them/);
    assert.deepEqual(filesUnder(dir), [`c1/${DAY}.xml`]);
    assert.equal(readFileSync(join(dir, `c1/${DAY}.xml`), 'utf8'), clean.get(`c1/${DAY}.xml`));
    await assertRerunIsClean(dir);
  });

  it('exits 4 when answers are slower than --prometheus.timeout', async () => {
    const server = await faulty((index) => (index >= 3 ? { delayMs: 5000, body: '{}' } : undefined));
    const dir = outputDir();
    const result = await report(server.url, dir, ...FAST_FAILURE);
    assertNothingWritten(dir, result);
    assert.match(result.stderr, /did not answer .* within 1000 ms/);
    await assertRerunIsClean(dir);
  });

  it('exits 4 on malformed JSON, without retrying', async () => {
    const server = await faulty((index) =>
      index === 4
        ? { body: '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{]}}' }
        : undefined,
    );
    const dir = outputDir();
    const result = await report(server.url, dir, ...FAST_FAILURE);
    assertNothingWritten(dir, result);
    assert.match(result.stderr, /malformed/);
    assert.equal(server.requests.length, 5);
    await assertRerunIsClean(dir);
  });

  it('exits 4 when the connection drops in the middle of an answer', async () => {
    const server = await faulty((index, request) =>
      // The answer of the first CPU query (after the computers' list): some series arrive before the drop.
      index === 2
        ? {
            body: async function* () {
              const answer = await passThrough(request);
              yield answer.slice(0, answer.length >> 1);
            },
            resetAfterBody: true,
          }
        : undefined,
    );
    const dir = outputDir();
    const result = await report(server.url, dir, ...FAST_FAILURE);
    assertNothingWritten(dir, result);
    assert.match(result.stderr, /not retried/);
    await assertRerunIsClean(dir);
  });

  it('uploads each report through an endpoint that fails twice, then moves it to sent/', async () => {
    const endpoint = await fakeEndpoint([
      { status: 500 },
      { status: 502, body: 'bad gateway' },
      { status: 200 },
    ]);
    const dir = outputDir();
    const result = await report(
      prometheus.url,
      dir,
      `--upload.url=${endpoint.url}/useComputer`,
      '--upload.retries=2',
    );
    assert.equal(result.status, 0, result.stderr);
    assertCleanFiles(dir, true);
    // Three attempts for the first report, one for the second.
    assert.equal(endpoint.requests.length, 2 + COMPUTERS.length);
    const delivered = endpoint.requests.slice(2).map((request) => {
      assert.equal(request.method, 'POST');
      assert.equal(request.url, '/useComputer');
      assert.match(String(request.headers['content-type']), /^application\/x-www-form-urlencoded/);
      const form = new URLSearchParams(request.body);
      assert.deepEqual([...form.keys()].sort(), ['computer_id', 'use_string']);
      return [form.get('computer_id'), form.get('use_string')];
    });
    assert.deepEqual(
      delivered,
      COMPUTERS.map((c) => [c, clean.get(`${c}/${DAY}.xml`)]),
    );
  });

  it('exits 5 and keeps the report queued when the upload fails; report upload sends it later', async () => {
    const down = await fakeEndpoint([{ status: 503, body: 'maintenance' }]);
    const dir = outputDir();
    const result = await report(prometheus.url, dir, `--upload.url=${down.url}`, '--upload.retries=0');
    assert.equal(result.status, 5, result.stderr);
    assert.match(result.stderr, /stays queued/);
    assertCleanFiles(dir);
    assert.equal(down.requests.length, COMPUTERS.length);

    const up = await fakeEndpoint([{ status: 200 }]);
    const sent = await hostmeterAsync([
      'report',
      'upload',
      `--prometheus.url=${prometheus.url}`,
      `--output.dir=${dir}`,
      `--upload.url=${up.url}`,
    ]);
    assert.equal(sent.status, 0, sent.stderr);
    assertCleanFiles(dir, true);
    assert.deepEqual(
      up.requests.map((request) => Object.fromEntries(new URLSearchParams(request.body))),
      COMPUTERS.map((c) => ({ computer_id: c, use_string: clean.get(`${c}/${DAY}.xml`) })),
    );
  });
});

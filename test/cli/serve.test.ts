import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, runHostmeter, startHostmeter } from '../helpers/hostmeter.ts';

describe('hostmeter command', () => {
  it('prints its version and its collectors', () => {
    const version = runHostmeter(['--version']);
    assert.equal(version.status, 0);
    assert.match(version.stdout, /^hostmeter \d+\.\d+\.\d+\n$/);
    const collectors = runHostmeter(['collectors']);
    assert.equal(collectors.status, 0);
    for (const name of [
      'cpu',
      'load',
      'memory',
      'pressure',
      'disk',
      'filesystem',
      'network',
      'sockets',
      'tcpstat',
      'host',
      'hwmon',
      'runtime',
    ]) {
      assert.match(
        collectors.stdout,
        new RegExp(`^${name} +(enabled|disabled) +\\S`, 'm'),
        `collector ${name} listed`,
      );
    }
  });

  it('lists every flag in serve --help', () => {
    const help = runHostmeter(['serve', '--help']);
    assert.equal(help.status, 0);
    for (const flag of [
      '--web.listen-address',
      '--path.procfs',
      '--path.sysfs',
      '--path.rootfs',
      '--config.file',
      '--[no-]collector.cpu',
    ]) {
      assert.ok(help.stdout.includes(flag), `${flag} in --help`);
    }
  });

  it('exits 2 naming an unknown flag, before listening', () => {
    const result = runHostmeter(['serve', '--web.listen-adress=:0']);
    assert.equal(result.status, 2);
    assert.equal(result.stderr, 'hostmeter: unknown flag --web.listen-adress\n');
  });

  it('exits 2 naming the file, line and key of a bad config file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hm-cli-')), 'bad.yml');
    writeFileSync(file, 'web:\n  listen-address: ":0"\ncollector:\n  cpu: maybe\n');
    const result = runHostmeter(['serve', `--config.file=${file}`]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, new RegExp(`^hostmeter: ${file}:4: collector\\.cpu: `));
    const check = runHostmeter(['check-config', `--config.file=${file}`]);
    assert.equal(check.status, 2);
    const syntax = join(mkdtempSync(join(tmpdir(), 'hm-cli-')), 'syntax.yml');
    writeFileSync(syntax, 'web: [unclosed\n');
    const bad = runHostmeter(['check-config', `--config.file=${syntax}`]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, new RegExp(`^hostmeter: ${syntax}:\\d+: invalid YAML`));
  });

  it('exits 2 when a partition rule names a user the host does not have', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hm-cli-')), 'rules.yml');
    writeFileSync(file, 'partitions:\n  rules:\n    - name: web\n      user: no-such-user-hm\n');
    const result = runHostmeter(['serve', `--config.file=${file}`, '--web.listen-address=127.0.0.1:0']);
    assert.equal(result.status, 2);
    assert.match(
      result.stderr,
      /partitions\.rules\[0\]\.user: unknown user "no-such-user-hm" \(not in \/etc\/passwd\)/,
    );
  });

  it('exits 0 from check-config on a valid file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hm-cli-')), 'good.yml');
    writeFileSync(file, 'web:\n  listen-address: "127.0.0.1:9464"\ncollector:\n  hwmon: false\n');
    assert.equal(runHostmeter(['check-config', `--config.file=${file}`]).status, 0);
  });

  it('exits 1 with a clear message when the port is in use', async () => {
    const port = await freePort();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const result = runHostmeter(['serve', `--web.listen-address=127.0.0.1:${port}`]);
      assert.equal(result.status, 1);
      assert.match(
        result.stderr,
        new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: address already in use`),
      );
    } finally {
      blocker.close();
    }
  });

  it('keeps serving when a /proc file is unreadable, reporting the collector as failed', async () => {
    // A procfs root where loadavg exists but cannot be read (a directory), the rest is absent.
    const procfs = mkdtempSync(join(tmpdir(), 'hm-proc-'));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(procfs, 'loadavg'));
    const exporter = await startHostmeter([`--path.procfs=${procfs}`, '--log.format=json']);
    try {
      const response = await fetch(`${exporter.url}/metrics`);
      assert.equal(response.status, 200);
      const body = await response.text();
      assert.match(body, /^hostmeter_scrape_collector_success\{collector="load"\} 0$/m);
      assert.doesNotMatch(body, /^system_cpu_load_average_1m /m);
      const failure = exporter
        .log()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, string>)
        .find((record) => record.msg === 'collector failed' && record.collector === 'load');
      assert.ok(failure, `a log line names the failed collector:\n${exporter.log()}`);
      assert.match(failure.err ?? '', new RegExp(`cannot read ${procfs}/loadavg: EISDIR`));
    } finally {
      assert.equal(await exporter.stop(), 0, 'SIGTERM exits 0');
    }
  });

  it('serves /healthz, a landing page, 404 and 405', async () => {
    const exporter = await startHostmeter();
    try {
      const health = await fetch(`${exporter.url}/healthz`);
      assert.equal(await health.text(), 'OK\n');
      const landing = await (await fetch(`${exporter.url}/`)).text();
      assert.match(landing, /<a href="\/metrics">/);
      assert.equal((await fetch(`${exporter.url}/nope`)).status, 404);
      assert.equal((await fetch(`${exporter.url}/metrics`, { method: 'POST' })).status, 405);
    } finally {
      await exporter.stop();
    }
  });
});

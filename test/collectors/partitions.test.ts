import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { CollectorContext, CollectorSettings } from '../../src/collectors/collector.ts';
import { partitionsCollector, TOP_PROCESS_METRIC } from '../../src/collectors/partitions.ts';
import { parseRules } from '../../src/partitions/rules.ts';
import { fakeHost, observed, TEST_SETTINGS, testContext } from '../helpers/context.ts';
import { fixture } from '../helpers/fixtures.ts';

function context(partitions: Partial<CollectorSettings['partitions']> = {}): CollectorContext {
  const base = testContext();
  return {
    ...base,
    settings: { ...TEST_SETTINGS, partitions: { ...TEST_SETTINGS.partitions, ...partitions } },
  };
}

const CGROUP_ROOT = '/sys/fs/cgroup/unified';

/** A python3 process that burns `seconds` of CPU and prints the CPU it used, as measured by itself. */
function burner(seconds: number, cgroup?: string): Promise<{ cpu: number }> {
  const script = `
import os, resource, json, time
${cgroup ? `open(${JSON.stringify(`${cgroup}/cgroup.procs`)}, 'w').write(str(os.getpid()))` : ''}
r0 = resource.getrusage(resource.RUSAGE_SELF)
while True:
    r = resource.getrusage(resource.RUSAGE_SELF)
    if r.ru_utime + r.ru_stime - r0.ru_utime - r0.ru_stime >= ${seconds}: break
print(json.dumps({"cpu": r.ru_utime + r.ru_stime - r0.ru_utime - r0.ru_stime}))
`;
  const child = spawn('python3', ['-B', '-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(output)) : reject(new Error(`burner exited ${code}`)),
    ),
  );
}

describe('partitions collector', () => {
  it('reports every user with processes, with gauges that match /proc', async () => {
    const running = partitionsCollector.create(context());
    const collector = await running;
    const out = await collector.collect();
    await collector.close?.();
    const processes = observed(out, 'hostmeter.partition.processes', { partition: 'root' }) ?? 0;
    const ps = spawnSync('ps', ['-e', '-o', 'user=', '--no-headers'], { encoding: 'utf8' });
    const rootProcesses = ps.stdout.split('\n').filter((user) => user.trim() === 'root').length;
    assert.ok(
      Math.abs(processes - rootProcesses) <= 5,
      `root has ${processes} processes, ps says ${rootProcesses}`,
    );
    assert.equal(
      observed(out, 'hostmeter.partition.cpu.time', { partition: 'root', 'cpu.mode': 'user' }),
      0,
      'the first collection is a baseline',
    );
  });

  it('takes a partition CPU from its cgroup cpu.stat when the rule asks for it', async (t) => {
    const name = `hostmeter-test-${process.pid}`;
    const dir = join(CGROUP_ROOT, name);
    try {
      mkdirSync(dir);
    } catch (error) {
      t.skip(`cannot create a cgroup v2 under ${CGROUP_ROOT}: ${(error as Error).message}`);
      return;
    }
    const sleeper = spawn('sh', ['-c', `echo $$ > ${dir}/cgroup.procs && exec sleep 60`], {
      stdio: 'ignore',
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const rules = parseRules([{ name: 'cgjob', cgroup: `^/${name}$`, 'cgroup-cpu': dir }]);
      const collector = await partitionsCollector.create(context({ rules, inherit: false }));
      await collector.collect();
      const before = readFileSync(join(dir, 'cpu.stat'), 'utf8');
      const { cpu } = await burner(0.4, dir);
      const out = await collector.collect();
      const after = readFileSync(join(dir, 'cpu.stat'), 'utf8');
      await collector.close?.();
      const usec = (text: string, field: string) =>
        Number(new RegExp(`^${field} (\\d+)$`, 'm').exec(text)?.[1]) / 1e6;
      const reported =
        (observed(out, 'hostmeter.partition.cpu.time', { partition: 'cgjob', 'cpu.mode': 'user' }) ?? 0) +
        (observed(out, 'hostmeter.partition.cpu.time', { partition: 'cgjob', 'cpu.mode': 'system' }) ?? 0);
      const kernel =
        usec(after, 'user_usec') +
        usec(after, 'system_usec') -
        usec(before, 'user_usec') -
        usec(before, 'system_usec');
      assert.ok(Math.abs(reported - kernel) < 0.02, `reported ${reported} s, cpu.stat moved ${kernel} s`);
      assert.ok(
        reported >= cpu && reported < cpu * 1.05 + 0.02,
        `reported ${reported} s, the burner used ${cpu} s`,
      );
    } finally {
      sleeper.kill('SIGKILL');
      await new Promise((resolve) => sleeper.once('exit', resolve));
      for (let attempt = 0; attempt < 50; attempt++) {
        try {
          rmdirSync(dir);
          break;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    }
  });

  it('exports the top processes through prom-client, and a process leaves when it stops burning', async () => {
    const ctx = { ...context({ top: 3 }), registry: new Registry() };
    const collector = await partitionsCollector.create(ctx);
    await collector.collect();
    const burning = burner(0.8);
    const pause = () => new Promise((resolve) => setTimeout(resolve, 150));
    await pause();
    await collector.collect(); // first sight of the burner: no rate yet
    await pause();
    await collector.collect();
    const during = await ctx.registry.metrics();
    await burning;
    await collector.collect();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await collector.collect();
    const later = await ctx.registry.metrics();
    await collector.close?.();
    const lines = (text: string) =>
      text.split('\n').filter((line) => line.startsWith(`${TOP_PROCESS_METRIC}{`));
    assert.ok(
      lines(during).some((line) => /comm="python3"/.test(line)),
      `the burner is in the top:\n${during}`,
    );
    assert.ok(lines(during).length <= 3);
    assert.ok(
      !lines(later).some((line) => /comm="python3"/.test(line)),
      `the burner left the top:\n${later}`,
    );
  });

  it('starts from zero on a missing or corrupt state file, and writes it atomically on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-state-'));
    const file = join(dir, 'state.json');
    writeFileSync(file, '{"version": 1, "accountant": ');
    const collector = await partitionsCollector.create(context({ stateFile: file }));
    await collector.collect();
    await collector.close?.();
    const state = JSON.parse(readFileSync(file, 'utf8')) as {
      version: number;
      accountant: { totals: object };
    };
    assert.equal(state.version, 1);
    assert.ok('root' in state.accountant.totals);
  });

  it('counts an unreadable environ as a read error and matches no environment rule', async () => {
    const pid = 'proc/4242';
    const paths = fakeHost({
      [`${pid}/stat`]: fixture('proc/pid/node/stat').replace(/^\d+ /, '4242 '),
      [`${pid}/status`]: fixture('proc/pid/node/status'),
      [`${pid}/io`]: fixture('proc/pid/node/io'),
      [`${pid}/environ/`]: '',
      [`${pid}/fd/`]: '',
      'root/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n',
    });
    const rules = parseRules([{ name: 'ci', env: { CI: '.' } }]);
    const ctx = {
      ...testContext(paths),
      settings: { ...TEST_SETTINGS, partitions: { ...TEST_SETTINGS.partitions, rules, inherit: false } },
    };
    const collector = await partitionsCollector.create(ctx);
    const out = await collector.collect();
    await collector.close?.();
    assert.equal(observed(out, 'hostmeter.partition.read_errors', { file: 'environ', reason: 'other' }), 1);
    assert.equal(observed(out, 'hostmeter.partition.processes', { partition: '_unassigned' }), 1);
  });
});

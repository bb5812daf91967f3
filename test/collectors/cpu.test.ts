import assert from 'node:assert/strict';
import os from 'node:os';
import { describe, it } from 'node:test';
import type { Observations } from '../../src/collectors/collector.ts';
import { CPU_METRICS, cpuCollector } from '../../src/collectors/cpu.ts';
import { collectOnce, fakeHost, observed, testContext } from '../helpers/context.ts';
import { fixture } from '../helpers/fixtures.ts';

const ARM_CPUINFO = 'processor\t: 0\nBogoMIPS\t: 48.00\n\nprocessor\t: 1\nBogoMIPS\t: 48.00\n\n';

const collect = (files: Record<string, string>): Promise<Observations> =>
  collectOnce(cpuCollector, testContext(fakeHost(files)));

const topology = (cpu: number, pkg: string, core: string) => ({
  [`sys/devices/system/cpu/cpu${cpu}/topology/physical_package_id`]: `${pkg}\n`,
  [`sys/devices/system/cpu/cpu${cpu}/topology/core_id`]: `${core}\n`,
});

describe('cpu collector', () => {
  it('reports times, counts, clock and scheduler counters from the captured files', async () => {
    const out = await collect({ 'proc/stat': fixture('proc/stat'), 'proc/cpuinfo': fixture('proc/cpuinfo') });
    const time = (mode: string, cpu: string) =>
      observed(out, 'system.cpu.time', { 'cpu.mode': mode, 'cpu.logical_number': cpu });
    assert.equal(time('user', '0'), 20.08);
    assert.equal(time('system', '1'), 15.62);
    assert.equal(time('idle', '1'), 365.86);
    assert.equal(time('interrupt', '0'), 0);
    assert.equal(time('steal', '0'), 0.13);
    assert.equal(out.items.filter((o) => o.metric === CPU_METRICS.time).length, 16);
    assert.equal(observed(out, 'hostmeter.cpu.logical_cpus'), 2);
    assert.equal(observed(out, 'hostmeter.cpu.physical_cores'), 2);
    assert.equal(observed(out, 'system.cpu.frequency', { 'cpu.logical_number': '1' }), 2_299_998_000);
    assert.equal(observed(out, 'system.process.created'), 4968);
    assert.equal(observed(out, 'hostmeter.processes', { 'process.state': 'running' }), 2);
    assert.equal(observed(out, 'hostmeter.processes', { 'process.state': 'blocked' }), 0);
    assert.equal(observed(out, 'hostmeter.cpu.context_switches'), 978002);
  });

  it('every observation carries exactly the labels its spec declares', async () => {
    const out = await collect({ 'proc/stat': fixture('proc/stat'), 'proc/cpuinfo': fixture('proc/cpuinfo') });
    for (const o of out.items) assert.deepEqual(Object.keys(o.attributes), o.metric.labels, o.metric.name);
  });

  it('prefers cpufreq and counts cores from sysfs topology when cpuinfo lacks them', async () => {
    const out = await collect({
      'proc/stat': fixture('proc/stat'),
      'proc/cpuinfo': ARM_CPUINFO,
      ...topology(0, '0', '0'),
      ...topology(1, '0', '0'),
      'sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq': '1800000\n',
    });
    assert.equal(observed(out, 'hostmeter.cpu.physical_cores'), 1);
    assert.equal(observed(out, 'system.cpu.frequency', { 'cpu.logical_number': '0' }), 1.8e9);
    assert.equal(observed(out, 'system.cpu.frequency', { 'cpu.logical_number': '1' }), undefined);
  });

  it('counts arm packages the kernel reports as -1', async () => {
    const out = await collect({
      'proc/stat': fixture('proc/stat'),
      'proc/cpuinfo': ARM_CPUINFO,
      ...topology(0, '-1', '0'),
      ...topology(1, '-1', '1'),
    });
    assert.equal(observed(out, 'hostmeter.cpu.physical_cores'), 2);
  });

  it('omits core count and clock when no source has them, without failing', async () => {
    const out = await collect({ 'proc/stat': fixture('proc/stat'), 'proc/cpuinfo': ARM_CPUINFO });
    assert.equal(observed(out, 'hostmeter.cpu.physical_cores'), undefined);
    assert.equal(out.items.filter((o) => o.metric === CPU_METRICS.frequency).length, 0);
    assert.equal(observed(out, 'hostmeter.cpu.logical_cpus'), 2);
  });

  it('fails when a source file is garbled', async () => {
    await assert.rejects(
      collect({ 'proc/stat': fixture('proc/stat'), 'proc/cpuinfo': 'processor\t: zero\n' }),
      /cpuinfo/,
    );
  });

  it('matches os.cpus() on this host', async () => {
    const out = await collectOnce(cpuCollector, testContext());
    const truth = os.cpus();
    assert.equal(observed(out, 'hostmeter.cpu.logical_cpus'), truth.length);
    const cores = observed(out, 'hostmeter.cpu.physical_cores') ?? 0;
    assert.ok(cores >= 1 && cores <= truth.length, `${cores} cores`);
    truth.forEach((cpu, n) => {
      const time = (mode: string) =>
        observed(out, 'system.cpu.time', { 'cpu.mode': mode, 'cpu.logical_number': String(n) }) ?? Number.NaN;
      const ours = time('user') + time('system') + time('idle');
      const theirs = (cpu.times.user + cpu.times.sys + cpu.times.idle) / 1000;
      // Both read /proc/stat a few milliseconds apart; one second covers the time that elapsed.
      assert.ok(Math.abs(ours - theirs) < 1, `cpu${n}: ${ours} s vs os.cpus() ${theirs} s`);
      assert.ok(ours > 0);
    });
  });
});

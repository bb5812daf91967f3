import assert from 'node:assert/strict';
import os from 'node:os';
import { describe, it } from 'node:test';
import type { Observations } from '../../src/collectors/collector.ts';
import { MEMORY_METRICS, memoryCollector } from '../../src/collectors/memory.ts';
import { collectOnce, fakeHost, observed, testContext } from '../helpers/context.ts';
import { fixture } from '../helpers/fixtures.ts';

const KiB = 1024;
const MEMINFO = [
  'MemTotal:       1000 kB',
  'MemFree:         400 kB',
  'MemAvailable:    600 kB',
  'Buffers:          10 kB',
  'Cached:          200 kB',
  'SwapCached:        0 kB',
  'SwapTotal:       300 kB',
  'SwapFree:        100 kB',
  'Shmem:             5 kB',
  'SReclaimable:     20 kB',
  '',
].join('\n');
const VMSTAT = 'nr_free_pages 100\npswpin 7\npswpout 9\npgfault 1000\npgmajfault 12\n';

const collect = (files: Record<string, string>): Promise<Observations> =>
  collectOnce(memoryCollector, testContext(fakeHost(files)));

const usage = (out: Observations, state: string) =>
  observed(out, 'system.memory.usage', { 'system.memory.state': state }) ?? Number.NaN;

describe('memory collector', () => {
  it('splits memory into states that sum to the total, and reports swap and paging', async () => {
    const out = await collect({ 'proc/meminfo': MEMINFO, 'proc/vmstat': VMSTAT });
    assert.equal(usage(out, 'used'), (1000 - 400 - 10 - 220) * KiB);
    assert.equal(usage(out, 'free'), 400 * KiB);
    assert.equal(usage(out, 'buffers'), 10 * KiB);
    assert.equal(usage(out, 'cached'), 220 * KiB);
    assert.equal(observed(out, 'system.memory.limit'), 1000 * KiB);
    assert.equal(observed(out, 'system.memory.linux.available'), 600 * KiB);
    assert.equal(observed(out, 'system.memory.linux.shared'), 5 * KiB);
    assert.equal(observed(out, 'system.paging.usage', { 'system.paging.state': 'used' }), 200 * KiB);
    assert.equal(observed(out, 'system.paging.usage', { 'system.paging.state': 'free' }), 100 * KiB);
    assert.equal(observed(out, 'system.paging.operations', { 'system.paging.direction': 'in' }), 7);
    assert.equal(observed(out, 'system.paging.operations', { 'system.paging.direction': 'out' }), 9);
    assert.equal(observed(out, 'system.paging.faults', { 'system.paging.type': 'major' }), 12);
    assert.equal(observed(out, 'system.paging.faults', { 'system.paging.type': 'minor' }), 988);
    for (const o of out.items) assert.deepEqual(Object.keys(o.attributes), o.metric.labels, o.metric.name);
  });

  it('reports the captured host, swap off as zeros', async () => {
    const out = await collect({
      'proc/meminfo': fixture('proc/meminfo'),
      'proc/vmstat': fixture('proc/vmstat'),
    });
    const states = ['used', 'free', 'buffers', 'cached'].map((s) => usage(out, s));
    assert.equal(
      states.reduce((a, b) => a + b),
      24684092 * KiB,
    );
    assert.equal(observed(out, 'system.paging.usage', { 'system.paging.state': 'used' }), 0);
    assert.equal(observed(out, 'system.paging.usage', { 'system.paging.state': 'free' }), 0);
    assert.equal(observed(out, 'system.paging.faults', { 'system.paging.type': 'major' }), 1238);
  });

  it('omits what old or stripped kernels lack and clamps used at zero', async () => {
    const meminfo = MEMINFO.replace('MemAvailable:    600 kB\n', '').replace(
      'Cached:          200 kB',
      'Cached: 900 kB',
    );
    const out = await collect({ 'proc/meminfo': meminfo, 'proc/vmstat': 'nr_free_pages 100\n' });
    assert.equal(usage(out, 'used'), 0);
    assert.equal(observed(out, 'system.memory.linux.available'), undefined);
    assert.equal(out.items.filter((o) => o.metric === MEMORY_METRICS.pagingOperations).length, 0);
    assert.equal(out.items.filter((o) => o.metric === MEMORY_METRICS.pagingFaults).length, 0);
  });

  it('fails when meminfo is missing', async () => {
    await assert.rejects(collect({ 'proc/vmstat': VMSTAT }), /meminfo/);
  });

  it('matches os.totalmem() and os.freemem() on this host', async () => {
    const out = await collectOnce(memoryCollector, testContext());
    // libuv reads MemTotal for totalmem() and MemAvailable (not MemFree) for freemem().
    assert.equal(observed(out, 'system.memory.limit'), os.totalmem());
    const available = observed(out, 'system.memory.linux.available') ?? Number.NaN;
    const drift = Math.abs(available - os.freemem());
    assert.ok(drift < 64 * 1024 * KiB, `MemAvailable ${available} vs os.freemem() ${os.freemem()}`);
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Observations } from '../../src/collectors/collector.ts';
import { pressureCollector } from '../../src/collectors/pressure.ts';
import { collectOnce, fakeHost, observed, testContext } from '../helpers/context.ts';
import { fixture } from '../helpers/fixtures.ts';

const collect = (files: Record<string, string>): Promise<Observations> =>
  collectOnce(pressureCollector, testContext(fakeHost(files)));

const stall = (out: Observations, resource: string, scope: string) =>
  observed(out, 'hostmeter.pressure.stall_time', { 'pressure.resource': resource, 'pressure.scope': scope });

describe('pressure collector', () => {
  it('reports some and full stall seconds for each resource file present', async () => {
    const out = await collect({
      'proc/pressure/cpu': fixture('proc/pressure/cpu'),
      'proc/pressure/memory': fixture('proc/pressure/memory'),
      'proc/pressure/io': fixture('proc/pressure/io'),
      'proc/pressure/irq': 'full avg10=0.00 avg60=0.00 avg300=0.00 total=1500000\n',
    });
    assert.equal(stall(out, 'cpu', 'some'), 12.671003);
    assert.equal(stall(out, 'cpu', 'full'), 0);
    assert.equal(stall(out, 'io', 'full'), 2.451218);
    assert.equal(stall(out, 'memory', 'some'), 0);
    assert.equal(stall(out, 'irq', 'full'), 1.5);
    assert.equal(stall(out, 'irq', 'some'), undefined);
    assert.equal(out.items.length, 7);
    for (const o of out.items) {
      assert.equal(o.metric.name, 'hostmeter.pressure.stall_time');
      assert.deepEqual(Object.keys(o.attributes), o.metric.labels);
    }
  });

  it('gives no observations and no error without /proc/pressure', async () => {
    const out = await collect({ 'proc/stat': fixture('proc/stat') });
    assert.equal(out.items.length, 0);
  });

  it('fails when a pressure file is garbled', async () => {
    await assert.rejects(collect({ 'proc/pressure/io': 'some total=x\n' }), /pressure\/io/);
  });

  it('matches /proc/pressure on this host', async () => {
    const out = await collectOnce(pressureCollector, testContext());
    // Totals only grow, so the value read first can be at most the value read after it.
    const after = readFileSync('/proc/pressure/memory', 'latin1');
    const total = Number(/^some .*total=(\d+)$/m.exec(after)?.[1]) / 1e6;
    const ours = stall(out, 'memory', 'some') ?? Number.NaN;
    assert.ok(ours <= total && ours >= 0, `${ours} s vs ${total} s`);
  });
});

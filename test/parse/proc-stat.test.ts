import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParseError } from '../../src/parse/parse-error.ts';
import { parseProcStat } from '../../src/parse/proc-stat.ts';
import { fixture } from '../helpers/fixtures.ts';

const TAIL = 'ctxt 978002\nbtime 1795314268\nprocesses 4968\nprocs_running 2\nprocs_blocked 0\n';

describe('parseProcStat', () => {
  it('reads the capture from this machine', () => {
    const stat = parseProcStat(fixture('proc/stat'));
    assert.deepEqual(stat.cpus, [
      {
        cpu: 0,
        ticks: { user: 2008, nice: 0, system: 1148, idle: 38172, iowait: 56, irq: 0, softirq: 9, steal: 13 },
      },
      {
        cpu: 1,
        ticks: {
          user: 2892,
          nice: 0,
          system: 1562,
          idle: 36586,
          iowait: 273,
          irq: 0,
          softirq: 47,
          steal: 10,
        },
      },
    ]);
    assert.equal(stat.contextSwitches, 978002);
    assert.equal(stat.processesCreated, 4968);
    assert.equal(stat.procsRunning, 2);
    assert.equal(stat.procsBlocked, 0);
  });

  it('keeps the kernel numbering when CPUs are offline and ignores unknown lines', () => {
    const stat = parseProcStat(
      `cpu  2 0 2 2 0 0 0 0 0 0\ncpu3 2 0 2 2 0 0 0 0 0 0 7\nnew_thing 1 2\n${TAIL}`,
    );
    assert.deepEqual(
      stat.cpus.map((c) => c.cpu),
      [3],
    );
  });

  for (const [name, text] of [
    ['empty', ''],
    [
      'truncated before the counters',
      'cpu  4900 0 2710 74759 329 0 56 23 0 0\ncpu0 2008 0 1148 38172 56 0 9 13 0 0\n',
    ],
    ['truncated inside a cpu line', `cpu0 2008 0 1148 38172\n${TAIL}`],
    ['without cpu lines', TAIL],
    ['garbled cpu time', `cpu0 2008 0 x 38172 56 0 9 13 0 0\n${TAIL}`],
    ['garbled counter', `cpu0 2008 0 1148 38172 56 0 9 13 0 0\n${TAIL.replace('978002', '-1')}`],
  ] as const) {
    it(`rejects ${name} input with a ParseError`, () => {
      assert.throws(() => parseProcStat(text), ParseError);
    });
  }
});

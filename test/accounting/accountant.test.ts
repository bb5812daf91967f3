import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Accountant, type ProcessSnapshot } from '../../src/accounting/accountant.ts';
import { type Usage, zeroUsage } from '../../src/accounting/usage.ts';

interface Shape {
  pid: number;
  start?: number;
  ppid?: number;
  partition?: string;
  own?: Partial<Usage>;
  children?: Partial<Usage>;
}

function proc({
  pid,
  start = 1,
  ppid = 1,
  partition = 'alice',
  own = {},
  children = {},
}: Shape): ProcessSnapshot {
  return {
    key: `${pid}:${start}`,
    pid,
    ppid,
    partition,
    own: { ...zeroUsage(), ...own },
    children: { ...zeroUsage(), ...children },
  };
}

const total = (accountant: Accountant, partition: string, key: keyof Usage): number =>
  accountant.totals.get(partition)?.[key] ?? 0;

/** Runs collections and checks after each that no counter of any partition went down. */
function run(collections: ProcessSnapshot[][], accountant = new Accountant()): Accountant {
  let previous = new Map<string, Usage>();
  for (const processes of collections) {
    accountant.update({ processes });
    for (const [partition, usage] of accountant.totals) {
      const before = previous.get(partition);
      if (before)
        for (const key of Object.keys(usage) as (keyof Usage)[])
          assert.ok(usage[key] >= before[key], `${partition} ${key} went down`);
    }
    previous = new Map([...accountant.totals].map(([partition, usage]) => [partition, { ...usage }]));
  }
  return accountant;
}

describe('Accountant', () => {
  it('charges only what running processes use after the first collection', () => {
    const accountant = run([
      [proc({ pid: 10, own: { cpuUser: 100, writtenBytes: 5000 } })],
      [proc({ pid: 10, own: { cpuUser: 103, writtenBytes: 5600 } })],
    ]);
    assert.equal(total(accountant, 'alice', 'cpuUser'), 3);
    assert.equal(total(accountant, 'alice', 'writtenBytes'), 600);
  });

  it('treats a reused pid as a new process charged from birth', () => {
    const accountant = run([
      [proc({ pid: 10, start: 1, own: { cpuUser: 50 } })],
      [proc({ pid: 10, start: 1, own: { cpuUser: 52 } })],
      [proc({ pid: 10, start: 9, own: { cpuUser: 4 }, partition: 'bob' })],
    ]);
    assert.equal(total(accountant, 'alice', 'cpuUser'), 2);
    assert.equal(total(accountant, 'bob', 'cpuUser'), 4, 'the new process is not diffed against the old one');
  });

  it('counts a process born and reaped between two collections through its parent', () => {
    // The parent's cutime grows by the child's whole life (7 s) when it reaps the child we never saw.
    const accountant = run([
      [proc({ pid: 20 })],
      [proc({ pid: 20, children: { cpuUser: 7, cpuSystem: 1 }, own: { writtenBytes: 4096 } })],
    ]);
    assert.equal(total(accountant, 'alice', 'cpuUser'), 7);
    assert.equal(total(accountant, 'alice', 'cpuSystem'), 1);
    assert.equal(
      total(accountant, 'alice', 'writtenBytes'),
      4096,
      'the child I/O folded into the parent counts',
    );
  });

  it('does not count twice a child tracked while alive and then reaped by a tracked parent', () => {
    const parent = (children: Partial<Usage>, own: Partial<Usage> = {}) => proc({ pid: 20, children, own });
    const accountant = run([
      [parent({})],
      // The child is born: seen with 2 s used; it wrote 100 bytes.
      [parent({}), proc({ pid: 21, ppid: 20, own: { cpuUser: 2, writtenBytes: 100 } })],
      [parent({}), proc({ pid: 21, ppid: 20, own: { cpuUser: 5, writtenBytes: 300 } })],
      // It used 1 s more and wrote 50 bytes more after our last sample, then was reaped: the kernel
      // moves its 6 s to the parent's cutime and its 350 bytes into the parent's own I/O.
      [parent({ cpuUser: 6 }, { writtenBytes: 350 })],
    ]);
    assert.equal(total(accountant, 'alice', 'cpuUser'), 6);
    assert.equal(total(accountant, 'alice', 'writtenBytes'), 350);
  });

  it('does not count twice a worker reaped by a job that exits in the same interval', () => {
    // 1 (root's shell) ← 20 (the job) ← 21 (its worker). The job reaps the worker and exits; then 1
    // reaps the job: 1's cutime grows by the job's whole life, the worker's included.
    const shell = (children: Partial<Usage> = {}) => proc({ pid: 1, ppid: 0, partition: 'root', children });
    const accountant = run([
      [shell(), proc({ pid: 20 }), proc({ pid: 21, ppid: 20 })],
      [shell(), proc({ pid: 20, own: { cpuUser: 1 } }), proc({ pid: 21, ppid: 20, own: { cpuUser: 10 } })],
      [shell({ cpuUser: 1.5 + 10.5 })],
    ]);
    assert.equal(
      total(accountant, 'alice', 'cpuUser'),
      12,
      '1 + 10 seen alive, 0.5 + 0.5 after the last sample',
    );
    assert.equal(total(accountant, 'root', 'cpuUser'), 0);
  });

  it('charges the unseen tail of a reaped child to the child partition', () => {
    const accountant = run([
      [proc({ pid: 20, partition: 'root' })],
      [
        proc({ pid: 20, partition: 'root' }),
        proc({ pid: 21, ppid: 20, partition: 'alice', own: { cpuUser: 2 } }),
      ],
      [proc({ pid: 20, partition: 'root', children: { cpuUser: 3 } })],
    ]);
    assert.equal(total(accountant, 'alice', 'cpuUser'), 3, '2 s seen alive, 1 s after the last sample');
    assert.equal(total(accountant, 'root', 'cpuUser'), 0);
  });

  it('charges what a child wrote after its last sample to its partition, though the kernel folds it into the parent', () => {
    const accountant = run([
      [proc({ pid: 20, partition: 'root' })],
      [proc({ pid: 20, partition: 'root' }), proc({ pid: 21, ppid: 20, own: { cpuUser: 3 } })],
      [proc({ pid: 20, partition: 'root', own: { writtenBytes: 4096 }, children: { cpuUser: 3 } })],
    ]);
    assert.equal(total(accountant, 'alice', 'writtenBytes'), 4096);
    assert.equal(total(accountant, 'root', 'writtenBytes'), 0);
  });

  it('absorbs a reap that shows in the collection after the child vanished', () => {
    // Read in pid order, the parent was read before it reaped the child, and the child was already gone.
    const accountant = run([
      [proc({ pid: 20 })],
      [proc({ pid: 20 }), proc({ pid: 21, ppid: 20, own: { cpuUser: 2 } })],
      [proc({ pid: 20 })],
      [proc({ pid: 20, children: { cpuUser: 2.5 } })],
    ]);
    assert.equal(total(accountant, 'alice', 'cpuUser'), 2.5);
  });

  it('lets init absorb the children it adopted and reaped', () => {
    // The parent 30 exits; its child 31 is reparented to 1 (seen with ppid 1), then init reaps it.
    const accountant = run([
      [proc({ pid: 1, ppid: 0, partition: 'root' }), proc({ pid: 30 }), proc({ pid: 31, ppid: 30 })],
      [proc({ pid: 1, ppid: 0, partition: 'root' }), proc({ pid: 31, ppid: 1, own: { cpuUser: 4 } })],
      [proc({ pid: 1, ppid: 0, partition: 'root', children: { cpuUser: 4.5 } })],
    ]);
    assert.equal(total(accountant, 'alice', 'cpuUser'), 4.5, '4 s seen alive, 0.5 s after the last sample');
    assert.equal(total(accountant, 'root', 'cpuUser'), 0);
  });

  it('never lets context switches go backwards when threads exit', () => {
    const accountant = run([
      [proc({ pid: 40, own: { voluntarySwitches: 1000 } })],
      [proc({ pid: 40, own: { voluntarySwitches: 1500 } })],
      [proc({ pid: 40, own: { voluntarySwitches: 900 } })],
      [proc({ pid: 40, own: { voluntarySwitches: 950 } })],
    ]);
    assert.equal(total(accountant, 'alice', 'voluntarySwitches'), 550, '500 before the drop, 50 after');
  });

  it('keeps the totals of a partition that empties and comes back', () => {
    const accountant = run([
      [proc({ pid: 50 })],
      [proc({ pid: 50, own: { cpuUser: 3 } })],
      [],
      [proc({ pid: 51, own: { cpuUser: 1 } })],
    ]);
    assert.equal(total(accountant, 'alice', 'cpuUser'), 4);
  });

  it('keeps the partition a process was first given', () => {
    const accountant = run([
      [proc({ pid: 60, partition: 'alice' })],
      [proc({ pid: 60, partition: 'bob', own: { cpuUser: 2 } })],
    ]);
    assert.equal(accountant.partitionOf('60:1'), 'alice');
    assert.equal(total(accountant, 'alice', 'cpuUser'), 2);
    assert.equal(total(accountant, 'bob', 'cpuUser'), 0);
  });

  it('takes CPU from the cgroup for partitions that ask for it, and nothing twice', () => {
    const accountant = new Accountant();
    const cgroup = (user: number, system: number) => new Map([['job', { user, system }]]);
    accountant.update({ processes: [proc({ pid: 70, partition: 'job' })], cgroupCpu: cgroup(10, 1) });
    accountant.update({
      processes: [
        proc({ pid: 70, partition: 'job', own: { cpuUser: 5, readBytes: 10 }, children: { cpuUser: 9 } }),
      ],
      cgroupCpu: cgroup(12.5, 1.25),
    });
    assert.equal(total(accountant, 'job', 'cpuUser'), 2.5);
    assert.equal(total(accountant, 'job', 'cpuSystem'), 0.25);
    assert.equal(total(accountant, 'job', 'readBytes'), 10, 'I/O still comes from the processes');
  });

  it('resumes from its state without a reset and without counting a surviving process twice', () => {
    const before = run([[proc({ pid: 80 })], [proc({ pid: 80, own: { cpuUser: 2 } })]]);
    const state = JSON.parse(JSON.stringify(before.toState()));
    const after = run(
      [[proc({ pid: 80, own: { cpuUser: 3 } }), proc({ pid: 81, own: { cpuUser: 1 } })]],
      Accountant.fromState(state, true),
    );
    assert.equal(
      total(after, 'alice', 'cpuUser'),
      2 + 1 + 1,
      'the survivor continues from its baseline, the newcomer from birth',
    );

    const rebooted = Accountant.fromState(state, false);
    rebooted.update({ processes: [proc({ pid: 80, start: 5, own: { cpuUser: 1 } })] });
    assert.equal(total(rebooted, 'alice', 'cpuUser'), 3, 'totals continue after a reboot');
  });
});

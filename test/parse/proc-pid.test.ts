import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParseError } from '../../src/parse/parse-error.ts';
import {
  parseCmdline,
  parseEnviron,
  parsePidCgroup,
  parsePidIo,
  parsePidStat,
  parsePidStatus,
} from '../../src/parse/proc-pid.ts';
import { fixture } from '../helpers/fixtures.ts';

const NODE_STAT = fixture('proc/pid/node/stat');

describe('parsePidStat', () => {
  it('reads a multi-threaded node process captured on this machine', () => {
    assert.deepEqual(parsePidStat(NODE_STAT), {
      pid: 2990,
      comm: 'MainThread',
      state: 'S',
      ppid: 1,
      minorFaults: 2844,
      childMinorFaults: 0,
      majorFaults: 0,
      childMajorFaults: 0,
      userTicks: 2,
      systemTicks: 0,
      childUserTicks: 0,
      childSystemTicks: 0,
      threads: 7,
      startTicks: 167484,
      rssPages: 10605,
    });
  });

  it('reads a kernel thread and a zombie', () => {
    const kthread = parsePidStat(fixture('proc/pid/kthreadd/stat'));
    assert.deepEqual([kthread.pid, kthread.comm, kthread.ppid, kthread.rssPages], [2, 'kthreadd', 0, 0]);
    const zombie = parsePidStat(fixture('proc/pid/zombie/stat'));
    assert.deepEqual([zombie.comm, zombie.state, zombie.ppid, zombie.threads], ['sleep', 'Z', 3038, 1]);
  });

  it('ends the comm at the last parenthesis, whatever it contains', () => {
    const stat = parsePidStat(NODE_STAT.replace('(MainThread)', '((a) b) c)'));
    assert.equal(stat.comm, '(a) b) c');
    assert.equal(stat.ppid, 1);
    assert.equal(stat.rssPages, 10605);
  });

  it('tolerates fields that newer kernels append', () => {
    assert.equal(parsePidStat(`${NODE_STAT.trimEnd()} 7 8 9\n`).rssPages, 10605);
  });

  for (const [name, text] of [
    ['empty', ''],
    ['truncated', NODE_STAT.slice(0, 60)],
    ['truncated in the comm', '2990 (MainTh'],
    ['without comm', '2990 S 1 2966 2594 0 -1 4194560 2844 0 0 0 2 0 0 0 20 0 7 0 167484 1305776128 10605'],
    ['garbled pid', NODE_STAT.replace('2990 (', 'x990 (')],
    ['garbled count', NODE_STAT.replace(' 2844 ', ' 28x4 ')],
    ['garbled state', NODE_STAT.replace(') S ', ') ? ')],
  ] as const) {
    it(`rejects ${name} input with a ParseError`, () => {
      assert.throws(() => parsePidStat(text), ParseError);
    });
  }
});

const NODE_STATUS = fixture('proc/pid/node/status');

describe('parsePidStatus', () => {
  it('reads the capture from this machine', () => {
    assert.deepEqual(parsePidStatus(NODE_STATUS), {
      realUid: 0,
      effectiveUid: 0,
      voluntaryContextSwitches: 4,
      involuntaryContextSwitches: 4,
      residentBytes: 42720 * 1024,
    });
    assert.equal(parsePidStatus(fixture('proc/pid/kthreadd/status')).voluntaryContextSwitches, 73);
    assert.equal(
      parsePidStatus(fixture('proc/pid/kthreadd/status')).residentBytes,
      0,
      'a kernel thread has no VmRSS',
    );
  });

  it('tells the real from the effective uid', () => {
    const status = parsePidStatus('Name:\tsu\nUid:\t1000\t0\t0\t0\nvoluntary_ctxt_switches:\t9\n');
    assert.deepEqual(status, {
      realUid: 1000,
      effectiveUid: 0,
      voluntaryContextSwitches: 9,
      involuntaryContextSwitches: 0,
      residentBytes: 0,
    });
  });

  it('counts no context switches on a kernel without the lines', () => {
    const old = NODE_STATUS.replace(/^(non)?voluntary_ctxt_switches:.*\n/gm, '');
    const status = parsePidStatus(old);
    assert.deepEqual([status.voluntaryContextSwitches, status.involuntaryContextSwitches], [0, 0]);
  });

  for (const [name, text] of [
    ['empty', ''],
    ['truncated', NODE_STATUS.slice(0, NODE_STATUS.indexOf('Uid:'))],
    ['truncated in the uid line', `${NODE_STATUS.slice(0, NODE_STATUS.indexOf('Uid:'))}Uid:\t0`],
    ['garbled uid', NODE_STATUS.replace('Uid:\t0\t0', 'Uid:\tx\t0')],
    ['garbled switches', NODE_STATUS.replace('voluntary_ctxt_switches:\t4', 'voluntary_ctxt_switches:\t-4')],
  ] as const) {
    it(`rejects ${name} input with a ParseError`, () => {
      assert.throws(() => parsePidStatus(text), ParseError);
    });
  }
});

const NODE_IO = fixture('proc/pid/node/io');

describe('parsePidIo', () => {
  it('reads the capture from this machine', () => {
    assert.deepEqual(parsePidIo(NODE_IO), {
      readChars: 37106,
      writtenChars: 1,
      readSyscalls: 40,
      writeSyscalls: 1,
      readBytes: 0,
      writtenBytes: 0,
      cancelledWriteBytes: 0,
    });
    assert.equal(parsePidIo(fixture('proc/pid/zombie/io')).readChars, 6976);
  });

  it('tolerates unknown lines', () => {
    assert.equal(parsePidIo(`future_bytes: 5\n${NODE_IO}`).readChars, 37106);
  });

  for (const [name, text] of [
    ['empty', ''],
    ['truncated', NODE_IO.slice(0, NODE_IO.indexOf('write_bytes'))],
    ['garbled', NODE_IO.replace('syscr: 40', 'syscr: forty')],
  ] as const) {
    it(`rejects ${name} input with a ParseError`, () => {
      assert.throws(() => parsePidIo(text), ParseError);
    });
  }
});

describe('parseEnviron', () => {
  it('reads the capture from this machine', () => {
    assert.deepEqual(
      parseEnviron(fixture('proc/pid/node/environ')),
      new Map([
        ['PATH', '/usr/local/bin:/usr/bin:/bin'],
        ['HOME', '/root'],
        ['LANG', 'C.UTF-8'],
      ]),
    );
  });

  it('keeps = in values, skips entries without a name and keeps the first of duplicates', () => {
    const environ = parseEnviron('A=x=y\0junk\0=nameless\0A=second\0EMPTY=\0');
    assert.deepEqual(
      environ,
      new Map([
        ['A', 'x=y'],
        ['EMPTY', ''],
      ]),
    );
  });

  it('gives an empty map for an empty environment', () => {
    assert.equal(parseEnviron('').size, 0);
  });
});

describe('parseCmdline', () => {
  it('joins the arguments of the capture from this machine', () => {
    assert.equal(
      parseCmdline(fixture('proc/pid/node/cmdline')),
      '/work/main/node_modules/node/bin/node -e setTimeout(()=>{}, 60000)',
    );
  });

  it('is empty for a kernel thread', () => {
    assert.equal(parseCmdline(fixture('proc/pid/kthreadd/cmdline')), '');
  });

  it('keeps a title rewritten without NULs', () => {
    assert.equal(parseCmdline('postgres: checkpointer   '), 'postgres: checkpointer   ');
  });
});

describe('parsePidCgroup', () => {
  it('prefers the unified hierarchy of the capture from this machine', () => {
    assert.equal(parsePidCgroup(fixture('proc/pid/node/cgroup')), '/');
  });

  it('falls back to the v1 cpu controller, then to the first line', () => {
    assert.equal(
      parsePidCgroup('3:memory:/m\n2:cpuacct,cpu:/system.slice/a.service\n'),
      '/system.slice/a.service',
    );
    assert.equal(parsePidCgroup('3:memory:/m\n2:cpu,cpuacct:/c\n'), '/c');
    assert.equal(parsePidCgroup('4:memory:/m\n2:cpuacct:/acct\n'), '/m');
  });

  it('keeps colons in the path', () => {
    assert.equal(parsePidCgroup('0::/user.slice/odd:name\n'), '/user.slice/odd:name');
  });

  it('is empty for empty text', () => {
    assert.equal(parsePidCgroup(''), '');
  });

  for (const [name, text] of [
    ['truncated', '0:'],
    ['garbled', 'nothing here\n'],
  ] as const) {
    it(`rejects ${name} input with a ParseError`, () => {
      assert.throws(() => parsePidCgroup(text), ParseError);
    });
  }
});

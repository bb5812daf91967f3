import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DEFAULT_PATHS, SourceError } from '../../src/io/host-files.ts';
import { readProcessDetails, scanProcesses } from '../../src/io/proc-scan.ts';
import { fakeHost } from '../helpers/context.ts';
import { fixture } from '../helpers/fixtures.ts';

const STAT = fixture('proc/pid/node/stat');
const STATUS = fixture('proc/pid/node/status');
const IO = fixture('proc/pid/node/io');

/** A fake /proc with the node capture under each of `pids`, with `overrides` on top. */
function fakeProc(pids: readonly number[], overrides: Readonly<Record<string, string>> = {}) {
  const files: Record<string, string> = { 'proc/loadavg': '0 0 0 1/1 1', 'proc/self/': '' };
  for (const pid of pids) {
    files[`proc/${pid}/stat`] = STAT.replace(/^\d+/, String(pid));
    files[`proc/${pid}/status`] = STATUS;
    files[`proc/${pid}/io`] = IO;
    files[`proc/${pid}/fd/0`] = '';
    files[`proc/${pid}/fd/1`] = '';
  }
  return fakeHost({ ...files, ...overrides });
}

describe('scanProcesses on a fake procfs', () => {
  it('keeps what it can read and counts the failures by file and reason', async () => {
    const paths = fakeHost({
      'proc/loadavg': '0 0 0 1/1 1',
      'proc/100/stat': STAT.replace('2990', '100'),
      'proc/100/status': STATUS,
      'proc/100/io': IO,
      'proc/100/fd/0': '',
      'proc/100/fd/1': '',
      'proc/100/fd/2': '',
      'proc/101/stat': STAT.replace('2990', '101'),
      'proc/101/status': STATUS,
      'proc/101/io/': '',
      'proc/102/stat': 'garbage',
      'proc/102/status': STATUS,
      'proc/103/': '',
      'proc/104/stat': STAT.replace('2990', '104'),
      'proc/104/status': 'Name:\tx\n',
    });
    const { processes, failures } = await scanProcesses(paths, { countFds: true, chunkSize: 100 });
    assert.deepEqual(processes.map((p) => p.pid).sort(), [100, 101]);
    const normal = processes.find((p) => p.pid === 100);
    assert.equal(normal?.stat.comm, 'MainThread');
    assert.equal(normal?.status.voluntaryContextSwitches, 4);
    assert.equal(normal?.io?.readChars, 37106);
    assert.equal(normal?.openFds, 3);
    const ioDirectory = processes.find((p) => p.pid === 101);
    assert.equal(ioDirectory?.io, undefined);
    assert.equal(ioDirectory?.openFds, undefined);
    assert.deepEqual(
      failures,
      new Map([
        ['io:other', 1],
        ['fd:vanished', 1],
        ['stat:other', 1],
        ['stat:vanished', 1],
        ['status:other', 1],
      ]),
    );
  });

  it('does not list fd/ unless asked', async () => {
    const { processes, failures } = await scanProcesses(fakeProc([7]), { countFds: false, chunkSize: 10 });
    assert.equal(processes[0]?.openFds, undefined);
    assert.equal(failures.size, 0);
  });

  it('yields to the event loop between chunks', async () => {
    const paths = fakeProc([1, 2, 3, 4]);
    const scanWith = async (chunkSize: number): Promise<boolean> => {
      let flag = false;
      setImmediate(() => {
        flag = true;
      });
      const { processes } = await scanProcesses(paths, { countFds: false, chunkSize });
      assert.equal(processes.length, 4);
      return flag;
    };
    // Without a yield the scan resolves before the check phase of the event loop runs.
    assert.equal(await scanWith(100), false);
    assert.equal(await scanWith(1), true);
  });

  it('throws a SourceError when procfs cannot be listed', async () => {
    const paths = { ...fakeProc([]), procfs: '/nonexistent/proc' };
    await assert.rejects(scanProcesses(paths, { countFds: false, chunkSize: 10 }), SourceError);
  });
});

describe('scanProcesses on this host', () => {
  it('finds this process with the numbers the kernel and Node report', async () => {
    const { processes } = await scanProcesses(DEFAULT_PATHS, { countFds: true, chunkSize: 64 });
    const self = processes.find((p) => p.pid === process.pid);
    assert.ok(self, 'own pid not found');
    assert.equal(self.stat.ppid, process.ppid);
    assert.equal(self.stat.comm, readFileSync('/proc/self/comm', 'latin1').trimEnd());
    assert.equal(self.status.realUid, process.getuid?.());
    assert.ok(self.io, 'io unreadable although we are root');
    assert.ok(self.io.readChars > 0);
    assert.ok((self.openFds ?? 0) >= 3, `openFds ${self.openFds}`);
    assert.ok(processes.some((p) => p.pid === 1));
    const kthreadd = processes.find((p) => p.pid === 2);
    assert.equal(kthreadd?.stat.comm, 'kthreadd');
  });

  it('keeps zombies', async () => {
    // The shell's background child exits at once and is never reaped by the exec'd sleep.
    const parent = spawn('sh', ['-c', 'sleep 0 & exec sleep 30'], { stdio: 'ignore' });
    try {
      let zombie: Awaited<ReturnType<typeof scanProcesses>>['processes'][number] | undefined;
      for (let attempt = 0; attempt < 100 && zombie === undefined; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        const { processes } = await scanProcesses(DEFAULT_PATHS, { countFds: true, chunkSize: 256 });
        zombie = processes.find((p) => p.stat.ppid === parent.pid && p.stat.state === 'Z');
      }
      assert.ok(zombie, 'no zombie child appeared');
      assert.equal(zombie.stat.comm, 'sleep');
      assert.equal(zombie.stat.threads, 1);
    } finally {
      parent.kill();
    }
  });
});

describe('readProcessDetails', () => {
  const ALL = { cmdline: true, exe: true, environ: true, cgroup: true };

  it('reads this process', () => {
    const { details, failures } = readProcessDetails(DEFAULT_PATHS, process.pid, ALL);
    assert.deepEqual(failures, []);
    assert.equal(details.environ?.get('PATH'), process.env.PATH);
    assert.match(details.cmdline, /node/);
    assert.equal(details.exe, process.execPath);
    assert.match(details.exe, /\/node$/);
    assert.equal(typeof details.cgroup, 'string');
    assert.ok(details.cgroup.startsWith('/'), details.cgroup);
  });

  it('reads only what is needed', () => {
    const { details } = readProcessDetails(DEFAULT_PATHS, process.pid, {
      ...ALL,
      environ: false,
      exe: false,
    });
    assert.equal(details.environ, undefined);
    assert.equal(details.exe, '');
    assert.notEqual(details.cmdline, '');
  });

  it('gives a kernel thread no command, executable or environment, without failures', () => {
    const { details, failures } = readProcessDetails(DEFAULT_PATHS, 2, ALL);
    assert.deepEqual(failures, []);
    assert.equal(details.cmdline, '');
    assert.equal(details.exe, '');
    assert.equal(details.environ?.size, 0);
  });

  it('reports what it cannot read', () => {
    const paths = fakeHost({ 'proc/5/cmdline/': '', 'proc/5/cgroup': 'junk\n' });
    const { details, failures } = readProcessDetails(paths, 5, ALL);
    assert.deepEqual(details, { cmdline: '', exe: '', environ: undefined, cgroup: '' });
    assert.deepEqual([...failures].sort(), ['cgroup:other', 'cmdline:other', 'environ:vanished']);
  });
});

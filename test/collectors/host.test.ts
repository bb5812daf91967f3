import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Observations } from '../../src/collectors/collector.ts';
import { HOST_METRICS, hostCollector } from '../../src/collectors/host.ts';
import type { HostPaths } from '../../src/io/host-files.ts';
import { ParseError } from '../../src/parse/parse-error.ts';
import { UtmpType } from '../../src/parse/utmp.ts';
import { collectOnce, fakeHost, observed, testContext } from '../helpers/context.ts';
import { fixture } from '../helpers/fixtures.ts';
import { buildUtmp } from '../helpers/utmp.ts';

const PROC_FILES = {
  'proc/stat':
    'cpu  1 2 3 4 5 6 7 8 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nctxt 100\nbtime 1700000000\nprocesses 50\nprocs_running 1\nprocs_blocked 0\n',
  'proc/meminfo': [
    'MemTotal',
    'MemFree',
    'Buffers',
    'Cached',
    'SReclaimable',
    'Shmem',
    'SwapTotal',
    'SwapFree',
  ]
    .map((key) => `${key}: ${key === 'MemTotal' ? 2048000 : 0} kB\n`)
    .join(''),
  'proc/sys/kernel/osrelease': '6.1.0-28-amd64\n',
  'proc/sys/kernel/hostname': 'web-01\n',
};

const USERS = [
  { type: UtmpType.BOOT_TIME, user: 'reboot' },
  { type: UtmpType.LOGIN_PROCESS, pid: 600, line: 'tty1', user: 'LOGIN' },
  { type: UtmpType.USER_PROCESS, pid: 700, line: 'pts/0', user: 'alice' },
  { type: UtmpType.USER_PROCESS, pid: 701, line: 'pts/1', user: 'alice' },
  { type: UtmpType.DEAD_PROCESS, pid: 650, line: 'pts/2' },
  { type: UtmpType.USER_PROCESS, pid: 702, line: 'tty2', user: 'bob' },
];

function writeUtmp(paths: HostPaths, relative: string, data: Buffer): void {
  mkdirSync(join(paths.rootfs, relative, '..'), { recursive: true });
  writeFileSync(join(paths.rootfs, relative), data);
}

const info = (out: Observations) => out.items.find((o) => o.metric === HOST_METRICS.info)?.attributes;

describe('host collector', () => {
  it('reads the OS from the root filesystem and the kernel, hostname and memory from procfs', async () => {
    const paths = fakeHost({ ...PROC_FILES, 'root/etc/os-release': fixture('etc/os-release') });
    writeUtmp(paths, 'run/utmp', buildUtmp(USERS));
    const out = await collectOnce(hostCollector, testContext(paths));
    const labels = info(out);
    assert.deepEqual(Object.keys(labels ?? {}), HOST_METRICS.info.labels);
    assert.equal(labels?.['host.name'], 'web-01');
    assert.equal(labels?.['os.type'], 'linux');
    assert.equal(labels?.['os.name'], 'Debian GNU/Linux');
    assert.equal(labels?.['os.version'], '12');
    assert.equal(labels?.['os.kernel'], '6.1.0-28-amd64');
    assert.equal(labels?.['host.memory.total'], String(2048000 * 1024));
    assert.equal(observed(out, 'hostmeter.host.info', labels), 1);
    assert.equal(observed(out, 'hostmeter.host.boot_time'), 1700000000);
    assert.equal(observed(out, 'hostmeter.host.users'), 3);
  });

  it('falls back to /var/run/utmp and /usr/lib/os-release', async () => {
    const paths = fakeHost({
      ...PROC_FILES,
      'root/usr/lib/os-release': 'NAME=Fedora Linux\nVERSION_ID=41\n',
    });
    writeUtmp(paths, 'var/run/utmp', buildUtmp(USERS.slice(0, 3)));
    const out = await collectOnce(hostCollector, testContext(paths));
    assert.equal(info(out)?.['os.name'], 'Fedora Linux');
    assert.equal(info(out)?.['os.version'], '41');
    assert.equal(observed(out, 'hostmeter.host.users'), 1);
  });

  it('reports no user count without utmp, and empty OS labels without os-release', async () => {
    const out = await collectOnce(hostCollector, testContext(fakeHost(PROC_FILES)));
    assert.equal(observed(out, 'hostmeter.host.users'), undefined);
    assert.equal(info(out)?.['os.name'], '');
    assert.equal(info(out)?.['os.version'], '');
    assert.equal(observed(out, 'hostmeter.host.boot_time'), 1700000000);
  });

  it('fails the scrape on a garbled utmp or /proc/stat', async () => {
    const garbledUtmp = fakeHost(PROC_FILES);
    writeUtmp(garbledUtmp, 'run/utmp', Buffer.alloc(384, 0x41));
    await assert.rejects(async () => collectOnce(hostCollector, testContext(garbledUtmp)), ParseError);
    const garbledStat = fakeHost({ ...PROC_FILES, 'proc/stat': 'cpu  1 2 3\n' });
    await assert.rejects(async () => collectOnce(hostCollector, testContext(garbledStat)), ParseError);
  });

  it('matches uname, os.hostname, os-release and uptime on this machine', async () => {
    const out = await collectOnce(hostCollector, testContext());
    const labels = info(out);
    assert.equal(labels?.['os.kernel'], execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim());
    assert.equal(labels?.['host.name'], os.hostname());
    const osRelease = (variable: string) =>
      execFileSync('sh', ['-c', `. /etc/os-release && printf %s "$${variable}"`], { encoding: 'utf8' });
    assert.equal(labels?.['os.name'], osRelease('NAME'));
    assert.equal(labels?.['os.version'], osRelease('VERSION_ID'));
    assert.equal(labels?.['host.memory.total'], String(os.totalmem()));
    const machine = execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim();
    assert.equal(labels?.['host.arch'], { x86_64: 'amd64', aarch64: 'arm64' }[machine]);
    if (/^model name/m.test(readFileSync('/proc/cpuinfo', 'utf8')))
      assert.notEqual(labels?.['host.cpu.model.name'], '');
    const bootTime = observed(out, 'hostmeter.host.boot_time') ?? Number.NaN;
    assert.ok(Math.abs(bootTime - (Date.now() / 1000 - os.uptime())) <= 2, `boot time ${bootTime}`);
    const hasUtmp = existsSync('/run/utmp') || existsSync('/var/run/utmp');
    assert.equal(observed(out, 'hostmeter.host.users') !== undefined, hasUtmp);
  });
});

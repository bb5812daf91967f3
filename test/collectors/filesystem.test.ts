import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { type StatsFs, statfsSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { CollectorContext } from '../../src/collectors/collector.ts';
import { createFilesystemCollector, filesystemCollector } from '../../src/collectors/filesystem.ts';
import type { HostPaths } from '../../src/io/host-files.ts';
import { collectOnce, fakeHost, observed, TEST_SETTINGS, testContext } from '../helpers/context.ts';

const STATS: StatsFs = {
  type: 0xef53,
  bsize: 4096,
  blocks: 1000,
  bfree: 300,
  bavail: 250,
  files: 500,
  ffree: 120,
};

const MOUNTS = `\
/dev/vda / ext4 rw,relatime 0 0
proc /proc proc rw,relatime 0 0
tmpfs /dev/shm tmpfs rw,relatime 0 0
overlay /var/lib/docker/overlay2/abc/merged overlay rw 0 0
/dev/vdb /data xfs rw,relatime 0 0
/dev/vdc /data ext4 ro,relatime 0 0
/dev/vdd /mnt/my\\040disk ext4 rw 0 0
`;

/** A statfs that records the paths it was asked for and answers from `answer`. */
function recordingStatfs(answer: (path: string) => Promise<StatsFs> = async () => STATS) {
  const calls: string[] = [];
  const statfs = (path: string): Promise<StatsFs> => {
    calls.push(path);
    return answer(path);
  };
  return { calls, statfs };
}

const mountLabels = (device: string, mountPoint: string, type: string) => ({
  'system.device': device,
  'system.filesystem.mountpoint': mountPoint,
  'system.filesystem.type': type,
});

function contextWithTimeout(paths: HostPaths, mountTimeoutMs: number): CollectorContext {
  return {
    ...testContext(paths),
    settings: { ...TEST_SETTINGS, filesystem: { ...TEST_SETTINGS.filesystem, mountTimeoutMs } },
  };
}

describe('filesystem collector', () => {
  it('reports size, usage and inodes per mount point, last mount wins, excluded ones skipped', async () => {
    const paths = fakeHost({ 'proc/1/mounts': MOUNTS });
    const { calls, statfs } = recordingStatfs();
    const out = await createFilesystemCollector(testContext(paths), statfs).collect();

    assert.deepEqual(
      calls.sort(),
      [`${paths.rootfs}/`, `${paths.rootfs}/data`, `${paths.rootfs}/mnt/my disk`].sort(),
    );
    const data = mountLabels('/dev/vdc', '/data', 'ext4');
    const withMode = { ...data, 'system.filesystem.mode': 'ro' };
    assert.equal(observed(out, 'hostmeter.filesystem.device_error', data), 0);
    assert.equal(observed(out, 'hostmeter.filesystem.read_only', data), 1);
    assert.equal(observed(out, 'system.filesystem.limit', withMode), 1000 * 4096);
    assert.equal(
      observed(out, 'system.filesystem.usage', { ...withMode, 'system.filesystem.state': 'used' }),
      700 * 4096,
    );
    assert.equal(
      observed(out, 'system.filesystem.usage', { ...withMode, 'system.filesystem.state': 'free' }),
      250 * 4096,
    );
    assert.equal(
      observed(out, 'system.filesystem.usage', { ...withMode, 'system.filesystem.state': 'reserved' }),
      50 * 4096,
    );
    assert.equal(observed(out, 'system.filesystem.inodes.limit', withMode), 500);
    assert.equal(
      observed(out, 'system.filesystem.inodes.usage', {
        ...withMode,
        'system.filesystem.state': 'used',
      }),
      380,
    );
    assert.equal(
      observed(out, 'system.filesystem.inodes.usage', {
        ...withMode,
        'system.filesystem.state': 'free',
      }),
      120,
    );
    assert.equal(observed(out, 'hostmeter.filesystem.read_only', mountLabels('/dev/vda', '/', 'ext4')), 0);
    assert.equal(
      observed(out, 'hostmeter.filesystem.read_only', mountLabels('/dev/vdd', '/mnt/my disk', 'ext4')),
      0,
    );
    assert.equal(
      observed(out, 'hostmeter.filesystem.read_only', mountLabels('/dev/vdb', '/data', 'xfs')),
      undefined,
    );
    const mountPoints = new Set(out.items.map((o) => o.attributes['system.filesystem.mountpoint']));
    assert.deepEqual([...mountPoints].sort(), ['/', '/data', '/mnt/my disk']);
  });

  it('falls back to /proc/mounts and strips the rootfs prefix from mount points', async () => {
    const paths = fakeHost({});
    writeFileSync(
      `${paths.procfs}/mounts`,
      `/dev/vda ${paths.rootfs} ext4 rw 0 0\n/dev/vdb ${paths.rootfs}/data xfs rw 0 0\n`,
    );
    const { calls, statfs } = recordingStatfs();
    const out = await createFilesystemCollector(testContext(paths), statfs).collect();
    assert.deepEqual(calls.sort(), [`${paths.rootfs}/`, `${paths.rootfs}/data`]);
    assert.equal(observed(out, 'hostmeter.filesystem.device_error', mountLabels('/dev/vda', '/', 'ext4')), 0);
    assert.equal(
      observed(out, 'hostmeter.filesystem.device_error', mountLabels('/dev/vdb', '/data', 'xfs')),
      0,
    );
  });

  it('reports a device error and nothing else for a mount whose statfs fails', async () => {
    const paths = fakeHost({ 'proc/1/mounts': MOUNTS });
    const { statfs } = recordingStatfs(async (path) => {
      if (path.endsWith('/data'))
        throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      return STATS;
    });
    const out = await createFilesystemCollector(testContext(paths), statfs).collect();
    const data = mountLabels('/dev/vdc', '/data', 'ext4');
    assert.equal(observed(out, 'hostmeter.filesystem.device_error', data), 1);
    assert.deepEqual(
      out.items
        .filter((o) => o.attributes['system.filesystem.mountpoint'] === '/data')
        .map((o) => o.metric.name),
      ['hostmeter.filesystem.device_error'],
    );
    assert.equal(observed(out, 'hostmeter.filesystem.device_error', mountLabels('/dev/vda', '/', 'ext4')), 0);
  });

  it('does not statfs a stuck mount again until its first call answers', async () => {
    const paths = fakeHost({ 'proc/1/mounts': MOUNTS });
    let answerHung: (stats: StatsFs) => void = () => {};
    const hung = new Promise<StatsFs>((resolve) => {
      answerHung = resolve;
    });
    const { calls, statfs } = recordingStatfs(async (path) => (path.endsWith('/data') ? hung : STATS));
    const collector = createFilesystemCollector(contextWithTimeout(paths, 20), statfs);
    const data = mountLabels('/dev/vdc', '/data', 'ext4');
    const dataSeries = (out: Awaited<ReturnType<typeof collector.collect>>) =>
      out.items
        .filter((o) => o.attributes['system.filesystem.mountpoint'] === '/data')
        .map((o) => o.metric.name);
    const dataCalls = () => calls.filter((path) => path.endsWith('/data')).length;

    for (let scrape = 0; scrape < 3; scrape++) {
      const out = await collector.collect();
      assert.equal(observed(out, 'hostmeter.filesystem.device_error', data), 1);
      assert.deepEqual(dataSeries(out), ['hostmeter.filesystem.device_error']);
      assert.equal(
        observed(out, 'hostmeter.filesystem.device_error', mountLabels('/dev/vda', '/', 'ext4')),
        0,
      );
      assert.equal(dataCalls(), 1);
    }

    answerHung(STATS);
    await hung;
    await new Promise((resolve) => setImmediate(resolve));
    const out = await collector.collect();
    assert.equal(dataCalls(), 2);
    assert.equal(observed(out, 'hostmeter.filesystem.device_error', data), 0);
  });

  it('times out a statfs that never answers', async () => {
    const paths = fakeHost({ 'proc/1/mounts': '/dev/vdb /data xfs rw 0 0\n' });
    const { calls, statfs } = recordingStatfs(() => new Promise<StatsFs>(() => {}));
    const collector = createFilesystemCollector(contextWithTimeout(paths, 10), statfs);
    for (let scrape = 0; scrape < 2; scrape++) {
      const out = await collector.collect();
      assert.deepEqual(
        out.items.map((o) => [o.metric.name, o.value]),
        [['hostmeter.filesystem.device_error', 1]],
      );
    }
    assert.equal(calls.length, 1);
  });

  it('runs at most 4 statfs calls at once', async () => {
    const lines = Array.from({ length: 10 }, (_, i) => `/dev/vd${i} /m${i} ext4 rw 0 0`).join('\n');
    const paths = fakeHost({ 'proc/1/mounts': lines });
    let running = 0;
    let peak = 0;
    const { calls, statfs } = recordingStatfs(async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      return STATS;
    });
    await createFilesystemCollector(testContext(paths), statfs).collect();
    assert.equal(calls.length, 10);
    assert.equal(peak, 4);
  });

  it('fails when no mount table can be read', async () => {
    await assert.rejects(collectOnce(filesystemCollector, testContext(fakeHost({}))), /mounts/);
  });

  it('matches statfs and df for / on the real host', async () => {
    const out = await collectOnce(filesystemCollector, testContext());
    const root = out.items.find(
      (o) =>
        o.metric.name === 'system.filesystem.limit' && o.attributes['system.filesystem.mountpoint'] === '/',
    );
    assert.ok(root, 'no system.filesystem.limit series for /');
    const stats = statfsSync('/');
    assert.equal(root.value, stats.blocks * stats.bsize);
    const df = execFileSync('df', ['-B1', '--output=size', '/'], { encoding: 'utf8' }).trim().split('\n');
    assert.equal(root.value, Number(df[1]));
    assert.equal(
      observed(out, 'hostmeter.filesystem.device_error', {
        'system.device': root.attributes['system.device'] ?? '',
        'system.filesystem.mountpoint': '/',
        'system.filesystem.type': root.attributes['system.filesystem.type'] ?? '',
      }),
      0,
    );
    for (const o of out.items) {
      assert.doesNotMatch(o.attributes['system.filesystem.mountpoint'] ?? '', /^\/(proc|sys|dev)(\/|$)/);
      assert.doesNotMatch(o.attributes['system.filesystem.type'] ?? '', /^(proc|sysfs|cgroup2?|devpts)$/);
    }
  });
});

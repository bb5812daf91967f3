import { promises as fsp, type StatsFs } from 'node:fs';
import { procPath, readOptionalText, readText, rootPath } from '../io/host-files.ts';
import { type Mount, parseMounts } from '../parse/mounts.ts';
import {
  type CollectorContext,
  type CollectorDefinition,
  Observations,
  type ObservedMetricSpec,
  type RunningCollector,
} from './collector.ts';

export type Statfs = (path: string) => Promise<StatsFs>;

const MOUNT_LABELS = ['system.device', 'system.filesystem.mountpoint', 'system.filesystem.type'] as const;
const MODE_LABELS = [...MOUNT_LABELS, 'system.filesystem.mode'] as const;
const STATE_LABELS = [...MODE_LABELS, 'system.filesystem.state'] as const;

export const FILESYSTEM_METRICS = {
  usage: {
    name: 'system.filesystem.usage',
    kind: 'gauge',
    unit: 'By',
    description: 'Filesystem space used, free for unprivileged users, or reserved for root.',
    labels: STATE_LABELS,
  },
  limit: {
    name: 'system.filesystem.limit',
    kind: 'gauge',
    unit: 'By',
    description: 'Total size of the filesystem.',
    labels: MODE_LABELS,
  },
  inodesUsage: {
    name: 'system.filesystem.inodes.usage',
    kind: 'gauge',
    unit: '{inode}',
    description: 'Inodes used or free on the filesystem.',
    labels: STATE_LABELS,
  },
  inodesLimit: {
    name: 'system.filesystem.inodes.limit',
    kind: 'gauge',
    unit: '{inode}',
    description: 'Total number of inodes of the filesystem.',
    labels: MODE_LABELS,
  },
  readOnly: {
    name: 'hostmeter.filesystem.read_only',
    kind: 'gauge',
    unit: '',
    description: 'Whether the filesystem is mounted read-only (1) or not (0).',
    labels: MOUNT_LABELS,
  },
  deviceError: {
    name: 'hostmeter.filesystem.device_error',
    kind: 'gauge',
    unit: '',
    description: 'Whether statfs on the mount point failed or did not answer in time (1) or not (0).',
    labels: MOUNT_LABELS,
  },
} as const satisfies Record<string, ObservedMetricSpec>;

// Bounds the libuv threadpool share (4 threads by default) that one scrape can hold.
const MAX_PARALLEL_STATFS = 4;

/** Mount points as the host sees them, without the rootfs prefix, last mount wins. */
function selectMounts(mounts: readonly Mount[], ctx: CollectorContext): Mount[] {
  const { mountPointsExclude, fsTypesExclude } = ctx.settings.filesystem;
  const rootfs = ctx.paths.rootfs.replace(/\/+$/, '');
  const byMountPoint = new Map<string, Mount>();
  for (const mount of mounts) {
    // A mount table read inside a container lists the host's mounts under the rootfs prefix.
    let mountPoint = mount.mountPoint;
    if (rootfs !== '' && (mountPoint === rootfs || mountPoint.startsWith(`${rootfs}/`))) {
      mountPoint = mountPoint.slice(rootfs.length) || '/';
    }
    if (mountPointsExclude.test(mountPoint) || fsTypesExclude.test(mount.fsType)) continue;
    byMountPoint.delete(mountPoint);
    byMountPoint.set(mountPoint, { ...mount, mountPoint });
  }
  return [...byMountPoint.values()];
}

const TIMED_OUT = Symbol('timed out');

/** Runs `task` on every item with at most `limit` running at once. */
async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

type MountLabels = Record<(typeof MOUNT_LABELS)[number], string>;

function observeStats(out: Observations, labels: MountLabels, stats: StatsFs, readOnly: boolean): void {
  const withMode = { ...labels, 'system.filesystem.mode': readOnly ? 'ro' : 'rw' };
  const { bsize, blocks, bfree, bavail, files, ffree } = stats;
  const M = FILESYSTEM_METRICS;
  out.add(M.readOnly, readOnly ? 1 : 0, labels);
  out.add(M.usage, (blocks - bfree) * bsize, { ...withMode, 'system.filesystem.state': 'used' });
  out.add(M.usage, bavail * bsize, { ...withMode, 'system.filesystem.state': 'free' });
  out.add(M.usage, (bfree - bavail) * bsize, { ...withMode, 'system.filesystem.state': 'reserved' });
  out.add(M.limit, blocks * bsize, withMode);
  out.add(M.inodesUsage, files - ffree, { ...withMode, 'system.filesystem.state': 'used' });
  out.add(M.inodesUsage, ffree, { ...withMode, 'system.filesystem.state': 'free' });
  out.add(M.inodesLimit, files, withMode);
}

/** The running collector, with an injectable statfs so tests can simulate a hung mount. */
export function createFilesystemCollector(
  ctx: CollectorContext,
  statfs: Statfs = fsp.statfs,
): RunningCollector {
  const { paths, log } = ctx;
  const timeoutMs = ctx.settings.filesystem.mountTimeoutMs;
  // Mount points whose statfs timed out and has not answered yet. Calling statfs again on a hung
  // NFS mount would only tie up one more libuv thread, so they are reported failed until the first
  // call returns (node_exporter's stuck-mount guard).
  const stuck = new Set<string>();

  const statWithTimeout = async (mountPoint: string): Promise<StatsFs | undefined> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const pending = statfs(rootPath(paths, mountPoint));
      const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(resolve, timeoutMs, TIMED_OUT);
      });
      const result = await Promise.race([pending, timeout]);
      if (result !== TIMED_OUT) return result;
      stuck.add(mountPoint);
      const release = (): void => {
        stuck.delete(mountPoint);
        log.info('statfs of a stuck mount point returned', { mountpoint: mountPoint });
      };
      pending.then(release, release);
      log.warn('statfs timed out, skipping the mount point until it answers', {
        mountpoint: mountPoint,
        timeout_ms: timeoutMs,
      });
    } catch (error) {
      log.debug('statfs failed', { mountpoint: mountPoint, error: String(error) });
    } finally {
      clearTimeout(timer);
    }
    return undefined;
  };

  return {
    async collect() {
      const text = readOptionalText(procPath(paths, '1', 'mounts')) ?? readText(procPath(paths, 'mounts'));
      const out = new Observations();
      await forEachLimited(selectMounts(parseMounts(text), ctx), MAX_PARALLEL_STATFS, async (mount) => {
        const labels: MountLabels = {
          'system.device': mount.device,
          'system.filesystem.mountpoint': mount.mountPoint,
          'system.filesystem.type': mount.fsType,
        };
        const stats = stuck.has(mount.mountPoint) ? undefined : await statWithTimeout(mount.mountPoint);
        out.add(FILESYSTEM_METRICS.deviceError, stats === undefined ? 1 : 0, labels);
        if (stats !== undefined) observeStats(out, labels, stats, mount.options.includes('ro'));
      });
      return out;
    },
  };
}

export const filesystemCollector: CollectorDefinition = {
  name: 'filesystem',
  description: 'Filesystem size, free space, inodes and read-only state per mount point',
  defaultEnabled: true,
  metrics: Object.values(FILESYSTEM_METRICS),
  create: (ctx) => createFilesystemCollector(ctx),
};

import { procPath, readText } from '../io/host-files.ts';
import { type DiskStats, parseDiskstats } from '../parse/diskstats.ts';
import { type CollectorDefinition, Observations, type ObservedMetricSpec } from './collector.ts';

const SECTOR_BYTES = 512;
const MS = 1e-3;

const DIRECTION_LABELS = ['system.device', 'disk.io.direction'] as const;
const DEVICE_LABELS = ['system.device'] as const;

export const DISK_METRICS = {
  io: {
    name: 'system.disk.io',
    kind: 'counter',
    unit: 'By',
    description: 'Bytes read from or written to the block device.',
    labels: DIRECTION_LABELS,
  },
  operations: {
    name: 'system.disk.operations',
    kind: 'counter',
    unit: '{operation}',
    description: 'Read or write operations completed by the block device.',
    labels: DIRECTION_LABELS,
  },
  merged: {
    name: 'system.disk.merged',
    kind: 'counter',
    unit: '{operation}',
    description: 'Adjacent read or write requests merged into one before reaching the device.',
    labels: DIRECTION_LABELS,
  },
  operationTime: {
    name: 'system.disk.operation_time',
    kind: 'counter',
    unit: 's',
    description: 'Time spent on completed read or write operations, summed over all of them.',
    labels: DIRECTION_LABELS,
  },
  ioTime: {
    name: 'system.disk.io_time',
    kind: 'counter',
    unit: 's',
    description: 'Time during which the device had at least one I/O in progress.',
    labels: DEVICE_LABELS,
  },
  weightedIoTime: {
    name: 'system.disk.weighted_io_time',
    kind: 'counter',
    unit: 's',
    description: 'Time spent doing I/O weighted by the number of I/Os in progress.',
    labels: DEVICE_LABELS,
  },
  pendingOperations: {
    name: 'system.disk.pending_operations',
    kind: 'gauge',
    unit: '{operation}',
    description: 'I/O operations currently in progress on the device.',
    labels: DEVICE_LABELS,
  },
} as const satisfies Record<string, ObservedMetricSpec>;

const DIRECTIONS = [
  {
    direction: 'read',
    bytes: (d: DiskStats) => d.sectorsRead * SECTOR_BYTES,
    operations: (d: DiskStats) => d.readsCompleted,
    merged: (d: DiskStats) => d.readsMerged,
    seconds: (d: DiskStats) => d.readMs * MS,
  },
  {
    direction: 'write',
    bytes: (d: DiskStats) => d.sectorsWritten * SECTOR_BYTES,
    operations: (d: DiskStats) => d.writesCompleted,
    merged: (d: DiskStats) => d.writesMerged,
    seconds: (d: DiskStats) => d.writeMs * MS,
  },
] as const;

export const diskCollector: CollectorDefinition = {
  name: 'disk',
  description: 'Block device I/O from /proc/diskstats, partitions excluded',
  defaultEnabled: true,
  metrics: Object.values(DISK_METRICS),
  create: ({ paths, settings }) => ({
    collect() {
      const out = new Observations();
      for (const disk of parseDiskstats(readText(procPath(paths, 'diskstats')))) {
        if (settings.disk.deviceExclude.test(disk.name)) continue;
        const device = { 'system.device': disk.name };
        for (const d of DIRECTIONS) {
          const attributes = { ...device, 'disk.io.direction': d.direction };
          out.add(DISK_METRICS.io, d.bytes(disk), attributes);
          out.add(DISK_METRICS.operations, d.operations(disk), attributes);
          out.add(DISK_METRICS.merged, d.merged(disk), attributes);
          out.add(DISK_METRICS.operationTime, d.seconds(disk), attributes);
        }
        out.add(DISK_METRICS.ioTime, disk.ioMs * MS, device);
        out.add(DISK_METRICS.weightedIoTime, disk.weightedIoMs * MS, device);
        out.add(DISK_METRICS.pendingOperations, disk.inProgress, device);
      }
      return out;
    },
  }),
};

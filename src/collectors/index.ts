import type { CollectorDefinition } from './collector.ts';
import { cpuCollector } from './cpu.ts';
import { diskCollector } from './disk.ts';
import { filesystemCollector } from './filesystem.ts';
import { hostCollector } from './host.ts';
import { hwmonCollector } from './hwmon.ts';
import { loadCollector } from './load.ts';
import { memoryCollector } from './memory.ts';
import { networkCollector } from './network.ts';
import { partitionsCollector } from './partitions.ts';
import { pressureCollector } from './pressure.ts';
import { runtimeCollector } from './runtime.ts';
import { socketsCollector } from './sockets.ts';
import { tcpstatCollector } from './tcpstat.ts';

/** Every collector, in the order `hostmeter collectors` lists them. */
export const COLLECTORS: readonly CollectorDefinition[] = [
  cpuCollector,
  loadCollector,
  memoryCollector,
  pressureCollector,
  diskCollector,
  filesystemCollector,
  networkCollector,
  socketsCollector,
  tcpstatCollector,
  hostCollector,
  hwmonCollector,
  partitionsCollector,
  runtimeCollector,
];

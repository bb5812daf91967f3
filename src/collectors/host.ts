import os from 'node:os';
import si from 'systeminformation';
import {
  type HostPaths,
  procPath,
  readOptionalBytes,
  readOptionalText,
  readText,
  rootPath,
} from '../io/host-files.ts';
import type { Logger } from '../log.ts';
import { parseMeminfo } from '../parse/meminfo.ts';
import { parseOsRelease } from '../parse/os-release.ts';
import { parseProcStat } from '../parse/proc-stat.ts';
import { parseUtmp, UtmpType } from '../parse/utmp.ts';
import { type CollectorDefinition, Observations, type ObservedMetricSpec } from './collector.ts';

export const HOST_METRICS = {
  info: {
    name: 'hostmeter.host.info',
    kind: 'gauge',
    unit: '',
    description: 'Host inventory: operating system, kernel, CPU model and memory, as labels on a constant 1.',
    labels: [
      'host.name',
      'host.arch',
      'os.type',
      'os.name',
      'os.version',
      'os.kernel',
      'host.cpu.model.name',
      'host.memory.total',
      'host.memory.type',
    ],
  },
  bootTime: {
    name: 'hostmeter.host.boot_time',
    kind: 'gauge',
    unit: 's',
    description: 'Time the host booted, in seconds since the Unix epoch.',
    labels: [],
  },
  users: {
    name: 'hostmeter.host.users',
    kind: 'gauge',
    unit: '{user}',
    description: 'Login sessions recorded in utmp, counted as who does (one per terminal or remote session).',
    labels: [],
    availability: 'where the host has a utmp file',
  },
} as const satisfies Record<string, ObservedMetricSpec>;

/** Node's process.arch values mapped to the semantic-convention `host.arch` values. */
const SEMCONV_ARCH: Readonly<Record<string, string>> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm32',
  ia32: 'x86',
  ppc: 'ppc32',
  ppc64: 'ppc64',
  s390x: 's390x',
};

type StaticInventory = Omit<Record<(typeof HOST_METRICS.info.labels)[number], string>, 'host.name'>;

/**
 * Reads the inventory once: none of it changes without a reboot, and systeminformation forks helper
 * programs (dmidecode, lscpu) that a scrape must not pay for.
 *
 * The OS comes from os-release under the root filesystem and the kernel from procfs rather than from
 * systeminformation, because in a container systeminformation would describe the container's own
 * image instead of the host mounted at --path.rootfs.
 */
async function readInventory(paths: HostPaths, log: Logger): Promise<StaticInventory> {
  const osRelease = readOsRelease(paths, log);
  const [cpuModel, memoryType] = await Promise.all([
    si.cpu().then(
      ({ manufacturer, brand }) =>
        (brand.startsWith(manufacturer) ? brand : `${manufacturer} ${brand}`).trim(),
      (error: unknown) => fallback(log, 'CPU model', error, ''),
    ),
    // Virtual machines usually have no DMI memory-device table, hence often ''.
    si
      .memLayout()
      .then(
        (modules) => modules[0]?.type ?? '',
        (error: unknown) => fallback(log, 'memory type', error, ''),
      ),
  ]);
  return {
    'host.arch': SEMCONV_ARCH[os.arch()] ?? os.arch(),
    'os.type': 'linux',
    'os.name': osRelease.NAME ?? '',
    'os.version': osRelease.VERSION_ID ?? osRelease.VERSION ?? '',
    'os.kernel': readOrFallback(
      log,
      procPath(paths, 'sys/kernel/osrelease'),
      (text) => text.trim(),
      os.release(),
    ),
    'host.cpu.model.name': cpuModel,
    'host.memory.total': String(
      readOrFallback(log, procPath(paths, 'meminfo'), (text) => parseMeminfo(text).memTotal, os.totalmem()),
    ),
    'host.memory.type': memoryType,
  };
}

/** os-release(5) lives in /etc, with /usr/lib as the vendor fallback. */
function readOsRelease(paths: HostPaths, log: Logger): Readonly<Record<string, string>> {
  try {
    const text =
      readOptionalText(rootPath(paths, 'etc/os-release')) ??
      readOptionalText(rootPath(paths, 'usr/lib/os-release'));
    return text === undefined ? {} : parseOsRelease(text);
  } catch (error) {
    return fallback(log, 'os-release', error, {});
  }
}

/**
 * The inventory is descriptive: a missing or odd file leaves one label at its fallback rather than
 * costing the boot time and user count too.
 */
function readOrFallback<T, F>(log: Logger, path: string, parse: (text: string) => T, otherwise: F): T | F {
  try {
    return parse(readText(path));
  } catch (error) {
    return fallback(log, path, error, otherwise);
  }
}

function fallback<F>(log: Logger, what: string, error: unknown, otherwise: F): F {
  log.debug('host inventory fallback', { what, error: String(error) });
  return otherwise;
}

/**
 * /run/utmp is tried before /var/run/utmp: /var/run is usually a symlink to the absolute path /run,
 * which under a --path.rootfs prefix would resolve to the exporter's own /run instead of the host's.
 */
function readUtmp(paths: HostPaths): Buffer | undefined {
  return readOptionalBytes(rootPath(paths, 'run/utmp')) ?? readOptionalBytes(rootPath(paths, 'var/run/utmp'));
}

export const hostCollector: CollectorDefinition = {
  name: 'host',
  description: 'Host inventory (OS, kernel, CPU model, memory), boot time and logged-in users',
  defaultEnabled: true,
  metrics: Object.values(HOST_METRICS),
  async create({ paths, log }) {
    const inventory = await readInventory(paths, log);
    return {
      collect() {
        const out = new Observations();
        // The hostname can change at run time, so it is read every scrape. The file shows the UTS
        // namespace of the exporter, so a containerised exporter needs the host's (as node_exporter does).
        const hostName = readOptionalText(procPath(paths, 'sys/kernel/hostname'))?.trim() ?? os.hostname();
        out.add(HOST_METRICS.info, 1, { 'host.name': hostName, ...inventory });
        out.add(HOST_METRICS.bootTime, parseProcStat(readText(procPath(paths, 'stat'))).bootTime);
        const utmp = readUtmp(paths);
        if (utmp !== undefined) {
          const users = parseUtmp(utmp).filter((record) => record.type === UtmpType.USER_PROCESS).length;
          out.add(HOST_METRICS.users, users);
        }
        return out;
      },
    };
  },
};

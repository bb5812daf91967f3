// The physical floor of one hostmeter scrape: one synchronous pass over exactly the /proc and /sys
// files, directories and statfs calls the collectors make per scrape, with no parsing and no
// OpenTelemetry. Whatever hostmeter spends above this is parsing, the SDK and serialization.
//
// The list below is derived by hand from src/collectors/*.ts; keep it in step when a collector
// changes what it reads. Per-CPU, per-interface, per-chip and per-mount entries are expanded once
// when the plan is built (as the collectors would find them now); only the pass itself is timed.
// Run alone (`npx node bench/floor.ts`) it prints the plan and its cost.

import { readdirSync, readFileSync, readlinkSync, statfsSync } from 'node:fs';
import { SERVE_SETTINGS } from '../src/config/settings.ts';
import { parseMounts } from '../src/parse/mounts.ts';
import { median, percentile } from './lib.ts';

export type StepKind = 'read' | 'readdir' | 'readlink' | 'statfs';

export interface FloorStep {
  /** The collector that makes this call each scrape. */
  readonly collector: string;
  readonly kind: StepKind;
  readonly path: string;
}

const tryRead = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
};

const tryList = (path: string): string[] => {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
};

/** Logical CPU numbers as /proc/stat lists them (the cpu collector iterates these). */
const onlineCpus = (): number[] =>
  [...(tryRead('/proc/stat') ?? '').matchAll(/^cpu(\d+) /gm)].map((match) => Number(match[1]));

/** Interface names from /proc/net/dev (network collector; its default device-exclude `^$` keeps all). */
const interfaces = (): string[] =>
  (tryRead('/proc/net/dev') ?? '')
    .split('\n')
    .slice(2)
    .map((line) => line.split(':', 1)[0]?.trim() ?? '')
    .filter((name) => name !== '');

/** The mount points the filesystem collector stats, with its default excludes and last-mount-wins. */
function statfsMounts(mountsFile: string): string[] {
  const pointsExclude = new RegExp(SERVE_SETTINGS.mountPointsExclude.defaultText);
  const typesExclude = new RegExp(SERVE_SETTINGS.fsTypesExclude.defaultText);
  const selected = new Set<string>();
  for (const mount of parseMounts(tryRead(mountsFile) ?? '')) {
    if (pointsExclude.test(mount.mountPoint) || typesExclude.test(mount.fsType)) continue;
    selected.add(mount.mountPoint);
  }
  return [...selected];
}

/** Every call one hostmeter scrape makes to the kernel for its collectors, in collector order. */
export function floorPlan(): FloorStep[] {
  const steps: FloorStep[] = [];
  const add = (collector: string, kind: StepKind, path: string): void => {
    steps.push({ collector, kind, path });
  };

  // load
  add('load', 'read', '/proc/loadavg');

  // cpu: per-CPU cpufreq is tried even where no driver is loaded (the failed open is paid too);
  // topology is read only when cpuinfo lacks physical id / core id (arm, some VMs).
  add('cpu', 'read', '/proc/stat');
  add('cpu', 'read', '/proc/cpuinfo');
  const cpuinfo = tryRead('/proc/cpuinfo') ?? '';
  const processors = (cpuinfo.match(/^processor\s*:/gm) ?? []).length;
  const named =
    processors > 0 &&
    (cpuinfo.match(/^physical id\s*:/gm) ?? []).length === processors &&
    (cpuinfo.match(/^core id\s*:/gm) ?? []).length === processors;
  for (const cpu of onlineCpus()) {
    const dir = `/sys/devices/system/cpu/cpu${cpu}`;
    add('cpu', 'read', `${dir}/cpufreq/scaling_cur_freq`);
    if (!named) {
      add('cpu', 'read', `${dir}/topology/physical_package_id`);
      add('cpu', 'read', `${dir}/topology/core_id`);
    }
  }

  // memory
  add('memory', 'read', '/proc/meminfo');
  add('memory', 'read', '/proc/vmstat');

  // pressure: irq is absent on kernels before 6.1; the attempt is made regardless.
  for (const resource of ['cpu', 'memory', 'io', 'irq'])
    add('pressure', 'read', `/proc/pressure/${resource}`);

  // disk
  add('disk', 'read', '/proc/diskstats');

  // filesystem: /proc/1/mounts (the host's view from a container) with /proc/mounts as fallback,
  // then one statfs per selected mount point (hostmeter makes them with fs.promises.statfs).
  const mountsFile = tryRead('/proc/1/mounts') === undefined ? '/proc/mounts' : '/proc/1/mounts';
  if (mountsFile === '/proc/mounts') add('filesystem', 'read', '/proc/1/mounts');
  add('filesystem', 'read', mountsFile);
  for (const mountPoint of statfsMounts(mountsFile)) add('filesystem', 'statfs', mountPoint);

  // network: flags is read only for interfaces whose operstate is `unknown` (lo, tun).
  add('network', 'read', '/proc/net/dev');
  for (const name of interfaces()) {
    const dir = `/sys/class/net/${name}`;
    add('network', 'read', `${dir}/operstate`);
    if (tryRead(`${dir}/operstate`)?.trim() === 'unknown') add('network', 'read', `${dir}/flags`);
    add('network', 'read', `${dir}/mtu`);
    add('network', 'read', `${dir}/speed`);
  }

  // sockets
  for (const file of ['sockstat', 'sockstat6']) add('sockets', 'read', `/proc/net/${file}`);

  // tcpstat (off by default): the socket tables, whose read makes the kernel walk its whole hash table.
  for (const file of ['tcp', 'tcp6']) add('tcpstat', 'read', `/proc/net/${file}`);

  // host: the inventory is read once at start; per scrape only hostname, btime and utmp.
  add('host', 'read', '/proc/sys/kernel/hostname');
  add('host', 'read', '/proc/stat');
  add('host', 'read', '/run/utmp');
  if (tryRead('/run/utmp') === undefined) add('host', 'read', '/var/run/utmp');

  // hwmon: each chip's name, device link, listing, and every tempN/fanN input with its label;
  // each power supply's type, then capacity (batteries) or online (mains, USB).
  add('hwmon', 'readdir', '/sys/class/hwmon');
  for (const chip of tryList('/sys/class/hwmon')) {
    const dir = `/sys/class/hwmon/${chip}`;
    add('hwmon', 'read', `${dir}/name`);
    add('hwmon', 'readlink', `${dir}/device`);
    add('hwmon', 'readdir', dir);
    for (const file of tryList(dir)) {
      const sensor = /^((temp|fan)\d+)_input$/.exec(file)?.[1];
      if (sensor === undefined) continue;
      add('hwmon', 'read', `${dir}/${file}`);
      add('hwmon', 'read', `${dir}/${sensor}_label`);
    }
  }
  add('hwmon', 'readdir', '/sys/class/power_supply');
  for (const supply of tryList('/sys/class/power_supply')) {
    const dir = `/sys/class/power_supply/${supply}`;
    add('hwmon', 'read', `${dir}/type`);
    const type = tryRead(`${dir}/type`)?.trim();
    if (type === 'Battery') add('hwmon', 'read', `${dir}/capacity`);
    else if (type === 'Mains' || type === 'USB') add('hwmon', 'read', `${dir}/online`);
  }

  // runtime: process.memoryUsage.rss() is libuv's uv_resident_set_memory, which reads this file
  // (seen with strace); heap statistics and cpuUsage() are not file reads.
  add('runtime', 'read', '/proc/self/stat');

  return steps;
}

/**
 * One pass. Every call is made even when it fails (absent cpufreq, EINVAL on a virtual NIC's speed):
 * hostmeter pays for the failed syscall too. Files are read as bytes, without decoding.
 */
export function floorPass(plan: readonly FloorStep[]): number {
  let failures = 0;
  for (const { kind, path } of plan) {
    try {
      if (kind === 'read') readFileSync(path);
      else if (kind === 'readdir') readdirSync(path);
      else if (kind === 'readlink') readlinkSync(path);
      else statfsSync(path);
    } catch {
      failures++;
    }
  }
  return failures;
}

export interface FloorResult {
  /** Median CPU time (user + system) of one pass. */
  readonly cpuMs: number;
  readonly wallMs: number;
  readonly p95WallMs: number;
  readonly calls: number;
  readonly statfs: number;
  /** Calls that failed in the last pass (optional features this host lacks). */
  readonly failed: number;
}

/** Median of `passes` timed passes after one untimed warm-up pass. */
export function measureFloor(plan: readonly FloorStep[], passes: number): FloorResult {
  floorPass(plan);
  const cpu: number[] = [];
  const wall: number[] = [];
  let failed = 0;
  for (let pass = 0; pass < passes; pass++) {
    const startCpu = process.cpuUsage();
    const startWall = performance.now();
    failed = floorPass(plan);
    wall.push(performance.now() - startWall);
    const used = process.cpuUsage(startCpu);
    cpu.push((used.user + used.system) / 1000);
  }
  return {
    cpuMs: median(cpu),
    wallMs: median(wall),
    p95WallMs: percentile(wall, 95),
    calls: plan.length,
    statfs: plan.filter((step) => step.kind === 'statfs').length,
    failed,
  };
}

if (import.meta.main) {
  const plan = floorPlan();
  for (const step of plan) console.log(`${step.collector.padEnd(10)} ${step.kind.padEnd(8)} ${step.path}`);
  const result = measureFloor(plan, 200);
  console.log(
    `\n${result.calls} calls (${result.statfs} statfs, ${result.failed} failing): ` +
      `median ${result.cpuMs.toFixed(3)} ms CPU, ${result.wallMs.toFixed(3)} ms wall per pass (200 passes)`,
  );
}

// Per-partition accounting against the truth. Two real Unix users each run a steady CPU burner, a fork
// storm of short-lived children, a shell that spawns and reaps children and a writer that fsyncs a known
// number of bytes, under a real `hostmeter serve` scraped every second by a real Prometheus. Every
// hostmeter figure is read back from Prometheus; every truth comes from the workloads themselves
// (getrusage of their whole process tree, the bytes they wrote) or from /proc read here.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { COLLECTORS } from '../../src/collectors/index.ts';
import { freePort, type RunningHostmeter, startHostmeter, waitFor } from '../helpers/hostmeter.ts';
import { type RunningPrometheus, requireBinary, startPrometheus } from '../helpers/prometheus.ts';
import { queryAt, queryRange, type Series, samplesBetween } from '../helpers/prometheus-at.ts';
import { ensureUser, type TestUser } from '../helpers/users.ts';

const WORKLOADS = fileURLToPath(new URL('../workloads/', import.meta.url));
/** Debian's interpreter: every user can run it, unlike a pyenv shim under /root. */
const PYTHON = '/usr/bin/python3';
const USER_NAMES = ['hmtest-a', 'hmtest-b'];
const WORKLOAD = { stormChildren: 320, seconds: 10, writeMib: 48, ballastMib: 40 };
/** Largest relative errors allowed; the goal for CPU is 1%. */
const TOLERANCE = { cpu: 0.02, written: 0.01, memory: 0.05 };

/** What a user's driver reports once all its workloads are reaped. */
interface Truth {
  readonly cpu_user: number;
  readonly cpu_system: number;
  readonly written: number;
  readonly storm_children: number;
}

interface Driver {
  readonly child: ChildProcess;
  /** Resolves when only the burner is left running (nothing is born or dies until release). */
  readonly steady: Promise<void>;
  readonly done: Promise<Truth>;
  /** Lets the driver stop its burner and report. */
  release(): void;
}

/** Sum of VmRSS of the processes whose real uid is `uid`, read from /proc/PID/status. */
function residentBytesOf(uid: number): number {
  let total = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let status: string;
    try {
      status = readFileSync(`/proc/${name}/status`, 'latin1');
    } catch {
      continue; // exited meanwhile
    }
    if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) !== uid) continue;
    total += Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
  }
  return total;
}

/** statfs f_type of tmpfs: its writes never reach storage, so /proc/PID/io write_bytes stays 0. */
const TMPFS_MAGIC = 0x01021994;

/** A temporary directory on real storage, for the writer's bytes to be counted. */
function diskBackedTempDir(): string {
  const found = [tmpdir(), '/var/tmp'].find((candidate) => statfsSync(candidate).type !== TMPFS_MAGIC);
  if (!found)
    throw new Error(`${tmpdir()} and /var/tmp are tmpfs: the writer's bytes would not reach storage`);
  return found;
}

const relativeError = (measured: number, truth: number): number => Math.abs(measured - truth) / truth;
const percent = (ratio: number): string => `${(ratio * 100).toFixed(3)}%`;

describe('per-partition accounting of real users, scraped by a real Prometheus', () => {
  let dir: string;
  let users: TestUser[];
  let port: number;
  let hostmeter: RunningHostmeter | undefined;
  let prometheus: RunningPrometheus;
  const drivers: Driver[] = [];

  const hostmeterArgs = (): string[] => [
    ...COLLECTORS.filter((collector) => collector.name !== 'partitions').map(
      (collector) => `--no-collector.${collector.name}`,
    ),
    `--state.file=${join(dir, 'state.json')}`,
  ];

  const latest = (expr: string): Promise<number> => prometheus.scalar(expr);
  /**
   * Successful collections of the partitions collector that Prometheus stored. On a loaded machine a
   * collection can outlast the 1-s scrape timeout: that scrape leaves the partition series out (and
   * Prometheus marks them stale), so only successful ones count.
   */
  const collections = (): Promise<number> =>
    latest('sum(sum_over_time(hostmeter_scrape_collector_success{collector="partitions"}[1h]))');

  /** Waits until Prometheus has stored at least `count` more successful collections. */
  const scrapes = async (count: number): Promise<void> => {
    const target = (await collections()) + count;
    await waitFor(async () => (await collections()) >= target, `${count} successful scrapes`, 60_000);
  };

  function startDriver(user: TestUser): Driver {
    const workdir = join(dir, user.name);
    const child = spawn(
      PYTHON,
      [
        '-B',
        '-I',
        join(dir, 'workloads', 'driver.py'),
        workdir,
        String(WORKLOAD.stormChildren),
        String(WORKLOAD.seconds),
        String(WORKLOAD.writeMib),
        String(WORKLOAD.ballastMib),
      ],
      {
        // spawn switches uid and gid (and drops supplementary groups) between fork and exec, so the
        // driver is the user's from its first instruction: setpriv would run as root until its own exec.
        uid: user.uid,
        gid: user.gid,
        cwd: workdir,
        env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1' },
        // Its own process group, so that after() can kill every descendant at once.
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const events = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    let steady = (): void => {};
    const done = new Promise<Truth>((resolve, reject) => {
      let truth: Truth | undefined;
      events.on('line', (line) => {
        const event = JSON.parse(line) as { event: string };
        if (event.event === 'steady') steady();
        if (event.event === 'done') truth = event as unknown as Truth;
      });
      void exited.then((code) => {
        if (code === 0 && truth) resolve(truth);
        else reject(new Error(`driver of ${user.name} exited with ${code}: ${stderr}`));
      });
    });
    const driver: Driver = {
      child,
      steady: Promise.race([
        new Promise<void>((resolve) => {
          steady = resolve;
        }),
        done.then(() => {
          throw new Error(`driver of ${user.name} finished before it was steady`);
        }),
      ]),
      done,
      release: () => child.stdin?.end(),
    };
    drivers.push(driver);
    return driver;
  }

  /**
   * Per hmtest partition at `time`: total CPU seconds and written bytes (0 before it first appears), from
   * the last sample stored, as a scrape that timed out left stale markers rather than values.
   */
  async function countersAt(time: number): Promise<Map<string, { cpu: number; written: number }>> {
    const [cpu, written] = await Promise.all([
      queryAt(
        prometheus.url,
        'sum by (partition) (last_over_time(hostmeter_partition_cpu_time_seconds_total{partition=~"hmtest-.+"}[10m]))',
        time,
      ),
      queryAt(
        prometheus.url,
        'last_over_time(hostmeter_partition_disk_io_bytes_total{partition=~"hmtest-.+",disk_io_direction="write"}[10m])',
        time,
      ),
    ]);
    const partitionValue = (samples: typeof cpu, partition: string): number =>
      samples.find((sample) => sample.metric.partition === partition)?.value ?? 0;
    return new Map(
      users.map((user) => [
        user.name,
        { cpu: partitionValue(cpu, user.name), written: partitionValue(written, user.name) },
      ]),
    );
  }

  /**
   * The partition's memory gauge against the RSS summed here, at a moment when the RSS read before and
   * after a scrape agree (so the scrape saw the same processes).
   */
  async function compareMemory(t: TestContext): Promise<void> {
    for (const user of users) {
      let last = '';
      let compared = false;
      for (let attempt = 0; attempt < 8 && !compared; attempt++) {
        const from = Date.now() / 1000;
        const before = residentBytesOf(user.uid);
        await scrapes(1);
        const after = residentBytesOf(user.uid);
        const [series] = await samplesBetween(
          prometheus.url,
          `hostmeter_partition_memory_usage_bytes{partition="${user.name}"}`,
          from,
          Date.now() / 1000,
        );
        const measured = series?.values.at(-1)?.[1];
        last = `${user.name}: memory ${measured} B, RSS summed from /proc ${before} → ${after} B`;
        if (measured === undefined || relativeError(before, after) > 0.005) continue;
        const error = relativeError(measured, (before + after) / 2);
        t.diagnostic(`${last}: error ${percent(error)}`);
        assert.ok(error <= TOLERANCE.memory, `${last}: error ${percent(error)}`);
        compared = true;
      }
      assert.ok(compared, `never steady enough to compare: ${last}`);
    }
  }

  /** The partition counter series Prometheus holds that went down at some point (resets() > 0). */
  async function counterResets(): Promise<string[]> {
    // The label-values API, not an instant query: a scrape that timed out leaves no series at one instant.
    const response = await fetch(
      `${prometheus.url}/api/v1/label/__name__/values?${new URLSearchParams({ 'match[]': '{__name__=~"hostmeter_partition_.+_total"}' })}`,
    );
    const families = ((await response.json()) as { data: string[] }).data;
    assert.ok(families.includes('hostmeter_partition_cpu_time_seconds_total'), `families: ${families}`);
    assert.ok(families.includes('hostmeter_partition_disk_io_bytes_total'), `families: ${families}`);
    const resets: string[] = [];
    for (const family of families) {
      for (const sample of await prometheus.query(`resets(${family}[1h])`)) {
        if (sample.value !== 0) resets.push(`${family}${JSON.stringify(sample.metric)}: ${sample.value}`);
      }
    }
    return resets;
  }

  /**
   * Each hmtest partition's CPU seconds and written MiB from Prometheus, one row per second between t0 and
   * t1, with what the test did: the evidence to diagnose a wrong figure.
   */
  async function timeline(
    t0: number,
    t1: number,
    marks: readonly (readonly [number, string])[],
  ): Promise<string> {
    const start = Math.ceil(t0);
    const [cpu, written] = await Promise.all(
      [
        'sum by (partition) (hostmeter_partition_cpu_time_seconds_total{partition=~"hmtest-.+"})',
        'hostmeter_partition_disk_io_bytes_total{partition=~"hmtest-.+",disk_io_direction="write"}',
      ].map((expr) => queryRange(prometheus.url, expr, start, t1)),
    );
    const at = (series: Series[] | undefined, user: string, time: number): number | undefined =>
      series?.find((item) => item.metric.partition === user)?.values.find(([when]) => when === time)?.[1];
    const rows = [`   s  ${users.map((user) => `${user.name} CPU s / written MiB`).join('  ')}`];
    for (let time = start; time <= t1; time++) {
      const cells = users.map((user) => {
        const bytes = at(written, user.name, time);
        return `${at(cpu, user.name, time)?.toFixed(2) ?? '-'} / ${bytes === undefined ? '-' : (bytes / 2 ** 20).toFixed(2)}`;
      });
      const happened = marks.filter(([when]) => when > time - 1 && when <= time).map(([, what]) => what);
      rows.push(`${String(time - start).padStart(4)}  ${cells.join('  ')}  ${happened.join(', ')}`);
    }
    return rows.join('\n');
  }

  /** Runs the workloads of every user once, optionally restarting hostmeter halfway, and checks. */
  async function run(t: TestContext, restart: boolean): Promise<void> {
    const marks: [number, string][] = [];
    const mark = (what: string): void => {
      marks.push([Date.now() / 1000, what]);
    };
    await scrapes(1);
    const t0 = Date.now() / 1000;
    const before = await countersAt(t0);
    const running = users.map(startDriver);
    mark('drivers started');
    if (restart) {
      await sleep((WORKLOAD.seconds * 1000) / 2);
      assert.equal(await hostmeter?.stop(), 0, 'hostmeter stops cleanly on SIGTERM');
      mark('hostmeter stopped');
      // Down for more than a scrape interval: Prometheus records the gap, the workloads go on.
      await sleep(1500);
      hostmeter = await startHostmeter(hostmeterArgs(), port);
      mark('hostmeter started');
      await waitFor(async () => /resumed from the state file/.test(hostmeter?.log() ?? ''), 'state', 5000);
    }
    await Promise.all(running.map((driver) => driver.steady));
    mark('steady');
    await compareMemory(t);
    // Tenants finish at different times: each driver kills its burner and exits within a few ms, and
    // the next one only after two more scrapes. (Two partitions' processes reaped by one parent between
    // two scrapes leave their unseen tails to the parent's partition: docs/accounting.md.)
    const truths: Truth[] = [];
    for (const [index, driver] of running.entries()) {
      driver.release();
      truths.push(await driver.done);
      mark(`${users[index]?.name} exited`);
      if (truths.length < running.length) await scrapes(2);
    }
    // Reaped processes are charged at the next collection; three scrapes leave room for a late one.
    await scrapes(3);
    const t1 = Date.now() / 1000;
    const later = await countersAt(t1);

    const failures: string[] = [];
    users.forEach((user, index) => {
      const truth = truths[index] as Truth;
      assert.equal(truth.storm_children, WORKLOAD.stormChildren);
      const start = before.get(user.name) ?? { cpu: 0, written: 0 };
      const end = later.get(user.name) ?? { cpu: 0, written: 0 };
      const cpu = end.cpu - start.cpu;
      const cpuTruth = truth.cpu_user + truth.cpu_system;
      const cpuError = relativeError(cpu, cpuTruth);
      const written = end.written - start.written;
      const writtenError = relativeError(written, truth.written);
      const line = `${user.name}: CPU ${cpu.toFixed(3)} s vs ${cpuTruth.toFixed(3)} s (${percent(cpuError)}), written ${written} B vs ${truth.written} B (${percent(writtenError)})`;
      t.diagnostic(line);
      if (cpuError > TOLERANCE.cpu || writtenError > TOLERANCE.written) failures.push(line);
    });
    if (failures.length > 0) failures.push(await timeline(t0, t1, marks));
    for (const reset of await counterResets()) failures.push(`counter went down: ${reset}`);
    if (failures.length > 0) assert.fail(failures.join('\n'));
  }

  before(async () => {
    requireBinary('prometheus');
    users = USER_NAMES.map(ensureUser);
    dir = mkdtempSync(join(diskBackedTempDir(), 'hm-partitions-'));
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'workloads'), { mode: 0o755 });
    for (const file of readdirSync(WORKLOADS))
      copyFileSync(join(WORKLOADS, file), join(dir, 'workloads', file));
    for (const user of users) {
      mkdirSync(join(dir, user.name), { mode: 0o700 });
      chownSync(join(dir, user.name), user.uid, user.gid);
    }
    port = await freePort();
    hostmeter = await startHostmeter(hostmeterArgs(), port);
    prometheus = await startPrometheus({ targets: [`127.0.0.1:${port}`] });
    await waitFor(
      async () => (await prometheus.query('hostmeter_partition_processes')).length > 0,
      'first scrape of the partitions',
      30_000,
    );
    await scrapes(2);
  });

  after(async () => {
    // The whole process group: a failed run can leave a burner or storm children behind a dead driver.
    for (const { child } of drivers) {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await prometheus?.stop();
    await hostmeter?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    'counts each user’s CPU, written bytes and memory within tolerance, with no reset',
    { timeout: 90_000 },
    (t) => run(t, false),
  );

  it(
    'stays within tolerance, with no reset, across a hostmeter restart in the middle',
    { timeout: 90_000 },
    (t) => run(t, true),
  );
});

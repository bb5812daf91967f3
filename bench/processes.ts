// Per-partition process accounting benchmark: hostmeter's `partitions` collector (every other collector
// off) against process-exporter grouping by user name, and the physical floor of a /proc walk, with N
// extra idle processes spread over 10 users. It prints figures and never fails on them: targets are
// printed next to the ratios. Runs as root (it adds users, starts processes as them, and process-exporter
// needs root to read every /proc/PID/io).
//
//   npx node bench/processes.ts [--processes=0,1000,5000] [--scrapes=20] [--warmup=3]
//     [--floor-passes=K] [--quiet-timeout=60] [--healthz-interval=10] [--profile] [--profile-scrapes=50]
//     [--skip-build]
//
// For each N: start N `sleep 100000` as hmbench0..hmbench9 (round robin), start fresh exporters
// (hostmeter, process-exporter, process-exporter without smaps and threads), then per exporter wait for
// a quiet box, make W warm-up and K sequential scrapes and read its CPU time before and after. A second
// series of K hostmeter scrapes probes /healthz every `--healthz-interval` ms while each scrape is in
// flight (kept apart so the probes' own CPU does not count as scrape CPU). The floor is measured right
// after hostmeter's series, with the exporters idle: one synchronous in-process pass reading
// /proc/PID/{stat,status,io} and listing /proc/PID/fd for every pid, the calls hostmeter's scanner makes
// (src/io/proc-scan.ts). With --profile, a separate hostmeter started with --cpu-prof is scraped at the
// largest N and its top self-time functions are printed (the profile is kept in the temp directory).

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pidusage from 'pidusage';
import {
  CLK_TCK,
  countSamples,
  cpuProfileSelfTimes,
  freePort,
  machineFacts,
  measureScrapes,
  median,
  percentile,
  type QuietResult,
  type SelfTime,
  type Started,
  startProcess,
  stopProcess,
  waitGone,
  waitQuiet,
  waitUntilAnswers,
  wholeNumber,
} from './lib.ts';

const REPO = resolve(import.meta.dirname, '..');
const HOSTMETER = join(REPO, 'bin/hostmeter.js');
const PROCESS_EXPORTER = '/usr/bin/prometheus-process-exporter';
const USERS = 10;
const USER_PREFIX = 'hmbench';
const MIB = 1024 * 1024;
const QUIET_CORES = 0.3;
const QUIET_WINDOW_MS = 2000;
const TARGET_VS_PROCESS_EXPORTER = 0.15;
const TARGET_VS_FLOOR = 1.2;
const TARGET_HEALTHZ_MS = 50;
/** One group per user name; '.*' also matches kernel threads, whose cmdline is empty. */
const PROCESS_EXPORTER_CONFIG = `process_names:\n  - name: "{{.Username}}"\n    cmdline:\n      - '.*'\n`;
const PLAIN = { 'accept-encoding': 'identity' } as const;

// ---------------------------------------------------------------------------------------------------
// Workload

interface Account {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** hmbench0..9, added (no home, no login shell) when missing and left in place afterwards. */
function ensureUsers(): Account[] {
  const known = (): Map<string, Account> =>
    new Map(
      readFileSync('/etc/passwd', 'utf8')
        .split('\n')
        .map((line) => line.split(':'))
        .filter((fields) => fields.length >= 4)
        .map(([name = '', , uid, gid]) => [name, { name, uid: Number(uid), gid: Number(gid) }]),
    );
  const names = Array.from({ length: USERS }, (_, i) => `${USER_PREFIX}${i}`);
  for (const name of names) {
    if (!known().has(name)) execFileSync('useradd', ['-M', '-s', '/usr/sbin/nologin', name]);
  }
  const accounts = known();
  return names.map((name) => {
    const account = accounts.get(name);
    if (account === undefined) throw new Error(`useradd ${name} did not add it`);
    return account;
  });
}

/**
 * The idle processes of the current run. This script stays their parent, so Node reaps each one as it
 * exits; only after a SIGINT exit do they become orphans that PID 1 reaps.
 */
const workload = new Set<ChildProcess>();

async function startWorkload(count: number, accounts: readonly Account[]): Promise<void> {
  const begin = performance.now();
  for (let i = 0; i < count; i++) {
    const account = accounts[i % accounts.length] as Account;
    // uid/gid make libuv call setgroups(0) too, as `setpriv --clear-groups` would; detached gives each
    // its own process group so a terminal's Ctrl-C reaches only this script, which kills them itself.
    const child = spawn('sleep', ['100000'], {
      uid: account.uid,
      gid: account.gid,
      detached: true,
      stdio: 'ignore',
    });
    child.on('error', (error) => console.error(`sleep as ${account.name}: ${error.message}`));
    child.once('exit', () => workload.delete(child));
    workload.add(child);
    if ((i + 1) % 500 === 0 || i + 1 === count) {
      process.stderr.write(`\r  started ${i + 1}/${count} idle processes`);
      // Lets Node handle the exits of any that failed, and keeps SIGINT responsive.
      await sleep(0);
    }
  }
  if (count > 0) process.stderr.write(` in ${((performance.now() - begin) / 1000).toFixed(1)} s\n`);
  const failed = count - workload.size;
  if (failed > 0) throw new Error(`${failed} of the ${count} idle processes exited at once`);
}

async function stopWorkload(): Promise<void> {
  const children = [...workload];
  const pids = children.flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
  const exits = children.map((child) => new Promise((done) => child.once('exit', done)));
  for (const child of children) child.kill('SIGKILL');
  await Promise.race([Promise.all(exits), sleep(30_000)]);
  const left = await waitGone(pids, 30_000);
  if (left > 0) console.error(`WARNING: ${left} idle processes still in /proc after 60 s`);
}

/** Synchronous, for the SIGINT handler and the exit hook: nothing started here may outlive the script. */
function killWorkloadNow(): void {
  for (const child of workload) child.kill('SIGKILL');
}

// ---------------------------------------------------------------------------------------------------
// Floor

const floorBuffer = Buffer.allocUnsafe(16384);

/** One read into a shared buffer, as proc-scan.ts does: the cheapest way to make the same calls. */
function readRaw(path: string): void {
  const fd = openSync(path, 'r');
  try {
    readSync(fd, floorBuffer, 0, floorBuffer.length, 0);
  } finally {
    closeSync(fd);
  }
}

const PID_FILES = ['stat', 'status', 'io'] as const;

/** One pass over every pid; returns how many pids it saw. Failed calls (a process that left) count too. */
function floorPass(): number {
  let pids = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    pids++;
    for (const file of PID_FILES) {
      try {
        readRaw(`/proc/${name}/${file}`);
      } catch {
        // The process exited during the pass: hostmeter pays for the failed open too.
      }
    }
    try {
      // As src/io/proc-scan.ts: the size of the fd directory is the count since Linux 6.2.
      if (statSync(`/proc/${name}/fd`).size === 0) readdirSync(`/proc/${name}/fd`);
    } catch {
      // As above.
    }
  }
  return pids;
}

interface Floor {
  readonly cpuMs: number;
  readonly p95CpuMs: number;
  readonly wallMs: number;
  readonly pids: number;
}

function measureFloor(passes: number): Floor {
  floorPass();
  const cpu: number[] = [];
  const wall: number[] = [];
  let pids = 0;
  for (let pass = 0; pass < passes; pass++) {
    const startCpu = process.cpuUsage();
    const startWall = performance.now();
    pids = floorPass();
    wall.push(performance.now() - startWall);
    const used = process.cpuUsage(startCpu);
    cpu.push((used.user + used.system) / 1000);
  }
  return { cpuMs: median(cpu), p95CpuMs: percentile(cpu, 95), wallMs: median(wall), pids };
}

// ---------------------------------------------------------------------------------------------------
// Exporters

type ExporterName = 'hostmeter' | 'process-exporter' | 'process-exporter lean';

interface Exporter {
  readonly name: ExporterName;
  readonly started: Started;
  readonly base: string;
  readonly startupMs: number;
}

/** Every hostmeter collector except `partitions`, as `--no-collector.NAME` flags. */
function hostmeterCollectorFlags(): string[] {
  const listing = execFileSync(process.execPath, [HOSTMETER, 'collectors'], { encoding: 'utf8' });
  const names = listing
    .split('\n')
    .map((line) => line.split(/\s+/, 1)[0] ?? '')
    .filter((name) => name !== '');
  if (!names.includes('partitions')) throw new Error('hostmeter has no partitions collector');
  return names.filter((name) => name !== 'partitions').map((name) => `--no-collector.${name}`);
}

interface ExporterPlan {
  readonly name: ExporterName;
  readonly command: string;
  readonly args: (port: number) => string[];
}

function exporterPlans(configFile: string, nodeFlags: readonly string[] = []): ExporterPlan[] {
  const collectorFlags = hostmeterCollectorFlags();
  const processExporterArgs = (port: number): string[] => [
    '-web.listen-address',
    `127.0.0.1:${port}`,
    '-config.path',
    configFile,
  ];
  return [
    {
      name: 'hostmeter',
      // process.execPath and the script directly, so the measured pid is node itself and not npx.
      command: process.execPath,
      args: (port) => [
        ...nodeFlags,
        HOSTMETER,
        'serve',
        `--web.listen-address=127.0.0.1:${port}`,
        ...collectorFlags,
      ],
    },
    { name: 'process-exporter', command: PROCESS_EXPORTER, args: processExporterArgs },
    {
      name: 'process-exporter lean',
      command: PROCESS_EXPORTER,
      args: (port) => [...processExporterArgs(port), '-gather-smaps=false', '-threads=false'],
    },
  ];
}

async function startExporter(
  plan: ExporterPlan,
  tag: string,
  logDir: string,
  started: Started[],
): Promise<Exporter> {
  const port = await freePort();
  const child = startProcess(`${plan.name.replace(' ', '-')}-${tag}`, plan.command, plan.args(port), logDir);
  started.push(child);
  const base = `http://127.0.0.1:${port}`;
  // process-exporter's first scrape with 5,000 processes takes seconds.
  const startupMs = await waitUntilAnswers(child, `${base}/metrics`, 60_000);
  return { name: plan.name, started: child, base, startupMs };
}

async function stopExporters(started: Started[]): Promise<void> {
  await Promise.all(started.splice(0).map((child) => stopProcess(child)));
}

// ---------------------------------------------------------------------------------------------------
// Series

interface Scrape {
  readonly ms: number;
  readonly body: string;
}

async function scrape(url: string): Promise<Scrape> {
  const begin = performance.now();
  const response = await fetch(url, { headers: PLAIN });
  const body = await response.text();
  const ms = performance.now() - begin;
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return { ms, body };
}

interface Series {
  readonly exporter: ExporterName;
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly cpuMsPerScrape: number;
  /** The same delta read from /proc/PID/stat directly, to cross-check pidusage. */
  readonly procStatCpuMsPerScrape: number;
  readonly rssBytes: number;
  readonly samples: number;
  readonly bytes: number;
  readonly boxCores: number;
  /** Box load minus the exporter and this script: other jobs that disturbed the measurement. */
  readonly otherCores: number;
  readonly quiet: QuietResult;
  /** hostmeter only: median of its own `partitions` collector duration over the K scrapes. */
  readonly collectorMs: number | undefined;
}

const PARTITIONS_DURATION = /^hostmeter_scrape_collector_duration_seconds\{collector="partitions"\} (\S+)$/m;

async function measureSeries(
  exporter: Exporter,
  warmup: number,
  scrapes: number,
  quietTimeoutMs: number,
): Promise<Series> {
  const url = `${exporter.base}/metrics`;
  const quiet = await waitQuiet(QUIET_CORES, QUIET_WINDOW_MS, quietTimeoutMs);
  for (let i = 0; i < warmup; i++) await scrape(url);

  const durations: number[] = [];
  const cost = await measureScrapes(
    exporter.started.pid,
    scrapes,
    () => scrape(url),
    (result) => {
      const duration = PARTITIONS_DURATION.exec(result.body)?.[1];
      if (duration !== undefined) durations.push(Number(duration) * 1000);
    },
  );
  return {
    exporter: exporter.name,
    medianMs: median(cost.latencies),
    p95Ms: percentile(cost.latencies, 95),
    cpuMsPerScrape: cost.cpuMsPerScrape,
    procStatCpuMsPerScrape: cost.procStatCpuMsPerScrape,
    rssBytes: cost.rssBytes,
    samples: countSamples(cost.last.body),
    bytes: Buffer.byteLength(cost.last.body),
    boxCores: cost.boxCores,
    otherCores: cost.otherCores,
    quiet,
    collectorMs: durations.length > 0 ? median(durations) : undefined,
  };
}

interface Healthz {
  readonly probes: number;
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Latency of the scrapes the probes ran against. */
  readonly scrapeMedianMs: number;
}

/**
 * K scrapes of hostmeter, each with /healthz requested every `intervalMs` (one at a time: a probe that
 * has not answered yet is not repeated, so a stalled event loop shows as one long probe, not a queue).
 */
async function measureHealthz(
  exporter: Exporter,
  scrapes: number,
  intervalMs: number,
  quietTimeoutMs: number,
): Promise<Healthz> {
  const url = `${exporter.base}/metrics`;
  const healthz = `${exporter.base}/healthz`;
  await waitQuiet(QUIET_CORES, QUIET_WINDOW_MS, quietTimeoutMs);
  const probes: number[] = [];
  const scrapeMs: number[] = [];
  for (let i = 0; i < scrapes; i++) {
    let inFlight = true;
    const scraped = scrape(url).finally(() => {
      inFlight = false;
    });
    while (inFlight) {
      const begin = performance.now();
      const response = await fetch(healthz, { headers: PLAIN });
      await response.text();
      const ms = performance.now() - begin;
      if (!response.ok) throw new Error(`${healthz} answered ${response.status}`);
      probes.push(ms);
      if (ms < intervalMs) await sleep(intervalMs - ms);
    }
    scrapeMs.push((await scraped).ms);
  }
  return {
    probes: probes.length,
    medianMs: median(probes),
    p99Ms: percentile(probes, 99),
    maxMs: Math.max(...probes),
    scrapeMedianMs: median(scrapeMs),
  };
}

interface Round {
  readonly processes: number;
  /** Processes in /proc during the floor passes (the workload plus everything else on the box). */
  readonly pids: number;
  readonly exporters: readonly Exporter[];
  readonly series: readonly Series[];
  readonly healthz: Healthz;
  readonly floor: Floor;
}

interface Options {
  readonly counts: readonly number[];
  readonly scrapes: number;
  readonly warmup: number;
  readonly floorPasses: number;
  readonly quietTimeoutMs: number;
  readonly healthzIntervalMs: number;
  readonly profileScrapes: number;
}

async function measureRound(
  count: number,
  accounts: readonly Account[],
  plans: readonly ExporterPlan[],
  options: Options,
  logDir: string,
  started: Started[],
): Promise<Round> {
  console.error(`N = ${count}:`);
  await startWorkload(count, accounts);
  try {
    const exporters: Exporter[] = [];
    for (const plan of plans) exporters.push(await startExporter(plan, `n${count}`, logDir, started));
    const series: Series[] = [];
    let floor: Floor | undefined;
    for (const exporter of exporters) {
      console.error(`  measuring ${exporter.name} ...`);
      series.push(await measureSeries(exporter, options.warmup, options.scrapes, options.quietTimeoutMs));
      if (floor !== undefined) continue;
      // Right after hostmeter's series, so that the two figures of the ratio see the same box load.
      console.error('  measuring the floor ...');
      await waitQuiet(QUIET_CORES, QUIET_WINDOW_MS, options.quietTimeoutMs);
      floor = measureFloor(options.floorPasses);
    }
    if (floor === undefined) throw new Error('no exporter was measured');
    const hostmeter = exporters.find((exporter) => exporter.name === 'hostmeter') as Exporter;
    console.error('  measuring hostmeter /healthz during scrapes ...');
    const healthz = await measureHealthz(
      hostmeter,
      options.scrapes,
      options.healthzIntervalMs,
      options.quietTimeoutMs,
    );
    return { processes: count, pids: floor.pids, exporters, series, healthz, floor };
  } finally {
    await stopExporters(started);
    await stopWorkload();
  }
}

/** Scrapes a hostmeter started with --cpu-prof, stops it so that it writes the profile, and ranks it. */
async function profileHostmeter(
  count: number,
  accounts: readonly Account[],
  configFile: string,
  options: Options,
  logDir: string,
  started: Started[],
): Promise<SelfTime[]> {
  const profileDir = join(logDir, 'profile');
  mkdirSync(profileDir);
  const [plan] = exporterPlans(configFile, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]);
  console.error(`profiling hostmeter over ${options.profileScrapes} scrapes with N = ${count} ...`);
  await startWorkload(count, accounts);
  try {
    const hostmeter = await startExporter(plan as ExporterPlan, 'profile', logDir, started);
    for (let i = 0; i < options.warmup; i++) await scrape(`${hostmeter.base}/metrics`);
    for (let i = 0; i < options.profileScrapes; i++) await scrape(`${hostmeter.base}/metrics`);
    // SIGTERM makes serve exit normally, which is when Node writes the profile.
    await stopExporters(started);
  } finally {
    await stopExporters(started);
    await stopWorkload();
  }
  const [file] = readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`hostmeter wrote no profile into ${profileDir}`);
  // Kept for a closer look (Chrome DevTools or speedscope) after the log directory is removed.
  const kept = join(os.tmpdir(), `hostmeter-processes-${count}.cpuprofile`);
  copyFileSync(join(profileDir, file), kept);
  console.error(`  profile kept in ${kept}`);
  return cpuProfileSelfTimes(kept);
}

// ---------------------------------------------------------------------------------------------------
// Report

const fixed = (value: number, digits = 2): string => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const group = (value: number): string => value.toLocaleString('en-US');
const verdict = (met: boolean): string => (met ? '**met**' : '**MISSED**');

function benchFacts(): Record<string, string> {
  const version = execFileSync(PROCESS_EXPORTER, ['-version'], { encoding: 'utf8' });
  return {
    ...machineFacts(),
    'process-exporter': version.match(/revision: ([^)\s]+)/)?.[1] ?? '?',
    CLK_TCK: `${CLK_TCK} (exporter CPU resolution ${1000 / CLK_TCK} ms per series of K scrapes)`,
  };
}

function roundTable(round: Round, options: Options): string[] {
  const out = [
    '',
    `### ${group(round.processes)} extra processes (${group(round.pids)} in /proc)`,
    '',
    '| exporter | median ms | p95 ms | CPU ms/scrape | RSS MiB | samples | bytes | start-up ms | quiet before (cores) | other jobs cores |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of round.series) {
    const exporter = round.exporters.find((e) => e.name === s.exporter);
    out.push(
      `| ${s.exporter} | ${fixed(s.medianMs)} | ${fixed(s.p95Ms)} | ${fixed(s.cpuMsPerScrape)} | ${fixed(s.rssBytes / MIB, 1)} | ${group(s.samples)} | ${group(s.bytes)} | ${fixed(exporter?.startupMs ?? Number.NaN, 0)} | ${s.quiet.quiet ? 'yes' : 'NO'} (${fixed(s.quiet.busyCores)}) | ${fixed(s.otherCores)} |`,
    );
  }
  const { floor, healthz } = round;
  out.push(
    `| floor (sync stat+status+io+fd of every pid) | ${fixed(floor.wallMs)} | – | ${fixed(floor.cpuMs)} | – | – | – | – | – | – |`,
    '',
    `hostmeter partitions collector (its own duration series, median): ${fixed(round.series.find((s) => s.exporter === 'hostmeter')?.collectorMs ?? Number.NaN)} ms. ` +
      `/healthz every ${options.healthzIntervalMs} ms during ${options.scrapes} scrapes (scrape median ${fixed(healthz.scrapeMedianMs)} ms): ` +
      `${group(healthz.probes)} probes, median ${fixed(healthz.medianMs)} ms, p99 ${fixed(healthz.p99Ms)} ms, max ${fixed(healthz.maxMs)} ms. ` +
      `Floor p95 CPU ${fixed(floor.p95CpuMs)} ms. pidusage vs /proc/PID/stat CPU ms/scrape: ${round.series.map((s) => `${s.exporter} ${fixed(s.cpuMsPerScrape)}=${fixed(s.procStatCpuMsPerScrape)}`).join(', ')}.`,
  );
  return out;
}

function ratioTable(rounds: readonly Round[]): string[] {
  const largest = Math.max(...rounds.map((round) => round.processes));
  const out = [
    '',
    '## Ratios',
    '',
    `Targets apply at ${group(largest)} processes: CPU/scrape ≤ ${TARGET_VS_PROCESS_EXPORTER}× process-exporter's and ≤ ${TARGET_VS_FLOOR}× the floor; /healthz < ${TARGET_HEALTHZ_MS} ms while a scrape runs (every N).`,
    '',
    '| extra processes | hostmeter / process-exporter CPU | hostmeter / lean process-exporter CPU | hostmeter / floor CPU | hostmeter / process-exporter median latency | hostmeter / process-exporter RSS | /healthz p99 / max ms |',
    '|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const round of rounds) {
    const find = (name: ExporterName): Series | undefined => round.series.find((s) => s.exporter === name);
    const hm = find('hostmeter');
    const pe = find('process-exporter');
    const lean = find('process-exporter lean');
    if (hm === undefined || pe === undefined || lean === undefined) continue;
    const atTarget = round.processes === largest;
    const vsPe = hm.cpuMsPerScrape / pe.cpuMsPerScrape;
    const vsFloor = hm.cpuMsPerScrape / round.floor.cpuMs;
    const healthzOk = round.healthz.maxMs < TARGET_HEALTHZ_MS;
    const mark = (text: string, met: boolean, applies: boolean): string =>
      applies ? `${text} ${verdict(met)}` : text;
    out.push(
      `| ${group(round.processes)} | ${mark(`${fixed(vsPe, 3)}×`, vsPe <= TARGET_VS_PROCESS_EXPORTER, atTarget)} | ${fixed(hm.cpuMsPerScrape / lean.cpuMsPerScrape, 3)}× | ${mark(`${fixed(vsFloor)}×`, vsFloor <= TARGET_VS_FLOOR, atTarget)} | ${fixed(hm.medianMs / pe.medianMs, 3)}× | ${fixed(hm.rssBytes / pe.rssBytes)}× | ${mark(`${fixed(round.healthz.p99Ms)} / ${fixed(round.healthz.maxMs)}`, healthzOk, true)} |`,
    );
  }
  return out;
}

function profileTable(entries: readonly SelfTime[], scrapes: number): string[] {
  const total = entries.reduce((sum, entry) => sum + entry.ms, 0);
  const out = [
    '',
    `## hostmeter CPU profile (--cpu-prof, ${scrapes} scrapes after warm-up, idle excluded: ${fixed(total / scrapes)} ms per scrape)`,
    '',
    '| self ms/scrape | share | function | where |',
    '|---:|---:|---|---|',
  ];
  for (const entry of entries.slice(0, 20)) {
    const where = entry.location.replace(`${REPO}/`, '');
    out.push(
      `| ${fixed(entry.ms / scrapes, 3)} | ${fixed((100 * entry.ms) / total, 1)}% | ${entry.functionName} | ${where} |`,
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------

function parseOptions(): Options & { readonly profile: boolean; readonly skipBuild: boolean } {
  const { values } = parseArgs({
    options: {
      processes: { type: 'string' },
      scrapes: { type: 'string' },
      warmup: { type: 'string' },
      'floor-passes': { type: 'string' },
      'quiet-timeout': { type: 'string' },
      'healthz-interval': { type: 'string' },
      profile: { type: 'boolean' },
      'profile-scrapes': { type: 'string' },
      'skip-build': { type: 'boolean' },
    },
  });
  const counts = (values.processes ?? '0,1000,5000')
    .split(',')
    .map((text) => wholeNumber(text.trim(), 0, 'processes'));
  const scrapes = Math.max(1, wholeNumber(values.scrapes, 20, 'scrapes'));
  return {
    counts,
    scrapes,
    warmup: wholeNumber(values.warmup, 3, 'warmup'),
    floorPasses: Math.max(1, wholeNumber(values['floor-passes'], scrapes, 'floor-passes')),
    quietTimeoutMs: wholeNumber(values['quiet-timeout'], 60, 'quiet-timeout') * 1000,
    healthzIntervalMs: Math.max(1, wholeNumber(values['healthz-interval'], 10, 'healthz-interval')),
    profile: values.profile === true,
    profileScrapes: Math.max(1, wholeNumber(values['profile-scrapes'], 50, 'profile-scrapes')),
    skipBuild: values['skip-build'] === true,
  };
}

async function main(): Promise<void> {
  const options = parseOptions();
  if (process.getuid?.() !== 0) throw new Error('run as root: it adds users and starts processes as them');
  // hostmeter runs from dist/; a stale build would measure old code.
  if (!options.skipBuild) execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: ['ignore', 2, 2] });

  const facts = benchFacts();
  const loadBefore = os.loadavg();
  const accounts = ensureUsers();
  const logDir = mkdtempSync(join(os.tmpdir(), 'hostmeter-bench-processes-'));
  const configFile = join(logDir, 'process-exporter.yml');
  writeFileSync(configFile, PROCESS_EXPORTER_CONFIG);
  const plans = exporterPlans(configFile);
  const started: Started[] = [];
  // finally blocks do not run on a signal or on process.exit: kill everything synchronously then.
  const killAll = (): void => {
    for (const { child } of started) child.kill('SIGKILL');
    killWorkloadNow();
  };
  const interrupted = (signal: NodeJS.Signals): void => {
    killAll();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', killAll);
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  let keepLogs = true;
  try {
    const rounds: Round[] = [];
    for (const count of options.counts) {
      rounds.push(await measureRound(count, accounts, plans, options, logDir, started));
    }
    const profile = options.profile
      ? await profileHostmeter(Math.max(...options.counts), accounts, configFile, options, logDir, started)
      : undefined;

    const out = [
      '# Process accounting benchmark',
      '',
      `Command: \`npx node bench/processes.ts ${process.argv.slice(2).join(' ')}\`; K = ${options.scrapes} scrapes after ${options.warmup} warm-up, floor median of ${options.floorPasses} passes, ${USERS} users.`,
      '',
      '| fact | value |',
      '|---|---|',
      ...Object.entries(facts).map(([key, value]) => `| ${key} | ${value} |`),
      `| load average before | ${loadBefore.map((load) => load.toFixed(2)).join(' / ')} |`,
      `| hostmeter flags | serve ${plans[0]?.args(0).slice(3).join(' ')} |`,
    ];
    for (const round of rounds) out.push(...roundTable(round, options));
    out.push(...ratioTable(rounds));
    if (profile !== undefined) out.push(...profileTable(profile, options.profileScrapes));
    console.log(out.join('\n'));
    keepLogs = false;
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await stopExporters(started);
    await stopWorkload();
    process.off('exit', killAll);
    pidusage.clear();
    if (keepLogs) console.error(`exporter logs kept in ${logDir}`);
    else rmSync(logDir, { recursive: true, force: true });
  }
}

await main();

// Report benchmark: a synthetic fleet of C computers × P partitions for one day, backfilled into a real
// Prometheus with promtool, then one full `hostmeter report` run against it, timed, with its peak RSS.
// It prints figures, never fails on them: the target is printed next to the result.
//
//   npx node bench/report.ts [--computers=1000] [--partitions=100] [--interval=3600] [--keep]
//                            [--max-samples=N] [--query-computers=N] [--no-gzip] [--cpu-prof]
//
// --interval is the scrape interval of the synthetic samples, in seconds. The report's work (and the
// backfill's) grows with the number of samples, so the default is the coarsest interval that keeps a
// 1,000 × 100 fleet feasible on a 2-core box; docs/benchmarks.md gives the figures per interval.

import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  cpuProfileSelfTimes,
  freePort,
  type Started,
  startProcess,
  stopProcess,
  waitUntilAnswers,
  wholeNumber,
} from './lib.ts';

const REPO = resolve(import.meta.dirname, '..');
const MIB = 1024 * 1024;
const TARGET_SECONDS = 60;
const DAY = '2026-01-14';
const DAY_START = Date.UTC(2026, 0, 14) / 1000;
const DAY_SECONDS = 86_400;
/** Samples start an hour before midnight, so every series has its baseline sample before the window. */
const DATA_FROM = DAY_START - 3600;
/** ... and end at the next midnight, the window's closed end. */
const DATA_TO = DAY_START + DAY_SECONDS;
const HOST_CPU_MODES = ['user', 'system', 'idle', 'iowait'] as const;
const CPUS = 2;
const PARTITION_CPU_MODES = ['user', 'system'] as const;
/** The report's series per computer (host CPU, memory limit, available) and per partition. */
const SERIES_PER_COMPUTER = CPUS * HOST_CPU_MODES.length + 2;
const SERIES_PER_PARTITION = PARTITION_CPU_MODES.length + 3;

interface Fleet {
  readonly computers: number;
  readonly partitions: number;
  readonly interval: number;
}

const instanceOf = (c: number): string => `comp-${String(c).padStart(5, '0')}`;
const partitionOf = (p: number): string => `slappart${p}`;

/** Scrape times of computer c: every `interval` seconds, each computer at its own phase. */
function sampleTimes(fleet: Fleet, c: number): number[] {
  const phase = c % Math.min(fleet.interval, 60);
  const times: number[] = [];
  for (let t = DATA_FROM + phase; t <= DATA_TO; t += fleet.interval) times.push(t);
  return times;
}

const seriesPerComputer = (fleet: Fleet): number =>
  SERIES_PER_COMPUTER + fleet.partitions * SERIES_PER_PARTITION;
/** Exact sample count, before writing anything. */
function sampleCount(fleet: Fleet): number {
  let total = 0;
  for (let c = 0; c < fleet.computers; c++) total += sampleTimes(fleet, c).length * seriesPerComputer(fleet);
  return total;
}

interface Family {
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  /** Each series of the family: its labels and its value at time t (Unix seconds). */
  readonly series: (fleet: Fleet, c: number) => Iterable<[labels: string, value: (t: number) => number]>;
}

const GIB = 2 ** 30;

// Counters grow linearly from a base at DATA_FROM; gauges change value a few times a day. The values only
// have to look like a real fleet's (integers of realistic magnitude, a few distinct values per series).
const FAMILIES: readonly Family[] = [
  {
    name: 'system_cpu_time_seconds',
    type: 'counter',
    *series(_fleet, c) {
      const instance = instanceOf(c);
      for (let cpu = 0; cpu < CPUS; cpu++)
        for (const [m, mode] of HOST_CPU_MODES.entries()) {
          const rate = [0.3, 0.1, 0.55, 0.05][m] as number;
          const base = 1_000_000 * (cpu + 1) + c;
          yield [
            `instance="${instance}",cpu_logical_number="${cpu}",cpu_mode="${mode}"`,
            (t) => Math.round((base + rate * (t - DATA_FROM)) * 100) / 100,
          ];
        }
    },
  },
  {
    name: 'system_memory_limit_bytes',
    type: 'gauge',
    *series(_fleet, c) {
      yield [`instance="${instanceOf(c)}"`, () => 16 * GIB];
    },
  },
  {
    name: 'system_memory_linux_available_bytes',
    type: 'gauge',
    *series(_fleet, c) {
      yield [`instance="${instanceOf(c)}"`, (t) => (8 + (Math.floor((t - DAY_START) / 21_600) & 3)) * GIB];
    },
  },
  {
    name: 'hostmeter_partition_cpu_time_seconds',
    type: 'counter',
    *series(fleet, c) {
      for (let p = 0; p < fleet.partitions; p++)
        for (const [m, mode] of PARTITION_CPU_MODES.entries()) {
          const rate = ((p % 7) + 1) / (m === 0 ? 100 : 400);
          yield [
            `instance="${instanceOf(c)}",partition="${partitionOf(p)}",cpu_mode="${mode}"`,
            (t) => Math.round((1000 * p + rate * (t - DATA_FROM)) * 100) / 100,
          ];
        }
    },
  },
  {
    name: 'hostmeter_partition_processes',
    type: 'gauge',
    *series(fleet, c) {
      for (let p = 0; p < fleet.partitions; p++)
        yield [
          `instance="${instanceOf(c)}",partition="${partitionOf(p)}"`,
          (t) => (p % 5) + (Math.floor((t - DAY_START) / 43_200) & 1),
        ];
    },
  },
  {
    name: 'hostmeter_partition_memory_usage_bytes',
    type: 'gauge',
    *series(fleet, c) {
      for (let p = 0; p < fleet.partitions; p++)
        yield [
          `instance="${instanceOf(c)}",partition="${partitionOf(p)}"`,
          (t) => ((p % 13) + 1 + (Math.floor((t - DAY_START) / 14_400) & 3)) * 64 * MIB,
        ];
    },
  },
  {
    name: 'hostmeter_partition_disk_usage_bytes',
    type: 'gauge',
    *series(fleet, c) {
      for (let p = 0; p < fleet.partitions; p++)
        yield [
          `instance="${instanceOf(c)}",partition="${partitionOf(p)}"`,
          (t) => ((p % 17) + 1) * GIB + (Math.floor((t - DAY_START) / 28_800) & 3) * 256 * MIB,
        ];
    },
  },
];

/**
 * Writes the fleet as OpenMetrics text to `file`, family by family and series by series (OpenMetrics wants
 * each series' samples together and in time order, and each family once), in 1 MiB writes: the whole
 * text is never in memory. Returns the number of samples and bytes written.
 */
function writeOpenMetrics(fleet: Fleet, file: string): { samples: number; bytes: number } {
  const fd = openSync(file, 'w');
  let buffer = '';
  let bytes = 0;
  let samples = 0;
  const flush = (): void => {
    bytes += writeSync(fd, buffer);
    buffer = '';
  };
  try {
    for (const family of FAMILIES) {
      buffer += `# TYPE ${family.name} ${family.type}\n`;
      const sampleName = family.type === 'counter' ? `${family.name}_total` : family.name;
      for (let c = 0; c < fleet.computers; c++) {
        const times = sampleTimes(fleet, c);
        for (const [labels, value] of family.series(fleet, c)) {
          const prefix = `${sampleName}{${labels}} `;
          for (const t of times) buffer += `${prefix}${value(t)} ${t}\n`;
          samples += times.length;
          if (buffer.length >= MIB) flush();
        }
      }
    }
    buffer += '# EOF\n';
    flush();
  } finally {
    closeSync(fd);
  }
  return { samples, bytes };
}

/** Runs a command to completion, stdout and stderr in `logFile`; throws on a non-zero exit. */
async function run(name: string, command: string, args: readonly string[], logDir: string): Promise<Started> {
  const started = startProcess(name, command, args, logDir);
  const code = await new Promise<number | null>((done) => started.child.once('exit', (exit) => done(exit)));
  if (code !== 0)
    throw new Error(`${name} exited with ${code}:\n${readFileSync(started.logFile, 'utf8').slice(-3000)}`);
  return started;
}

/** A field of /proc/PID/status in MiB (VmRSS, VmHWM), or NaN once the process is gone. */
function statusMiB(pid: number, field: string): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** `/usr/bin/time -v` figures from the end of a log. */
function timeFigures(log: string): {
  wallSeconds: number;
  peakMiB: number;
  userSeconds: number;
  sysSeconds: number;
} {
  const field = (label: string): string => new RegExp(`${label}: (.+)`).exec(log)?.[1]?.trim() ?? 'NaN';
  const wall = field('Elapsed \\(wall clock\\) time \\(h:mm:ss or m:ss\\)')
    .split(':')
    .reduce((sum, part) => sum * 60 + Number(part), 0);
  return {
    wallSeconds: wall,
    peakMiB: Number(field('Maximum resident set size \\(kbytes\\)')) / 1024,
    userSeconds: Number(field('User time \\(seconds\\)')),
    sysSeconds: Number(field('System time \\(seconds\\)')),
  };
}

interface QueryTiming {
  readonly query: string;
  readonly seconds: number;
  readonly bytes: number;
}

/**
 * The report's queries again, for the whole fleet at once, each answer read to the end and thrown away: the
 * time Prometheus takes to answer and send the data, without hostmeter's parsing. Same selectors, ranges
 * and times as src/report/run.ts, without its shards' label matchers.
 */
async function replayQueries(url: string, maxGapSeconds: number): Promise<QueryTiming[]> {
  const selectors: readonly [string, boolean][] = [
    ['system_cpu_time_seconds_total', true],
    ['system_memory_limit_bytes', false],
    ['system_memory_linux_available_bytes', false],
    ['hostmeter_partition_cpu_time_seconds_total', true],
    ['hostmeter_partition_processes', false],
    ['hostmeter_partition_memory_usage_bytes', false],
    ['hostmeter_partition_disk_usage_bytes', false],
  ];
  const from = DAY_START;
  const to = DAY_START + DAY_SECONDS;
  const timings: QueryTiming[] = [];
  for (const [selector, counter] of selectors) {
    const queries: [string, number][] = [[`${selector}[${maxGapSeconds}s]`, from]];
    if (counter) queries.push([`last_over_time(${selector}[86400s])`, from]);
    queries.push([`${selector}[${DAY_SECONDS}s]`, to]);
    for (const [query, time] of queries) {
      const begin = performance.now();
      const response = await fetch(`${url}/api/v1/query`, {
        method: 'POST',
        body: new URLSearchParams({ query, time: time.toFixed(3) }),
      });
      let bytes = 0;
      for await (const chunk of response.body ?? []) bytes += (chunk as Uint8Array).length;
      if (!response.ok) throw new Error(`${query}: HTTP ${response.status}`);
      timings.push({ query, seconds: (performance.now() - begin) / 1000, bytes });
    }
  }
  return timings;
}

function countXml(dir: string): number {
  let count = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile() && entry.name.endsWith('.xml')) count++;
  return count;
}

/** The report's JSON log: when the first and the last computer were written (the first shard's queries come before). */
function writeTimes(log: string): { first: number; last: number } | undefined {
  const stamps = log
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"report written"'))
    .map((line) => Date.parse((JSON.parse(line) as { ts: string }).ts));
  if (stamps.length === 0) return undefined;
  return { first: stamps[0] as number, last: stamps.at(-1) as number };
}

const fmt = (value: number, digits = 1): string =>
  Number.isFinite(value) ? value.toLocaleString('en-US', { maximumFractionDigits: digits }) : 'n/a';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      computers: { type: 'string' },
      partitions: { type: 'string' },
      interval: { type: 'string' },
      'max-samples': { type: 'string' },
      'query-computers': { type: 'string' },
      'no-gzip': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
    },
  });
  const fleet: Fleet = {
    computers: wholeNumber(values.computers, 1000, 'computers'),
    partitions: wholeNumber(values.partitions, 100, 'partitions'),
    interval: wholeNumber(values.interval, 3600, 'interval'),
  };
  if (fleet.computers === 0 || fleet.interval === 0)
    throw new Error('--computers and --interval must be > 0');
  const maxSamples = wholeNumber(values['max-samples'], 50_000_000, 'max-samples');
  const series = fleet.computers * seriesPerComputer(fleet);
  const perSeries = sampleTimes(fleet, 0).length;
  const estimate = sampleCount(fleet);
  // Prometheus counts the samples a query loads at once: the largest range selection is the partition CPU
  // counter's whole day, and --query.max-samples must allow it.
  const largestQuery = fleet.computers * fleet.partitions * PARTITION_CPU_MODES.length * perSeries;
  console.log(
    `fleet: ${fleet.computers} computers × ${fleet.partitions} partitions, one sample every ${fleet.interval} s`,
  );
  console.log(
    `       ${fmt(series, 0)} series × ≤ ${perSeries} samples = ${fmt(estimate, 0)} samples ` +
      `(largest query loads ${fmt(largestQuery, 0)}; --query.max-samples=${fmt(maxSamples, 0)})`,
  );
  if (largestQuery > maxSamples) console.log('warning: the largest query exceeds --max-samples; raise it');

  const dir = mkdtempSync(join(os.tmpdir(), 'hm-bench-report-'));
  const openMetricsFile = join(dir, 'samples.om');
  const tsdb = join(dir, 'data');
  const outputDir = join(dir, 'reports');
  let prometheus: Started | undefined;
  try {
    if (!existsSync(join(REPO, 'dist', 'cli.js')))
      spawnSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'inherit' });

    let begin = performance.now();
    const written = writeOpenMetrics(fleet, openMetricsFile);
    const generationSeconds = (performance.now() - begin) / 1000;
    console.log(
      `generated ${fmt(written.samples, 0)} samples, ${fmt(written.bytes / MIB, 0)} MiB, in ${fmt(generationSeconds)} s`,
    );

    begin = performance.now();
    const promtool = await run(
      'promtool',
      '/usr/bin/time',
      [
        '-v',
        'promtool',
        'tsdb',
        'create-blocks-from',
        'openmetrics',
        '--quiet',
        '--max-block-duration=64h',
        openMetricsFile,
        tsdb,
      ],
      dir,
    );
    const backfillSeconds = (performance.now() - begin) / 1000;
    const promtoolPeakMiB = timeFigures(readFileSync(promtool.logFile, 'utf8')).peakMiB;
    const tsdbMiB = Number(spawnSync('du', ['-sk', tsdb], { encoding: 'utf8' }).stdout.split('\t')[0]) / 1024;
    console.log(
      `backfilled in ${fmt(backfillSeconds)} s (promtool peak RSS ${fmt(promtoolPeakMiB, 0)} MiB, TSDB ${fmt(tsdbMiB, 0)} MiB)`,
    );
    if (!values.keep) rmSync(openMetricsFile);

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const config = join(dir, 'prometheus.yml');
    writeFileSync(config, 'global:\n  scrape_interval: 1m\n');
    begin = performance.now();
    prometheus = startProcess(
      'prometheus',
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${tsdb}`,
        `--web.listen-address=127.0.0.1:${port}`,
        // The samples are in the past: the default 15 days of retention would delete them on load.
        '--storage.tsdb.retention.time=100y',
        `--query.max-samples=${maxSamples}`,
      ],
      dir,
    );
    // Prometheus opens its port before the TSDB is loaded: /-/ready is the signal.
    await waitUntilAnswers(prometheus, `${url}/-/ready`, 300_000);
    console.log(
      `Prometheus ready in ${fmt((performance.now() - begin) / 1000)} s, RSS ${fmt(statusMiB(prometheus.pid, 'VmRSS'), 0)} MiB`,
    );

    const maxGapSeconds = 2 * fleet.interval;
    const profileDir = join(dir, 'cpu-prof');
    const report = startProcess(
      'report',
      '/usr/bin/time',
      [
        '-v',
        process.execPath,
        ...(values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
        join(REPO, 'bin', 'hostmeter.js'),
        'report',
        `--prometheus.url=${url}`,
        `--output.dir=${outputDir}`,
        `--date=${DAY}`,
        '--prometheus.timeout=600s',
        `--max-gap=${maxGapSeconds}s`,
        ...(values['query-computers'] ? [`--query.computers=${values['query-computers']}`] : []),
        ...(values['no-gzip'] ? ['--no-prometheus.gzip'] : []),
      ],
      dir,
    );
    const reportStart = Date.now();
    const exitCode = await new Promise<number | null>((done) =>
      report.child.once('exit', (code) => done(code)),
    );
    const reportLog = readFileSync(report.logFile, 'utf8');
    const figures = timeFigures(reportLog);
    const prometheusPeakMiB = statusMiB(prometheus.pid, 'VmHWM');
    const files = existsSync(outputDir) ? countXml(outputDir) : 0;
    console.log(
      `report exited ${exitCode} after ${fmt(figures.wallSeconds, 2)} s (user ${fmt(figures.userSeconds)} s, ` +
        `sys ${fmt(figures.sysSeconds)} s), peak RSS ${fmt(figures.peakMiB, 0)} MiB, ${files} files; ` +
        `Prometheus peak RSS ${fmt(prometheusPeakMiB, 0)} MiB`,
    );
    if (exitCode !== 0) console.log(reportLog.split('\n').slice(-30).join('\n'));
    const stamps = writeTimes(reportLog);
    if (stamps)
      console.log(
        `  first shard's queries and parsing (start → first report written): ${fmt((stamps.first - reportStart) / 1000, 2)} s; ` +
          `computing and writing all reports: ${fmt((stamps.last - stamps.first) / 1000, 2)} s`,
      );

    const timings = await replayQueries(url, maxGapSeconds);
    const total = timings.reduce((sum, one) => sum + one.seconds, 0);
    console.log(
      `\nThe same ${timings.length} queries for the whole fleet, answers read and discarded (Prometheus alone):\n`,
    );
    console.log('| query | s | MiB |\n|---|---:|---:|');
    for (const one of timings)
      console.log(`| \`${one.query}\` | ${fmt(one.seconds, 2)} | ${fmt(one.bytes / MIB)} |`);
    console.log(
      `| all | ${fmt(total, 2)} | ${fmt(timings.reduce((sum, one) => sum + one.bytes, 0) / MIB)} |`,
    );

    if (values['cpu-prof']) {
      const profile = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
      if (profile) {
        console.log('\nReport CPU profile, largest self times:\n');
        for (const one of cpuProfileSelfTimes(join(profileDir, profile)).slice(0, 15))
          console.log(`  ${fmt(one.ms, 0).padStart(8)} ms  ${one.functionName}  ${one.location}`);
      }
    }

    const met = figures.wallSeconds <= TARGET_SECONDS && files === fleet.computers;
    console.log(
      '\n| computers | partitions | interval s | series | samples | generation s | backfill s | report wall s | report peak RSS MiB | Prometheus peak RSS MiB | files |',
    );
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    console.log(
      `| ${fmt(fleet.computers, 0)} | ${fleet.partitions} | ${fleet.interval} | ${fmt(series, 0)} | ` +
        `${fmt(written.samples, 0)} | ${fmt(generationSeconds)} | ${fmt(backfillSeconds)} | ` +
        `${fmt(figures.wallSeconds, 2)} | ${fmt(figures.peakMiB, 0)} | ${fmt(prometheusPeakMiB, 0)} | ${files} |`,
    );
    console.log(
      `\ntarget: report ≤ ${TARGET_SECONDS} s with one file per computer: ${met ? 'met' : 'NOT met'}`,
    );
  } finally {
    if (prometheus) await stopProcess(prometheus, 10_000);
    if (values.keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();

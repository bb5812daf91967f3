// Scrape benchmark: hostmeter and node_exporter side by side on this machine, plus the physical floor
// (bench/floor.ts). It prints figures, never fails on them: targets are printed next to the ratios.
//
//   npx node bench/scrape.ts [--scrapes=50] [--warmup=5] [--floor-passes=K] [--quiet-timeout=60]
//
// Each exporter gets W warm-up scrapes, then K sequential scrapes per variant: "plain" is what curl
// sends (Accept: */*, no compression) and "prometheus" is the Accept and Accept-Encoding headers of a
// Prometheus 2.x scrape. CPU per scrape is the exporter's utime+stime delta over the K scrapes / K.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pidusage from 'pidusage';
import { type FloorResult, floorPlan, measureFloor } from './floor.ts';
import {
  boxJiffies,
  busyCores,
  CLK_TCK,
  countSamples,
  freePort,
  machineFacts,
  measureScrapes,
  median,
  percentile,
  type QuietResult,
  type Started,
  startProcess,
  stopProcess,
  waitQuiet,
  waitUntilAnswers,
  wholeNumber,
} from './lib.ts';

const REPO = resolve(import.meta.dirname, '..');
const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';
const MIB = 1024 * 1024;
const QUIET_CORES = 0.3;
const QUIET_WINDOW_MS = 2000;
const TARGET_CPU_RATIO = 1.5;
const TARGET_RSS_MIB = 80;

/** What Prometheus 2.x sends with every scrape (scrape/scrape.go, acceptHeader). */
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,' +
  'text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

interface Variant {
  readonly name: 'plain' | 'prometheus';
  readonly label: string;
  readonly headers: Readonly<Record<string, string>>;
}

const VARIANTS: readonly Variant[] = [
  // fetch would add `accept-encoding: gzip, deflate` on its own; identity is what curl's silence means.
  { name: 'plain', label: 'Accept */*, identity', headers: { 'accept-encoding': 'identity' } },
  {
    name: 'prometheus',
    label: 'Prometheus Accept, gzip',
    headers: { accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'gzip' },
  },
];

interface Exporter {
  readonly name: 'hostmeter' | 'node_exporter';
  readonly started: Started;
  readonly url: string;
  readonly startupMs: number;
  /** Prefix of the exporter's own per-collector duration series. */
  readonly durationSeries: string;
}

interface Series {
  readonly exporter: Exporter['name'];
  readonly variant: Variant;
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly cpuMsPerScrape: number;
  /** The same delta read from /proc/PID/stat directly, to cross-check pidusage. */
  readonly procStatCpuMsPerScrape: number;
  readonly rssBytes: number;
  /** Bytes on the wire (compressed when the exporter compressed). */
  readonly bytes: number;
  readonly samples: number;
  readonly contentType: string;
  readonly contentEncoding: string;
  readonly boxCores: number;
  /** Box load minus the exporter and this script: other jobs that disturbed the measurement. */
  readonly otherCores: number;
  readonly quiet: QuietResult;
  /** Median seconds per collector from the exporter's own duration series, over the K scrapes. */
  readonly collectorSeconds: ReadonlyMap<string, number>;
}

function collectorDurations(body: string, series: string, into: Map<string, number[]>): void {
  const pattern = new RegExp(`^${series}\\{collector="([^"]+)"\\} (\\S+)$`, 'gm');
  for (const [, collector = '', value] of body.matchAll(pattern)) {
    const list = into.get(collector) ?? [];
    list.push(Number(value));
    into.set(collector, list);
  }
}

/** Size of the response as sent; fetch decompresses transparently, so this one request goes through node:http. */
function wireBytes(url: string, headers: Readonly<Record<string, string>>): Promise<number> {
  return new Promise((resolveBytes, reject) => {
    request(url, { headers }, (response) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      response.on('end', () => resolveBytes(bytes));
      response.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

async function measureSeries(
  exporter: Exporter,
  variant: Variant,
  warmup: number,
  scrapes: number,
  quietTimeoutMs: number,
): Promise<Series> {
  const scrape = async (): Promise<{ ms: number; response: Response; body: string }> => {
    const begin = performance.now();
    const response = await fetch(exporter.url, { headers: variant.headers });
    const body = await response.text();
    const ms = performance.now() - begin;
    if (!response.ok) throw new Error(`${exporter.name} answered ${response.status}`);
    return { ms, response, body };
  };
  const quiet = await waitQuiet(QUIET_CORES, QUIET_WINDOW_MS, quietTimeoutMs);
  for (let i = 0; i < warmup; i++) await scrape();

  const durations = new Map<string, number[]>();
  const cost = await measureScrapes(exporter.started.pid, scrapes, scrape, (result) =>
    collectorDurations(result.body, exporter.durationSeries, durations),
  );
  const { last } = cost;
  const encoding = last.response.headers.get('content-encoding') ?? 'identity';
  return {
    exporter: exporter.name,
    variant,
    medianMs: median(cost.latencies),
    p95Ms: percentile(cost.latencies, 95),
    cpuMsPerScrape: cost.cpuMsPerScrape,
    procStatCpuMsPerScrape: cost.procStatCpuMsPerScrape,
    rssBytes: cost.rssBytes,
    bytes:
      encoding === 'identity' ? Buffer.byteLength(last.body) : await wireBytes(exporter.url, variant.headers),
    samples: countSamples(last.body),
    contentType: last.response.headers.get('content-type') ?? '',
    contentEncoding: encoding,
    boxCores: cost.boxCores,
    otherCores: cost.otherCores,
    quiet,
    collectorSeconds: new Map([...durations].map(([name, values]) => [name, median(values)])),
  };
}

async function startExporter(
  name: Exporter['name'],
  command: string,
  args: readonly string[],
  logDir: string,
  started: Started[],
): Promise<Exporter> {
  const port = await freePort();
  const child = startProcess(name, command, [...args, `--web.listen-address=127.0.0.1:${port}`], logDir);
  started.push(child);
  const url = `http://127.0.0.1:${port}/metrics`;
  const startupMs = await waitUntilAnswers(child, url);
  const durationSeries =
    name === 'hostmeter'
      ? 'hostmeter_scrape_collector_duration_seconds'
      : 'node_scrape_collector_duration_seconds';
  return { name, started: child, url, startupMs, durationSeries };
}

/** Collectors hostmeter ran in one scrape, with whether each succeeded. */
async function hostmeterCollectors(url: string): Promise<Map<string, boolean>> {
  const body = await (await fetch(url, { headers: { 'accept-encoding': 'identity' } })).text();
  const pattern = /^hostmeter_scrape_collector_success\{collector="([^"]+)"\} (\S+)$/gm;
  return new Map([...body.matchAll(pattern)].map(([, name = '', ok]) => [name, ok === '1']));
}

const tcpSockets = (): number =>
  ['tcp', 'tcp6']
    .map((file) => readFileSync(`/proc/net/${file}`, 'latin1').split('\n').length - 2)
    .reduce((sum, count) => sum + count, 0);

function benchFacts(): Record<string, string> {
  const exporterVersion = execFileSync(NODE_EXPORTER, ['--version'], { encoding: 'utf8' });
  const line = (prefix: RegExp): string => exporterVersion.match(prefix)?.[1]?.trim() ?? '?';
  return {
    ...machineFacts(),
    node_exporter: `${line(/version (\S+ \(branch[^)]*\))/)}, ${line(/go version:\s*(\S+)/)}`,
    CLK_TCK: `${CLK_TCK} (exporter CPU resolution ${1000 / CLK_TCK} ms per run of K scrapes)`,
    // hostmeter's sockets collector reads these tables every scrape, so their size drives its cost.
    'TCP sockets (lines of /proc/net/tcp + tcp6)': String(tcpSockets()),
  };
}

const fixed = (value: number, digits = 2): string => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const group = (value: number): string => value.toLocaleString('en-US');

function printReport(
  facts: Record<string, string>,
  loadBefore: readonly number[],
  runCores: number,
  exporters: readonly Exporter[],
  collectors: ReadonlyMap<string, boolean>,
  series: readonly Series[],
  floor: FloorResult,
  floorCollectors: readonly string[],
  options: { scrapes: number; warmup: number; floorPasses: number },
): void {
  const out: string[] = [];
  out.push('## Machine', '', '| fact | value |', '|---|---|');
  for (const [key, value] of Object.entries(facts)) out.push(`| ${key} | ${value} |`);
  out.push(`| load average before the run | ${loadBefore.map((v) => v.toFixed(2)).join(' ')} |`);
  out.push(`| busy cores during the run (/proc/stat) | ${fixed(runCores)} |`);
  for (const exporter of exporters) {
    out.push(`| ${exporter.name} first answer after spawn | ${fixed(exporter.startupMs, 0)} ms |`);
  }
  const failed = [...collectors].filter(([, ok]) => !ok).map(([name]) => name);
  out.push(
    `| hostmeter collectors | ${[...collectors.keys()].join(', ')}${failed.length > 0 ? ` (failed: ${failed.join(', ')})` : ''} |`,
  );
  const notQuiet = series.filter((s) => !s.quiet.quiet);
  out.push(
    `| quiet before each series (< ${QUIET_CORES} busy cores over ${QUIET_WINDOW_MS / 1000} s) | ${
      notQuiet.length === 0
        ? 'yes'
        : `NO for ${notQuiet.map((s) => `${s.exporter}/${s.variant.name} (${fixed(s.quiet.busyCores)} cores after ${fixed(s.quiet.waitedMs / 1000, 0)} s)`).join(', ')}`
    } |`,
  );

  out.push(
    '',
    `## Scrapes (K=${options.scrapes} sequential after W=${options.warmup} warm-up; floor: median of ${options.floorPasses} passes)`,
    '',
    '| row | request | median ms | p95 ms | CPU ms/scrape | RSS MiB | bytes | samples | box busy cores | other jobs cores |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const s of series) {
    out.push(
      `| ${s.exporter} | ${s.variant.label} → ${s.contentType.split(';')[0]}, ${s.contentEncoding} | ${fixed(s.medianMs)} | ${fixed(s.p95Ms)} | ${fixed(s.cpuMsPerScrape)} | ${fixed(s.rssBytes / MIB, 1)} | ${group(s.bytes)} | ${group(s.samples)} | ${fixed(s.boxCores)} | ${fixed(s.otherCores)} |`,
    );
  }
  out.push(
    `| physical floor (${floor.calls} calls, ${floor.statfs} statfs, ${floor.failed} absent) | in-process sync pass | ${fixed(floor.wallMs, 3)} | ${fixed(floor.p95WallMs, 3)} | ${fixed(floor.cpuMs, 3)} | – | – | – | – | – |`,
  );
  out.push(
    '',
    `Floor collectors: ${floorCollectors.join(', ')}. pidusage vs /proc/PID/stat CPU ms/scrape: ${series.map((s) => `${s.exporter}/${s.variant.name} ${fixed(s.cpuMsPerScrape)}=${fixed(s.procStatCpuMsPerScrape)}`).join(', ')}.`,
  );

  const find = (exporter: Exporter['name'], variant: Variant['name']): Series | undefined =>
    series.find((s) => s.exporter === exporter && s.variant.name === variant);
  out.push('', '## Ratios', '', '| ratio | value | target |', '|---|---:|---|');
  for (const variant of VARIANTS) {
    const hm = find('hostmeter', variant.name);
    const ne = find('node_exporter', variant.name);
    if (hm === undefined || ne === undefined) continue;
    const cpuRatio = hm.cpuMsPerScrape / ne.cpuMsPerScrape;
    const verdict = cpuRatio <= TARGET_CPU_RATIO ? 'met' : 'MISSED';
    out.push(
      `| CPU/scrape hostmeter / node_exporter (${variant.name}) | ${fixed(cpuRatio)}× | ≤ ${TARGET_CPU_RATIO}×: ${verdict} |`,
      `| median latency hostmeter / node_exporter (${variant.name}) | ${fixed(hm.medianMs / ne.medianMs)}× | |`,
      `| p95 latency hostmeter / node_exporter (${variant.name}) | ${fixed(hm.p95Ms / ne.p95Ms)}× | |`,
      `| RSS hostmeter / node_exporter (${variant.name}) | ${fixed(hm.rssBytes / ne.rssBytes)}× | |`,
    );
  }
  const hmRss = Math.max(...series.filter((s) => s.exporter === 'hostmeter').map((s) => s.rssBytes)) / MIB;
  out.push(
    `| hostmeter RSS (largest after any series) | ${fixed(hmRss, 1)} MiB | ≤ ${TARGET_RSS_MIB} MiB: ${hmRss <= TARGET_RSS_MIB ? 'met' : 'MISSED'} |`,
  );
  const hmPlain = find('hostmeter', 'plain');
  if (hmPlain !== undefined) {
    out.push(
      `| CPU/scrape hostmeter (plain) / floor | ${fixed(hmPlain.cpuMsPerScrape / floor.cpuMs, 1)}× | |`,
    );
  }

  out.push(
    '',
    '## Slowest collectors (median ms per scrape, from each exporter’s own duration series, plain)',
  );
  for (const exporter of exporters) {
    const plain = find(exporter.name, 'plain');
    if (plain === undefined) continue;
    const ranked = [...plain.collectorSeconds].sort((a, b) => b[1] - a[1]).slice(0, 8);
    out.push(`- ${exporter.name}: ${ranked.map(([name, s]) => `${name} ${fixed(s * 1000, 3)}`).join(', ')}`);
  }
  console.log(out.join('\n'));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scrapes: { type: 'string' },
      warmup: { type: 'string' },
      'floor-passes': { type: 'string' },
      'quiet-timeout': { type: 'string' },
    },
  });
  const scrapes = Math.max(1, wholeNumber(values.scrapes, 50, 'scrapes'));
  const warmup = wholeNumber(values.warmup, 5, 'warmup');
  const floorPasses = Math.max(1, wholeNumber(values['floor-passes'], scrapes, 'floor-passes'));
  const quietTimeoutMs = wholeNumber(values['quiet-timeout'], 60, 'quiet-timeout') * 1000;

  const facts = benchFacts();
  const loadBefore = os.loadavg();
  const logDir = mkdtempSync(join(os.tmpdir(), 'hostmeter-bench-'));
  const started: Started[] = [];
  // An interrupted run must not leave exporters behind: finally blocks do not run on a signal.
  const interrupted = (signal: NodeJS.Signals): void => {
    for (const { child } of started) child.kill('SIGTERM');
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  let keepLogs = true;
  try {
    const hostmeter = await startExporter(
      'hostmeter',
      process.execPath,
      // Per-process accounting has its own benchmark against process-exporter (bench/processes.ts):
      // node_exporter has none, so it is left out here.
      [join(REPO, 'bin/hostmeter.js'), 'serve', '--no-collector.partitions'],
      logDir,
      started,
    );
    const nodeExporter = await startExporter('node_exporter', NODE_EXPORTER, [], logDir, started);
    const exporters = [hostmeter, nodeExporter];
    const collectors = await hostmeterCollectors(hostmeter.url);

    const runBox = boxJiffies();
    const runBegin = performance.now();
    const series: Series[] = [];
    for (const variant of VARIANTS) {
      for (const exporter of exporters) {
        console.error(`measuring ${exporter.name} (${variant.name}) ...`);
        series.push(await measureSeries(exporter, variant, warmup, scrapes, quietTimeoutMs));
      }
    }
    // The floor covers only the collectors hostmeter actually ran, so the ratio compares like with like.
    const plan = floorPlan().filter((step) => collectors.has(step.collector));
    await waitQuiet(QUIET_CORES, QUIET_WINDOW_MS, quietTimeoutMs);
    const floor = measureFloor(plan, floorPasses);
    const runCores = busyCores(runBox, boxJiffies(), performance.now() - runBegin);
    const floorCollectors = [...new Set(plan.map((step) => step.collector))];
    printReport(facts, loadBefore, runCores, exporters, collectors, series, floor, floorCollectors, {
      scrapes,
      warmup,
      floorPasses,
    });
    keepLogs = false;
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await Promise.all(started.map((child) => stopProcess(child)));
    pidusage.clear();
    if (keepLogs) console.error(`exporter logs kept in ${logDir}`);
    else rmSync(logDir, { recursive: true, force: true });
  }
}

await main();

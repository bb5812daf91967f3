// Process, timing and box-load helpers shared by the benchmark scripts.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pidusage from 'pidusage';

/** Clock ticks per second of /proc/PID/stat times (100 on every mainstream Linux build). */
export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile: an observed value, never an interpolation between two. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** A loopback port nobody listens on right now (the kernel's pick, released at once). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port assigned');
  return address.port;
}

export interface Started {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
}

/** Spawns a process with stdout and stderr in a log file, so a chatty exporter can never block on a pipe. */
export function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  logDir: string,
): Started {
  const logFile = join(logDir, `${name}.log`);
  const log = openSync(logFile, 'w');
  try {
    const child = spawn(command, args, { stdio: ['ignore', log, log] });
    if (child.pid === undefined) throw new Error(`cannot start ${command}`);
    // Without a listener a failed spawn would be an uncaught 'error' event.
    child.on('error', () => {});
    return { name, child, pid: child.pid, logFile };
  } finally {
    closeSync(log);
  }
}

const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

/** SIGTERM, then SIGKILL if the process is still there after `graceMs`; resolves once it has exited. */
export async function stopProcess(started: Started, graceMs = 3000): Promise<void> {
  const { child } = started;
  if (exited(child)) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

/** Milliseconds from now until `url` answers 200; throws if the process exits or `timeoutMs` passes. */
export async function waitUntilAnswers(started: Started, url: string, timeoutMs = 15_000): Promise<number> {
  const begin = performance.now();
  while (performance.now() - begin < timeoutMs) {
    if (exited(started.child)) {
      throw new Error(`${started.name} exited (code ${started.child.exitCode}); see ${started.logFile}`);
    }
    try {
      const response = await fetch(url, { headers: { 'accept-encoding': 'identity' } });
      await response.arrayBuffer();
      if (response.ok) return performance.now() - begin;
    } catch {
      // Not listening yet.
    }
    await sleep(10);
  }
  throw new Error(`${started.name} did not answer ${url} within ${timeoutMs} ms; see ${started.logFile}`);
}

/** utime + stime of a process in ms, straight from /proc/PID/stat (fields 14 and 15). */
export function procStatCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // The command name may contain spaces and parentheses; the fields after its closing one are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

export interface CpuJiffies {
  readonly busy: number;
  readonly total: number;
}

/** Box-wide CPU time from the aggregate line of /proc/stat; idle and iowait count as not busy. */
export function boxJiffies(): CpuJiffies {
  const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal; guest time is already inside user and nice.
  const total = ticks.slice(0, 8).reduce((sum, tick) => sum + tick, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: total - idle, total };
}

/** Cores kept busy between two readings (0 .. number of CPUs). */
export function busyCores(from: CpuJiffies, to: CpuJiffies, elapsedMs: number): number {
  return (to.busy - from.busy) / CLK_TCK / (elapsedMs / 1000);
}

export interface QuietResult {
  readonly quiet: boolean;
  readonly busyCores: number;
  readonly waitedMs: number;
}

/** Waits until the box has fewer than `threshold` busy cores over a `windowMs` window, up to `maxMs`. */
export async function waitQuiet(threshold: number, windowMs: number, maxMs: number): Promise<QuietResult> {
  const begin = performance.now();
  for (;;) {
    const from = boxJiffies();
    const started = performance.now();
    await sleep(windowMs);
    const cores = busyCores(from, boxJiffies(), performance.now() - started);
    const waitedMs = performance.now() - begin;
    if (cores < threshold) return { quiet: true, busyCores: cores, waitedMs };
    if (waitedMs >= maxMs) return { quiet: false, busyCores: cores, waitedMs };
  }
}

/** Samples in a Prometheus or OpenMetrics body: its non-comment, non-empty lines. */
export const countSamples = (body: string): number =>
  body.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;

/** A command-line count: `fallback` when absent, an error unless a whole number ≥ 0. */
export function wholeNumber(text: string | undefined, fallback: number, flag: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${flag} must be a whole number, got ${text}`);
  return value;
}

/**
 * Waits until none of `pids` is in /proc any more, for at most `timeoutMs`; returns how many are left.
 * A killed process whose parent has gone stays in /proc as a zombie until PID 1 reaps it, which this
 * VM's init does only every few seconds: a /proc walker would still count it.
 */
export async function waitGone(pids: readonly number[], timeoutMs: number): Promise<number> {
  const begin = performance.now();
  let left = pids;
  for (;;) {
    left = left.filter((pid) => existsSync(`/proc/${pid}`));
    if (left.length === 0 || performance.now() - begin >= timeoutMs) return left.length;
    await sleep(100);
  }
}

export interface SelfTime {
  readonly functionName: string;
  /** file:line of the function, or '' for V8's pseudo-frames ((garbage collector), (program)). */
  readonly location: string;
  readonly ms: number;
}

interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/**
 * Self time per function of a V8 `.cpuprofile` (from `node --cpu-prof`), largest first, with the time
 * spent outside JavaScript waiting for work ((idle)) left out. A function's sample is charged the
 * interval that follows it, as Chrome DevTools does.
 */
export function cpuProfileSelfTimes(file: string): SelfTime[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byNode = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const totals = new Map<string, SelfTime>();
  for (let i = 0; i < profile.samples.length; i++) {
    const frame = byNode.get(profile.samples[i] as number);
    if (frame === undefined || frame.functionName === '(idle)') continue;
    const deltaUs = profile.timeDeltas[i + 1] ?? 0;
    const url = frame.url.replace(/^file:\/\//, '');
    const location = url === '' ? '' : `${url}:${frame.lineNumber + 1}`;
    const functionName = frame.functionName === '' ? '(anonymous)' : frame.functionName;
    const key = `${functionName} ${location}`;
    const ms = (totals.get(key)?.ms ?? 0) + deltaUs / 1000;
    totals.set(key, { functionName, location, ms });
  }
  return [...totals.values()].sort((a, b) => b.ms - a.ms);
}

/** One scrape as a benchmark sees it. */
export interface TimedScrape {
  readonly ms: number;
  readonly body: string;
}

/** What K sequential scrapes cost the exporter, and what else the box did meanwhile. */
export interface ScrapeCost<S extends TimedScrape> {
  readonly latencies: readonly number[];
  readonly last: S;
  readonly cpuMsPerScrape: number;
  /** The same from /proc/PID/stat directly, to cross-check pidusage (which reads the same two fields). */
  readonly procStatCpuMsPerScrape: number;
  readonly rssBytes: number;
  readonly boxCores: number;
  /** Busy cores that were neither the exporter nor this benchmark. */
  readonly otherCores: number;
}

/** Runs `scrapes` sequential `scrape()` calls against the exporter `pid` and measures their cost. */
export async function measureScrapes<S extends TimedScrape>(
  pid: number,
  scrapes: number,
  scrape: () => Promise<S>,
  onScrape: (result: S) => void = () => {},
): Promise<ScrapeCost<S>> {
  const usageBefore = await pidusage(pid);
  const statBefore = procStatCpuMs(pid);
  const boxBefore = boxJiffies();
  const selfBefore = process.cpuUsage();
  const begin = performance.now();
  const latencies: number[] = [];
  let last: S | undefined;
  for (let i = 0; i < scrapes; i++) {
    last = await scrape();
    latencies.push(last.ms);
    onScrape(last);
  }
  const elapsedMs = performance.now() - begin;
  const self = process.cpuUsage(selfBefore);
  const boxAfter = boxJiffies();
  const statAfter = procStatCpuMs(pid);
  const usageAfter = await pidusage(pid);
  if (last === undefined) throw new Error('--scrapes must be at least 1');
  const cpuMs = usageAfter.ctime - usageBefore.ctime;
  const boxCores = busyCores(boxBefore, boxAfter, elapsedMs);
  return {
    latencies,
    last,
    cpuMsPerScrape: cpuMs / scrapes,
    procStatCpuMsPerScrape: (statAfter - statBefore) / scrapes,
    rssBytes: usageAfter.memory,
    boxCores,
    otherCores: boxCores - cpuMs / elapsedMs - (self.user + self.system) / 1000 / elapsedMs,
  };
}

/** The facts every benchmark prints, so its figures can be judged against the machine. */
export function machineFacts(): Record<string, string> {
  const osRelease = readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)/m)?.[1] ?? '?';
  return {
    date: new Date().toISOString(),
    cpus: `${os.availableParallelism()} × ${os.cpus()[0]?.model ?? '?'}`,
    memory: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    kernel: `${os.release()} (${osRelease})`,
    'node (bench and hostmeter)': `${process.version} (${process.execPath})`,
  };
}

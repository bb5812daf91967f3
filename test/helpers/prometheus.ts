// Runs a real Prometheus (Debian package `prometheus`) on 127.0.0.1 with a temporary TSDB, and asks it
// questions over its HTTP API, as the integration tests require.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './hostmeter.ts';

export function requireBinary(name: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || path === '') {
    throw new Error(
      `${name} is not installed: the integration tests need Debian's package (apt-get install -y prometheus)`,
    );
  }
  return path;
}

export interface Sample {
  readonly metric: Record<string, string>;
  readonly value: number;
}

export interface RunningPrometheus {
  readonly url: string;
  /** An instant query; throws on an API error. */
  query(expr: string): Promise<Sample[]>;
  /** The single value of a query that must return exactly one series. */
  scalar(expr: string): Promise<number>;
  targets(): Promise<{ health: string; lastError: string; scrapeUrl: string }[]>;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** `host:port` targets scraped by the job `hostmeter`. */
  readonly targets: readonly string[];
  readonly scrapeInterval?: string;
  readonly metricsPath?: string;
}

/**
 * Starts Prometheus with `dir/prometheus.yml` and the TSDB at `storage` on a free loopback port, and waits
 * until it is ready; `stop` ends it and removes `dir`.
 */
export async function launchPrometheus(
  dir: string,
  storage: string,
  retention: string,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const binary = requireBinary('prometheus');
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${storage}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--storage.tsdb.retention.time=${retention}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Prometheus opens its port before the TSDB is loaded: /-/ready is the signal, not the port.
    await waitFor(async () => (await fetch(`${url}/-/ready`)).ok, `Prometheus on ${url}`, 30_000);
  } catch (error) {
    child.kill('SIGKILL');
    await stop();
    throw new Error(`${(error as Error).message}\n${log}`);
  }
  return { url, stop };
}

export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  requireBinary('prometheus');
  const dir = mkdtempSync(join(tmpdir(), 'hm-prometheus-'));
  const interval = options.scrapeInterval ?? '1s';
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      `  scrape_interval: ${interval}`,
      `  scrape_timeout: ${interval}`,
      'scrape_configs:',
      '  - job_name: hostmeter',
      `    metrics_path: ${options.metricsPath ?? '/metrics'}`,
      '    static_configs:',
      `      - targets: [${options.targets.map((target) => JSON.stringify(target)).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const { url, stop } = await launchPrometheus(dir, join(dir, 'data'), '1h');

  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? response.status}`);
    return body.data;
  };
  const query = async (expr: string): Promise<Sample[]> => {
    const data = await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
      `/api/v1/query?query=${encodeURIComponent(expr)}`,
    );
    return data.result.map((item) => ({ metric: item.metric, value: Number(item.value[1]) }));
  };
  return {
    url,
    query,
    async scalar(expr) {
      const samples = await query(expr);
      if (samples.length !== 1) throw new Error(`${expr}: expected one series, got ${samples.length}`);
      return (samples[0] as Sample).value;
    },
    async targets() {
      const data = await api<{ activeTargets: { health: string; lastError: string; scrapeUrl: string }[] }>(
        '/api/v1/targets',
      );
      return data.activeTargets;
    },
    stop,
  };
}

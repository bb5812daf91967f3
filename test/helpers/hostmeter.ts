// Runs the real `hostmeter` command as a child process, the way an operator would.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/hostmeter.js', import.meta.url));

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface CommandResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `hostmeter ARGS` to completion. */
export function runHostmeter(args: readonly string[], timeoutMs = 20_000): CommandResult {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs `hostmeter ARGS` to completion in a child process, asynchronously. */
export function hostmeterAsync(args: readonly string[], timeoutMs = 30_000): Promise<CommandResult> {
  return nodeAsync([BIN, ...args], timeoutMs);
}

/** Runs `node ARGS` (this Node) to completion in a child process, asynchronously; killed after `timeoutMs`. */
export function nodeAsync(args: readonly string[], timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

export interface RunningHostmeter {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stderr so far (its log). */
  log(): string;
  stop(): Promise<number | null>;
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Starts `hostmeter serve` on a loopback port and waits until /healthz answers. The port is a free one
 * unless given: a restarted exporter must answer where Prometheus already scrapes.
 */
export async function startHostmeter(
  extraArgs: readonly string[] = [],
  port?: number,
): Promise<RunningHostmeter> {
  port ??= await freePort();
  const child = spawn(
    process.execPath,
    [BIN, 'serve', `--web.listen-address=127.0.0.1:${port}`, ...extraArgs],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`hostmeter exited with ${child.exitCode}: ${stderr}`);
        return (await fetch(`${url}/healthz`)).ok;
      },
      `hostmeter on ${url}`,
      20_000,
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
  return {
    url,
    child,
    log: () => stderr,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export { waitFor };

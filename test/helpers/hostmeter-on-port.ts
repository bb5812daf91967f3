// `hostmeter serve` on a port chosen by the caller, so that a restarted exporter answers where Prometheus
// already scrapes (startHostmeter picks a new free port every time).

import { spawn } from 'node:child_process';
import { BIN, type RunningHostmeter, waitFor } from './hostmeter.ts';

/** Starts `hostmeter serve` on 127.0.0.1:`port` and waits until /healthz answers. */
export async function startHostmeterOnPort(
  port: number,
  extraArgs: readonly string[] = [],
): Promise<RunningHostmeter> {
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
        if (child.exitCode !== null) throw new Error(`hostmeter exited with ${child.exitCode}`);
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

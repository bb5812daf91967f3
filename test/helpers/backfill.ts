// A real Prometheus serving samples written beforehand: OpenMetrics text backfilled with
// `promtool tsdb create-blocks-from openmetrics` into a temporary TSDB. Also runs `hostmeter` without
// blocking the event loop, so fake HTTP servers in the test process can answer it.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchPrometheus, requireBinary } from './prometheus.ts';

export interface BackfilledPrometheus {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startBackfilledPrometheus(openMetricsText: string): Promise<BackfilledPrometheus> {
  const promtool = requireBinary('promtool');
  const dir = mkdtempSync(join(tmpdir(), 'hm-backfill-'));
  const data = join(dir, 'data');
  try {
    writeFileSync(join(dir, 'samples.om'), openMetricsText);
    const created = spawnSync(
      promtool,
      // One block for the whole data instead of one per 2 h: faster to write, and Prometheus has
      // nothing to compact while the tests query it.
      [
        'tsdb',
        'create-blocks-from',
        'openmetrics',
        '--quiet',
        '--max-block-duration=64h',
        join(dir, 'samples.om'),
        data,
      ],
      { encoding: 'utf8' },
    );
    if (created.status !== 0) throw new Error(`promtool failed: ${created.stderr}${created.stdout}`);
    writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1m\n');
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  // The samples are months old: the default 15 days of retention would delete them on load.
  return launchPrometheus(dir, data, '100y');
}

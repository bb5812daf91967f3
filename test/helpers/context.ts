import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { Registry } from 'prom-client';
import type {
  Attributes,
  CollectorContext,
  CollectorDefinition,
  CollectorSettings,
  Observations,
} from '../../src/collectors/collector.ts';
import { DEFAULT_PATHS, type HostPaths } from '../../src/io/host-files.ts';
import { silentLogger } from '../../src/log.ts';

export const TEST_SETTINGS: CollectorSettings = {
  filesystem: {
    mountPointsExclude:
      /^\/(dev|proc|run\/credentials\/.+|sys|var\/lib\/docker\/.+|var\/lib\/containers\/storage\/.+)($|\/)/,
    fsTypesExclude:
      /^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs)$/,
    mountTimeoutMs: 5000,
  },
  disk: { deviceExclude: /^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$/ },
  network: { deviceExclude: /^$/ },
  partitions: {
    rules: [],
    inherit: true,
    top: 10,
    stateFile: '',
    stateSaveIntervalMs: 60_000,
    diskUsageIntervalMs: 3_600_000,
    diskUsageConcurrency: 2,
  },
};

export function testContext(paths: HostPaths = DEFAULT_PATHS): CollectorContext {
  return {
    paths,
    settings: TEST_SETTINGS,
    log: silentLogger,
    meter: metrics.getMeter('test'),
    registry: new Registry(),
  };
}

/**
 * A fake host tree in a temp dir, removed after the current test or suite. Keys are paths under it
 * (`proc/diskstats`, `sys/class/net/lo/mtu`, `root/data/`); a key ending in `/` makes a directory.
 */
export function fakeHost(files: Readonly<Record<string, string>>): HostPaths {
  const dir = mkdtempSync(join(tmpdir(), 'hm-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  for (const sub of ['proc', 'sys', 'root']) mkdirSync(join(dir, sub));
  for (const [relative, content] of Object.entries(files)) {
    const path = join(dir, relative);
    if (relative.endsWith('/')) {
      mkdirSync(path, { recursive: true });
    } else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
    }
  }
  return { procfs: join(dir, 'proc'), sysfs: join(dir, 'sys'), rootfs: join(dir, 'root') };
}

/** The value observed for `name` with exactly these attributes, or undefined when there is none. */
export function observed(out: Observations, name: string, attributes: Attributes = {}): number | undefined {
  const keys = Object.keys(attributes);
  const match = out.items.find(
    (o) =>
      o.metric.name === name &&
      Object.keys(o.attributes).length === keys.length &&
      keys.every((key) => o.attributes[key] === attributes[key]),
  );
  return match?.value;
}

// Some tests import it under its first name, which the linter rejects as a declaration.

/** Creates the collector and runs one collection. */
export async function collectOnce(
  definition: CollectorDefinition,
  ctx: CollectorContext,
): Promise<Observations> {
  return (await definition.create(ctx)).collect();
}

// Every setting of `hostmeter serve`, once: its flag name (node_exporter style), its YAML key (the
// same dotted path), its value schema and its help text. Flags, the config file, `--help` and the
// README's table all come from this list.

import { z } from 'zod';

export type SettingType = 'string' | 'boolean';

export interface Setting<T = unknown> {
  /** Dotted key: the flag is `--KEY`, the YAML key is the same path (`web: { listen-address: ... }`). */
  readonly key: string;
  /** How the flag is parsed before the schema sees it. */
  readonly type: SettingType;
  readonly schema: z.ZodType<T>;
  /** The default as a user would write it (flag syntax), shown in --help. */
  readonly defaultText: string;
  readonly help: string;
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Prometheus-style duration (`500ms`, `10s`, `1m`, `1h`) or a number of seconds, as milliseconds. */
export const durationMs = z.union([z.string(), z.number()]).transform((value, ctx) => {
  if (typeof value === 'number') {
    if (value > 0) return value * 1000;
  } else {
    const match = DURATION.exec(value.trim());
    if (match?.[1] && match[2]) {
      const ms = Number(match[1]) * (DURATION_MS[match[2]] ?? 0);
      if (ms > 0) return ms;
    }
  }
  ctx.addIssue({
    code: 'custom',
    message: `expected a positive duration such as 500ms, 10s or 1m, got ${JSON.stringify(value)}`,
  });
  return z.NEVER;
});

/** A regular expression source, compiled here so a bad pattern is reported at start. */
export const regex = z.string().transform((source, ctx) => {
  try {
    return new RegExp(source);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(error as Error).message}` });
    return z.NEVER;
  }
});

export interface ListenAddress {
  readonly host: string | undefined;
  readonly port: number;
}

/** `[host]:port` as node_exporter takes it: `:9464` listens on every interface. */
export const listenAddress = z.string().transform((text, ctx): ListenAddress => {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    ctx.addIssue({
      code: 'custom',
      message: `expected [host]:port such as :9464 or 127.0.0.1:9464, got ${JSON.stringify(text)}`,
    });
    return z.NEVER;
  }
  const host = match[1] ?? match[2];
  return { host: host === '' ? undefined : host, port };
});

const setting = <T>(
  key: string,
  type: SettingType,
  schema: z.ZodType<T>,
  defaultText: string,
  help: string,
): Setting<T> => ({ key, type, schema, defaultText, help });

export const SERVE_SETTINGS = {
  listenAddress: setting(
    'web.listen-address',
    'string',
    listenAddress,
    ':9464',
    'Address to listen on for the web interface and telemetry.',
  ),
  telemetryPath: setting(
    'web.telemetry-path',
    'string',
    z.string().regex(/^\/[^?#]*$/, 'expected a path starting with /'),
    '/metrics',
    'Path under which to expose metrics.',
  ),
  scrapeTimeout: setting(
    'web.scrape-timeout',
    'string',
    durationMs,
    '10s',
    'Longest a scrape may take; collectors still running then are reported failed and left out of the response.',
  ),
  maxRequests: setting(
    'web.max-requests',
    'string',
    z.coerce.number().int().min(0),
    '40',
    'Maximum number of parallel scrape requests; 0 disables the limit.',
  ),
  procfs: setting('path.procfs', 'string', z.string().min(1), '/proc', 'procfs mountpoint.'),
  sysfs: setting('path.sysfs', 'string', z.string().min(1), '/sys', 'sysfs mountpoint.'),
  rootfs: setting(
    'path.rootfs',
    'string',
    z.string().min(1),
    '/',
    'Root of the host filesystem (mounts, /etc/passwd, utmp).',
  ),
  mountPointsExclude: setting(
    'collector.filesystem.mount-points-exclude',
    'string',
    regex,
    '^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)',
    'Regexp of mount points to exclude for the filesystem collector.',
  ),
  fsTypesExclude: setting(
    'collector.filesystem.fs-types-exclude',
    'string',
    regex,
    '^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs)$',
    'Regexp of filesystem types to exclude for the filesystem collector.',
  ),
  mountTimeout: setting(
    'collector.filesystem.mount-timeout',
    'string',
    durationMs,
    '5s',
    'How long to wait for a mount to answer statfs before reporting it as a device error.',
  ),
  diskDeviceExclude: setting(
    'collector.disk.device-exclude',
    'string',
    regex,
    '^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$',
    'Regexp of block devices to exclude for the disk collector (partitions by default).',
  ),
  networkDeviceExclude: setting(
    'collector.network.device-exclude',
    'string',
    regex,
    '^$',
    'Regexp of network interfaces to exclude for the network collector.',
  ),
  logLevel: setting(
    'log.level',
    'string',
    z.enum(['debug', 'info', 'warn', 'error']),
    'info',
    'Only log messages with the given severity or above: debug, info, warn, error.',
  ),
  logFormat: setting(
    'log.format',
    'string',
    z.enum(['logfmt', 'json']),
    'logfmt',
    'Output format of log messages: logfmt or json.',
  ),
} as const;

/** The on/off switch of one collector: `--collector.NAME` / `--no-collector.NAME`, YAML `collector.NAME: false`. */
export const collectorSwitch = (name: string, description: string, enabled: boolean): Setting<boolean> =>
  setting(
    `collector.${name}`,
    'boolean',
    z.boolean(),
    String(enabled),
    `Enable the ${name} collector: ${description}.`,
  );

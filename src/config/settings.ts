import { parseRules } from '../partitions/rules.ts';

// Every setting of `hostmeter serve`, once: its flag name (node_exporter style), its YAML key (the
// same dotted path), its value schema and its help text. Flags, the config file, `--help` and the
// README's table all come from this list.

/** `file` settings are structured (lists, mappings): they exist only in the config file, not as flags. */
export type SettingType = 'string' | 'boolean' | 'file';

/** Turns a raw flag or YAML value into the setting's type; throws an Error whose message says what was expected. */
export type ValueParser<T> = (value: unknown) => T;

export interface Setting<T = unknown> {
  /** Dotted key: the flag is `--KEY`, the YAML key is the same path (`web: { listen-address: ... }`). */
  readonly key: string;
  /** How the flag is parsed before `parse` sees it. */
  readonly type: SettingType;
  readonly parse: ValueParser<T>;
  /** The default as a user would write it (flag syntax), shown in --help. */
  readonly defaultText: string;
  readonly help: string;
}

const describe = (value: unknown): string => JSON.stringify(value) ?? String(value);

export const text: ValueParser<string> = (value) => {
  if (typeof value !== 'string' || value === '')
    throw new Error(`expected a non-empty string, got ${describe(value)}`);
  return value;
};

const optionalText: ValueParser<string> = (value) => {
  if (typeof value !== 'string') throw new Error(`expected a string, got ${describe(value)}`);
  return value;
};

export const boolean: ValueParser<boolean> = (value) => {
  if (typeof value !== 'boolean') throw new Error(`expected true or false, got ${describe(value)}`);
  return value;
};

export const count: ValueParser<number> = (value) => {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 0) {
    throw new Error(`expected a whole number >= 0, got ${describe(value)}`);
  }
  return number;
};

export const oneOf =
  <T extends string>(...choices: T[]): ValueParser<T> =>
  (value) => {
    if (!choices.includes(value as T))
      throw new Error(`expected one of ${choices.join(', ')}, got ${describe(value)}`);
    return value as T;
  };

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Prometheus-style duration (`500ms`, `10s`, `1m`, `1h`) or a number of seconds, as milliseconds. */
export const durationMs: ValueParser<number> = (value) => {
  const match = typeof value === 'string' ? DURATION.exec(value.trim()) : null;
  const ms =
    typeof value === 'number'
      ? value * 1000
      : match?.[1] && match[2]
        ? Number(match[1]) * (DURATION_MS[match[2]] ?? 0)
        : 0;
  if (!(ms > 0))
    throw new Error(`expected a positive duration such as 500ms, 10s or 1m, got ${describe(value)}`);
  return ms;
};

/** A regular expression source, compiled here so a bad pattern is reported at start. */
export const regex: ValueParser<RegExp> = (value) => {
  if (typeof value !== 'string') throw new Error(`expected a regular expression, got ${describe(value)}`);
  try {
    return new RegExp(value);
  } catch (error) {
    throw new Error(`invalid regular expression: ${(error as Error).message}`);
  }
};

export interface ListenAddress {
  readonly host: string | undefined;
  readonly port: number;
}

/** `[host]:port` as node_exporter takes it: `:9464` listens on every interface. */
export const listenAddress: ValueParser<ListenAddress> = (value) => {
  const match =
    typeof value === 'string' ? /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value.trim()) : null;
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    throw new Error(`expected [host]:port such as :9464 or 127.0.0.1:9464, got ${describe(value)}`);
  }
  const host = match[1] ?? match[2];
  return { host: host === '' ? undefined : host, port };
};

const urlPath: ValueParser<string> = (value) => {
  if (typeof value !== 'string' || !/^\/[^?#]*$/.test(value))
    throw new Error(`expected a path starting with /, got ${describe(value)}`);
  return value;
};

const setting = <T>(
  key: string,
  type: SettingType,
  parse: ValueParser<T>,
  defaultText: string,
  help: string,
): Setting<T> => ({ key, type, parse, defaultText, help });

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
    urlPath,
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
    count,
    '40',
    'Maximum number of parallel scrape requests; 0 disables the limit.',
  ),
  procfs: setting('path.procfs', 'string', text, '/proc', 'procfs mountpoint.'),
  sysfs: setting('path.sysfs', 'string', text, '/sys', 'sysfs mountpoint.'),
  rootfs: setting(
    'path.rootfs',
    'string',
    text,
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
  partitionRules: setting(
    'partitions.rules',
    'file',
    parseRules,
    '',
    'Partition rules, first match wins (config file only; see the README). Without rules, each user is a partition.',
  ),
  partitionsInherit: setting(
    'partitions.inherit',
    'boolean',
    boolean,
    'true',
    "Let a process that matches no rule join its nearest ancestor's partition.",
  ),
  processesTop: setting(
    'processes.top',
    'string',
    count,
    '10',
    'Export the N processes with the highest CPU use since the previous scrape; 0 turns it off.',
  ),
  stateFile: setting(
    'state.file',
    'string',
    optionalText,
    '',
    'File where partition counters are kept across restarts (written atomically); empty disables it.',
  ),
  stateSaveInterval: setting(
    'state.save-interval',
    'string',
    durationMs,
    '1m',
    'How often the state file is written (it is also written on SIGTERM and SIGINT).',
  ),
  diskUsageInterval: setting(
    'partitions.disk-usage-interval',
    'string',
    durationMs,
    '1h',
    'How often the disk usage of partitions with a disk-usage rule is measured, in the background.',
  ),
  diskUsageConcurrency: setting(
    'partitions.disk-usage-concurrency',
    'string',
    count,
    '2',
    'How many partition directories are measured at once.',
  ),
  logLevel: setting(
    'log.level',
    'string',
    oneOf('debug', 'info', 'warn', 'error'),
    'info',
    'Only log messages with the given severity or above: debug, info, warn, error.',
  ),
  logFormat: setting(
    'log.format',
    'string',
    oneOf('logfmt', 'json'),
    'logfmt',
    'Output format of log messages: logfmt or json.',
  ),
} as const;

/** The on/off switch of one collector: `--collector.NAME` / `--no-collector.NAME`, YAML `collector.NAME: false`. */
export const collectorSwitch = (name: string, description: string, enabled: boolean): Setting<boolean> =>
  setting(
    `collector.${name}`,
    'boolean',
    boolean,
    String(enabled),
    `Enable the ${name} collector: ${description}.`,
  );

// Settings of `hostmeter report` and `hostmeter report upload`, from the same flag/YAML machinery as serve.

import { ConfigError, resolveSettings, settingValue } from './load.ts';
import { boolean, count, durationMs, oneOf, type Setting, type ValueParser } from './settings.ts';

const describe = (value: unknown): string => JSON.stringify(value) ?? String(value);

const optional: ValueParser<string> = (value) => {
  if (typeof value !== 'string') throw new Error(`expected a string, got ${describe(value)}`);
  return value;
};

const fraction: ValueParser<number> = (value) => {
  const number = Number(value);
  if (typeof value === 'boolean' || value === '' || !(number >= 0 && number <= 1)) {
    throw new Error(`expected a fraction between 0 and 1, got ${describe(value)}`);
  }
  return number;
};

const positiveCount: ValueParser<number> = (value) => {
  const number = count(value);
  if (number === 0) throw new Error('expected a whole number of at least 1, got 0');
  return number;
};

const setting = <T>(key: string, parse: ValueParser<T>, defaultText: string, help: string): Setting<T> => ({
  key,
  type: 'string',
  parse,
  defaultText,
  help,
});

export const REPORT_SETTINGS = {
  prometheusUrl: setting(
    'prometheus.url',
    optional,
    '',
    'Base URL of the Prometheus HTTP API (or any compatible one). Required.',
  ),
  prometheusTimeout: setting('prometheus.timeout', durationMs, '60s', 'Time-out of one Prometheus request.'),
  prometheusRetries: setting(
    'prometheus.retries',
    count,
    '3',
    'Extra attempts on network errors, time-outs and 5xx.',
  ),
  prometheusGzip: {
    key: 'prometheus.gzip',
    type: 'boolean',
    parse: boolean,
    defaultText: 'true',
    help: 'Ask for gzip-compressed answers (--no-prometheus.gzip next to Prometheus saves the decompression).',
  } as Setting<boolean>,
  bearerTokenFile: setting(
    'prometheus.bearer-token-file',
    optional,
    '',
    'File holding a bearer token for a Prometheus behind a proxy.',
  ),
  username: setting(
    'prometheus.username',
    optional,
    '',
    'Basic-auth user name for a Prometheus behind a proxy.',
  ),
  passwordFile: setting('prometheus.password-file', optional, '', 'File holding the basic-auth password.'),
  date: setting('date', optional, '', 'Day to report, YYYY-MM-DD (default: yesterday in --timezone).'),
  from: setting(
    'from',
    optional,
    '',
    'Start of an explicit window (RFC 3339 or Unix seconds), with --to, instead of --date.',
  ),
  to: setting('to', optional, '', 'End of an explicit window (RFC 3339 or Unix seconds).'),
  timezone: setting('timezone', optional, 'UTC', 'IANA time zone whose calendar day is reported.'),
  outputDir: setting(
    'output.dir',
    optional,
    '',
    'Directory of the reports: DIR/<computer>/<date>.xml. Required.',
  ),
  computerLabel: setting('computer.label', optional, 'instance', 'Series label that names the computer.'),
  computersPerQuery: setting(
    'query.computers',
    positiveCount,
    '100',
    'Computers whose series one query fetches: a larger fleet is read in shards of this size.',
  ),
  computerMap: setting(
    'computer.map',
    optional,
    '',
    'YAML or JSON file mapping label values to computer ids.',
  ),
  profile: setting(
    'profile',
    oneOf('slapos', 'extended'),
    'slapos',
    'slapos: what the SlapOS master knows; extended adds exact day totals.',
  ),
  minCoverage: setting(
    'min-coverage',
    fraction,
    '0',
    'A computer whose samples cover less of the window than this fraction is not written.',
  ),
  maxGap: setting('max-gap', durationMs, '5m', 'A gap between samples longer than this is missing time.'),
  force: {
    key: 'force',
    type: 'boolean',
    parse: boolean,
    defaultText: 'false',
    help: 'Rewrite reports that already exist (sent ones included).',
  } as Setting<boolean>,
  uploadUrl: setting(
    'upload.url',
    optional,
    '',
    'Where to POST each new report (computer_id and use_string), as the SlapOS master accepts it.',
  ),
  uploadRetries: setting(
    'upload.retries',
    count,
    '3',
    'Extra attempts of one upload, with exponential backoff.',
  ),
} as const;

export interface ReportConfig {
  readonly prometheus: {
    readonly url: string;
    readonly timeoutMs: number;
    readonly retries: number;
    readonly gzip: boolean;
    readonly auth?: { readonly bearer: string } | { readonly username: string; readonly password: string };
  };
  readonly window: { readonly label: string; readonly from: number; readonly to: number };
  readonly outputDir: string;
  readonly computerLabel: string;
  readonly computersPerQuery: number;
  readonly computerMap: ReadonlyMap<string, string>;
  readonly profile: 'slapos' | 'extended';
  readonly minCoverage: number;
  readonly maxGapSeconds: number;
  readonly force: boolean;
  readonly upload?: { readonly url: string; readonly retries: number };
}

/** Offset of `timeZone` from UTC at `utcMs`, in milliseconds. */
function zoneOffsetMs(timeZone: string, utcMs: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(utcMs));
  const get = (type: string): number => Number(parts.find((part) => part.type === type)?.value);
  return (
    Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - utcMs
  );
}

/** Unix seconds of local midnight starting `date` in `timeZone` (DST-safe: the offset is taken at that instant). */
export function midnight(date: string, timeZone: string): number {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const naive = Date.UTC(year, month - 1, day);
  let utc = naive - zoneOffsetMs(timeZone, naive);
  utc = naive - zoneOffsetMs(timeZone, utc);
  return utc / 1000;
}

const nextDate = (date: string): string =>
  new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/** Yesterday's date in `timeZone`, as YYYY-MM-DD. */
export function yesterday(timeZone: string, nowMs = Date.now()): string {
  const today = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date(nowMs));
  return new Date(Date.parse(`${today}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
}

function instant(text: string, flag: string): number {
  const seconds = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Date.parse(text) / 1000;
  if (!Number.isFinite(seconds))
    throw new ConfigError(`--${flag}: expected RFC 3339 or Unix seconds, got ${JSON.stringify(text)}`);
  return seconds;
}

function readSecret(file: string, flag: string, read: (file: string) => string): string {
  try {
    return read(file).trim();
  } catch (error) {
    throw new ConfigError(
      `--${flag}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
}

export async function resolveReportConfig(
  args: readonly string[],
  read: (file: string) => string,
): Promise<ReportConfig> {
  const resolved = await resolveSettings(args, Object.values(REPORT_SETTINGS) as Setting[]);
  const get = <T>(s: Setting<T>): T => settingValue(resolved, s);
  const s = REPORT_SETTINGS;
  const url = get(s.prometheusUrl);
  if (url === '') throw new ConfigError('--prometheus.url is required');
  const outputDir = get(s.outputDir);
  if (outputDir === '') throw new ConfigError('--output.dir is required');
  const timeZone = get(s.timezone);
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new ConfigError(`--timezone: unknown time zone ${JSON.stringify(timeZone)}`);
  }

  let window: ReportConfig['window'];
  if (get(s.from) !== '' || get(s.to) !== '') {
    if (get(s.from) === '' || get(s.to) === '' || get(s.date) !== '') {
      throw new ConfigError('--from and --to go together, and not with --date');
    }
    const from = instant(get(s.from), 'from');
    const to = instant(get(s.to), 'to');
    if (!(to > from)) throw new ConfigError('--to must be after --from');
    window = { label: new Date(from * 1000).toISOString().slice(0, 10), from, to };
  } else {
    const date = get(s.date) || yesterday(timeZone);
    const parsed = Date.parse(`${date}T00:00:00Z`);
    // Date.parse rolls 2026-02-30 over to March: only a date that reads back the same is a real day.
    if (
      !/^\d{4}-\d{2}-\d{2}$/.test(date) ||
      Number.isNaN(parsed) ||
      new Date(parsed).toISOString().slice(0, 10) !== date
    ) {
      throw new ConfigError(`--date: expected YYYY-MM-DD, got ${JSON.stringify(date)}`);
    }
    window = { label: date, from: midnight(date, timeZone), to: midnight(nextDate(date), timeZone) };
  }

  const bearer = get(s.bearerTokenFile);
  const username = get(s.username);
  const auth =
    bearer !== ''
      ? { bearer: readSecret(bearer, s.bearerTokenFile.key, read) }
      : username !== ''
        ? {
            username,
            password:
              get(s.passwordFile) === '' ? '' : readSecret(get(s.passwordFile), s.passwordFile.key, read),
          }
        : undefined;

  const mapFile = get(s.computerMap);
  const computerMap = new Map<string, string>();
  if (mapFile !== '') {
    const { parse } = await import('yaml');
    const parsed = parse(readSecret(mapFile, s.computerMap.key, read)) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(`${mapFile}: expected a mapping of label values to computer ids`);
    }
    for (const [value, id] of Object.entries(parsed)) computerMap.set(value, String(id));
  }

  const uploadUrl = get(s.uploadUrl);
  return {
    prometheus: {
      url,
      timeoutMs: get(s.prometheusTimeout),
      retries: get(s.prometheusRetries),
      gzip: get(s.prometheusGzip),
      ...(auth && { auth }),
    },
    window,
    outputDir,
    computerLabel: get(s.computerLabel),
    computersPerQuery: get(s.computersPerQuery),
    computerMap,
    profile: get(s.profile),
    minCoverage: get(s.minCoverage),
    maxGapSeconds: get(s.maxGap) / 1000,
    force: get(s.force),
    ...(uploadUrl !== '' && { upload: { url: uploadUrl, retries: get(s.uploadRetries) } }),
  };
}

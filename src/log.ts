// Structured logs on stderr, logfmt by default (as node_exporter) or JSON lines for log collectors.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'logfmt' | 'json';
export type LogFields = Record<string, string | number | boolean | undefined>;

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

function logfmtValue(value: string | number | boolean): string {
  const text = String(value);
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}

export function createLogger(
  level: LogLevel = 'info',
  format: LogFormat = 'logfmt',
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const emit = (at: LogLevel, msg: string, fields: LogFields = {}): void => {
    if (LEVEL_ORDER[at] < LEVEL_ORDER[level]) return;
    const record: Record<string, string | number | boolean> = {
      ts: new Date().toISOString(),
      level: at,
      msg,
    };
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) record[key] = value;
    write(
      format === 'json'
        ? `${JSON.stringify(record)}\n`
        : `${Object.entries(record)
            .map(([key, value]) => `${key}=${logfmtValue(value)}`)
            .join(' ')}\n`,
    );
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}

/** A logger that drops everything, for tests and for library use. */
export const silentLogger: Logger = createLogger('error', 'logfmt', () => {});

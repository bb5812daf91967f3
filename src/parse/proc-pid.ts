import { ParseError, parseCount } from './parse-error.ts';

/** The fields of /proc/PID/stat that per-process accounting needs. */
export interface PidStat {
  readonly pid: number;
  readonly comm: string;
  readonly state: string;
  readonly ppid: number;
  readonly minorFaults: number;
  readonly childMinorFaults: number;
  readonly majorFaults: number;
  readonly childMajorFaults: number;
  /** Clock ticks (USER_HZ = 100). */
  readonly userTicks: number;
  readonly systemTicks: number;
  readonly childUserTicks: number;
  readonly childSystemTicks: number;
  readonly threads: number;
  /** Ticks since boot. */
  readonly startTicks: number;
  /** Pages. */
  readonly rssPages: number;
}

// Positions in the fields after the comm: proc(5) numbers them from 1 with state at 3.
const STATE = 0;
const field = (n: number): number => n - 3;
const RSS = field(24);

/** Parses /proc/PID/stat: `1234 (comm) S 1 ...`. */
export function parsePidStat(text: string): PidStat {
  const source = 'pid/stat';
  // The comm is arbitrary (up to 15 bytes, any of them ' ' or ')'), so it ends at the last ')'.
  const open = text.indexOf(' (');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new ParseError(source, 'no `pid (comm)` prefix');
  const rest = text
    .slice(close + 2)
    .trimEnd()
    .split(' ');
  if (rest.length <= RSS) throw new ParseError(source, `expected at least 24 fields, got ${rest.length + 2}`);
  const state = rest[STATE] ?? '';
  if (!/^[A-Za-z]$/.test(state)) throw new ParseError(source, `state: unexpected ${JSON.stringify(state)}`);
  const count = (n: number, what: string): number => parseCount(rest[field(n)], source, what);
  return {
    pid: parseCount(text.slice(0, open), source, 'pid'),
    comm: text.slice(open + 2, close),
    state,
    ppid: count(4, 'ppid'),
    minorFaults: count(10, 'minflt'),
    childMinorFaults: count(11, 'cminflt'),
    majorFaults: count(12, 'majflt'),
    childMajorFaults: count(13, 'cmajflt'),
    userTicks: count(14, 'utime'),
    systemTicks: count(15, 'stime'),
    childUserTicks: count(16, 'cutime'),
    childSystemTicks: count(17, 'cstime'),
    threads: count(20, 'num_threads'),
    startTicks: count(22, 'starttime'),
    rssPages: count(24, 'rss'),
  };
}

export interface PidStatus {
  readonly realUid: number;
  readonly effectiveUid: number;
  readonly voluntaryContextSwitches: number;
  readonly involuntaryContextSwitches: number;
  /**
   * VmRSS in bytes; 0 for kernel threads and zombies, which have none. Exact, unlike the rss field of
   * /proc/PID/stat, which recent kernels take from per-CPU counters without folding them in (0.4–0.9%
   * low per partition in the integration test).
   */
  readonly residentBytes: number;
}

/**
 * The value after `key:\t` on its own line, or undefined when there is no such line. indexOf instead of
 * splitting: status has ~60 lines and a scrape reads it for every process.
 */
function statusValue(text: string, key: string): string | undefined {
  const prefix = `${key}:`;
  let start = prefix.length;
  if (!text.startsWith(prefix)) {
    const at = text.indexOf(`\n${prefix}`);
    if (at < 0) return undefined;
    start += at + 1;
  }
  const end = text.indexOf('\n', start);
  return text.slice(start, end < 0 ? text.length : end).trim();
}

/** Parses /proc/PID/status for the owner, the context switches and the resident memory. */
export function parsePidStatus(text: string): PidStatus {
  const source = 'pid/status';
  const uids = statusValue(text, 'Uid');
  if (uids === undefined) throw new ParseError(source, 'missing Uid line');
  // Uid: real, effective, saved set, filesystem.
  const [real, effective] = uids.split('\t');
  // The context switch lines appeared in Linux 2.6.23; an older kernel has none. Kernel threads have no VmRSS.
  const optionalCount = (key: string): number => {
    const value = statusValue(text, key);
    return value === undefined ? 0 : parseCount(value, source, key);
  };
  const rss = statusValue(text, 'VmRSS');
  return {
    realUid: parseCount(real, source, 'real uid'),
    effectiveUid: parseCount(effective, source, 'effective uid'),
    voluntaryContextSwitches: optionalCount('voluntary_ctxt_switches'),
    involuntaryContextSwitches: optionalCount('nonvoluntary_ctxt_switches'),
    residentBytes: rss === undefined ? 0 : parseCount(rss.replace(/\s*kB$/, ''), source, 'VmRSS') * 1024,
  };
}

export interface PidIo {
  readonly readChars: number;
  readonly writtenChars: number;
  readonly readSyscalls: number;
  readonly writeSyscalls: number;
  readonly readBytes: number;
  readonly writtenBytes: number;
  readonly cancelledWriteBytes: number;
}

const IO_KEYS: Readonly<Record<string, keyof PidIo>> = {
  rchar: 'readChars',
  wchar: 'writtenChars',
  syscr: 'readSyscalls',
  syscw: 'writeSyscalls',
  read_bytes: 'readBytes',
  write_bytes: 'writtenBytes',
  cancelled_write_bytes: 'cancelledWriteBytes',
};

/** Parses /proc/PID/io: `rchar: 37106` lines. */
export function parsePidIo(text: string): PidIo {
  const source = 'pid/io';
  const io: Partial<Record<keyof PidIo, number>> = {};
  text.split('\n').forEach((line, index) => {
    const colon = line.indexOf(':');
    const key = IO_KEYS[line.slice(0, colon)];
    if (colon > 0 && key !== undefined)
      io[key] = parseCount(line.slice(colon + 1).trim(), source, key, index + 1);
  });
  for (const [name, key] of Object.entries(IO_KEYS)) {
    if (io[key] === undefined) throw new ParseError(source, `missing ${name} line`);
  }
  return io as PidIo;
}

/** Parses /proc/PID/environ: NUL-separated `KEY=VALUE` entries. */
export function parseEnviron(text: string): ReadonlyMap<string, string> {
  const environ = new Map<string, string>();
  for (const entry of text.split('\0')) {
    const equals = entry.indexOf('=');
    // A process may put anything in its environment block; entries without a name are not variables.
    // The first of duplicate names wins, as it does for getenv(3).
    if (equals > 0) {
      const name = entry.slice(0, equals);
      if (!environ.has(name)) environ.set(name, entry.slice(equals + 1));
    }
  }
  return environ;
}

/** Parses /proc/PID/cmdline: NUL-separated arguments, empty for kernel threads and zombies. */
export function parseCmdline(text: string): string {
  return (text.endsWith('\0') ? text.slice(0, -1) : text).split('\0').join(' ');
}

/**
 * The cgroup that identifies the process in /proc/PID/cgroup (`ID:controllers:path` lines): the unified
 * (v2) hierarchy when there is one, else the v1 cpu controller's, else the first hierarchy's.
 */
export function parsePidCgroup(text: string): string {
  const source = 'pid/cgroup';
  let cpu: string | undefined;
  let first: string | undefined;
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (line === '') continue;
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    // The path itself may contain ':', so only the first two separate fields.
    if (a <= 0 || b < 0) throw new ParseError(source, 'expected `ID:controllers:path`', index + 1);
    const controllers = line.slice(a + 1, b);
    const path = line.slice(b + 1);
    if (line.slice(0, a) === '0' && controllers === '') return path;
    if (cpu === undefined && controllers.split(',').includes('cpu')) cpu = path;
    first ??= path;
  }
  return cpu ?? first ?? '';
}

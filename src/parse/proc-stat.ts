import { ParseError, parseCount } from './parse-error.ts';

/** Time one logical CPU spent in each mode since boot, in USER_HZ ticks. */
export interface CpuTicks {
  /** Includes guest time: the kernel adds it to user as well as to the guest column. */
  readonly user: number;
  /** Includes guest_nice time, as user includes guest. */
  readonly nice: number;
  readonly system: number;
  readonly idle: number;
  readonly iowait: number;
  readonly irq: number;
  readonly softirq: number;
  readonly steal: number;
}

export interface ProcStat {
  /** One entry per online logical CPU (offline CPUs have no line), keyed by the N of `cpuN`. */
  readonly cpus: ReadonlyArray<{ readonly cpu: number; readonly ticks: CpuTicks }>;
  readonly contextSwitches: number;
  /** Processes and threads created since boot. */
  readonly processesCreated: number;
  readonly procsRunning: number;
  readonly procsBlocked: number;
  /** Boot time in Unix seconds (`btime`). */
  readonly bootTime: number;
}

const SOURCE = 'stat';
const MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;
const SCALARS = new Set(['ctxt', 'processes', 'procs_running', 'procs_blocked', 'btime']);

function parseCpuLine(fields: readonly string[], line: number): CpuTicks {
  // The eight modes through steal exist since Linux 2.6.11; guest columns after them are ignored.
  if (fields.length < MODES.length + 1) {
    throw new ParseError(
      SOURCE,
      `${fields[0]}: expected ${MODES.length} times, got ${fields.length - 1}`,
      line,
    );
  }
  const ticks = {} as Record<(typeof MODES)[number], number>;
  MODES.forEach((mode, i) => {
    ticks[mode] = parseCount(fields[i + 1], SOURCE, `${fields[0]} ${mode}`, line);
  });
  return ticks;
}

/** Parses /proc/stat: per-CPU times, context switches, forks, the run/blocked queue and the boot time. */
export function parseProcStat(text: string): ProcStat {
  const cpus: { cpu: number; ticks: CpuTicks }[] = [];
  const scalars = new Map<string, number>();
  text.split('\n').forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    const key = fields[0] ?? '';
    const cpu = /^cpu(\d+)$/.exec(key);
    if (cpu) {
      cpus.push({ cpu: Number(cpu[1]), ticks: parseCpuLine(fields, index + 1) });
    } else if (SCALARS.has(key)) {
      scalars.set(key, parseCount(fields[1], SOURCE, key, index + 1));
    }
  });
  if (cpus.length === 0) throw new ParseError(SOURCE, 'no cpuN lines');
  const scalar = (key: string): number => {
    const value = scalars.get(key);
    if (value === undefined) throw new ParseError(SOURCE, `missing ${key} line`);
    return value;
  };
  return {
    cpus,
    contextSwitches: scalar('ctxt'),
    processesCreated: scalar('processes'),
    procsRunning: scalar('procs_running'),
    procsBlocked: scalar('procs_blocked'),
    bootTime: scalar('btime'),
  };
}

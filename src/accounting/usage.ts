// The cumulative quantities accounted per process and per partition.

export const USAGE_KEYS = [
  'cpuUser',
  'cpuSystem',
  'readBytes',
  'writtenBytes',
  'readSyscalls',
  'writeSyscalls',
  'minorFaults',
  'majorFaults',
  'voluntarySwitches',
  'involuntarySwitches',
] as const;

export type UsageKey = (typeof USAGE_KEYS)[number];

/** CPU in seconds, bytes, and counts: all cumulative. */
export type Usage = Record<UsageKey, number>;

export const zeroUsage = (): Usage => Object.fromEntries(USAGE_KEYS.map((key) => [key, 0])) as Usage;

export function addUsage(target: Usage, delta: Partial<Usage>): void {
  for (const key of USAGE_KEYS) target[key] += delta[key] ?? 0;
}

/**
 * How the kernel hands a reaped child's usage to its parent (kernel/exit.c, wait_task_zombie):
 * - `children`: added to the parent's separate children fields (`cutime`, `cstime`, `cminflt`, `cmajflt`
 *   of /proc/PID/stat); the child's whole lifetime (own + its own children) moves.
 * - `own`: added to the parent's own counters (/proc/PID/io folds reaped children's I/O into the parent's).
 * - `none`: not visible in /proc (context switches of children go to a field /proc does not show).
 */
export const REAP: Readonly<Record<UsageKey, 'children' | 'own' | 'none'>> = {
  cpuUser: 'children',
  cpuSystem: 'children',
  minorFaults: 'children',
  majorFaults: 'children',
  readBytes: 'own',
  writtenBytes: 'own',
  readSyscalls: 'own',
  writeSyscalls: 'own',
  voluntarySwitches: 'none',
  involuntarySwitches: 'none',
};

export const CPU_KEYS = ['cpuUser', 'cpuSystem'] as const satisfies readonly UsageKey[];

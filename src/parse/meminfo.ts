import { ParseError, parseCount } from './parse-error.ts';

/** The /proc/meminfo fields hostmeter uses, in bytes. */
export interface Meminfo {
  readonly memTotal: number;
  readonly memFree: number;
  /** The kernel's estimate of memory available without swapping; absent before Linux 3.14. */
  readonly memAvailable: number | undefined;
  readonly buffers: number;
  /** Page cache, excluding swap cache; includes Shmem. */
  readonly cached: number;
  /** Slab memory the kernel can reclaim (dentries, inodes). */
  readonly sReclaimable: number;
  /** tmpfs and shared anonymous memory. */
  readonly shmem: number;
  readonly swapTotal: number;
  readonly swapFree: number;
}

const SOURCE = 'meminfo';

/** Parses /proc/meminfo lines such as `MemTotal:       24684092 kB` (`kB` means KiB) or `HugePages_Total: 0`. */
export function parseMeminfo(text: string): Meminfo {
  const values = new Map<string, number>();
  text.split('\n').forEach((raw, index) => {
    if (raw === '') return;
    const match = /^([^:\s]+):\s*(\S*)(?: (kB))?$/.exec(raw);
    if (!match) throw new ParseError(SOURCE, `unexpected line ${JSON.stringify(raw)}`, index + 1);
    const [, key = '', number, unit] = match;
    values.set(key, parseCount(number, SOURCE, key, index + 1) * (unit === 'kB' ? 1024 : 1));
  });
  const bytes = (key: string): number => {
    const value = values.get(key);
    if (value === undefined) throw new ParseError(SOURCE, `missing ${key}`);
    return value;
  };
  return {
    memTotal: bytes('MemTotal'),
    memFree: bytes('MemFree'),
    memAvailable: values.get('MemAvailable'),
    buffers: bytes('Buffers'),
    cached: bytes('Cached'),
    sReclaimable: bytes('SReclaimable'),
    shmem: bytes('Shmem'),
    swapTotal: bytes('SwapTotal'),
    swapFree: bytes('SwapFree'),
  };
}

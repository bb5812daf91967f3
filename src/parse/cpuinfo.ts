import { ParseError, parseCount, parseDecimal } from './parse-error.ts';

/** The fields of one /proc/cpuinfo processor block that hostmeter uses; each is absent on some architectures. */
export interface CpuinfoProcessor {
  /** Logical CPU number, the N of /proc/stat's `cpuN`. */
  readonly processor: number;
  /** Socket (x86 `physical id`). */
  readonly physicalId: number | undefined;
  readonly coreId: number | undefined;
  /** Current clock in MHz (x86 `cpu MHz`). */
  readonly mhz: number | undefined;
}

const SOURCE = 'cpuinfo';

/**
 * Parses /proc/cpuinfo into its processor blocks. Blocks without a `processor` key (the arm `Hardware`
 * trailer, s390's different layout) are skipped, so a non-empty file may yield no processors.
 */
export function parseCpuinfo(text: string): CpuinfoProcessor[] {
  if (text.trim() === '') throw new ParseError(SOURCE, 'empty file');
  const processors: CpuinfoProcessor[] = [];
  let current: { -readonly [K in keyof CpuinfoProcessor]: CpuinfoProcessor[K] } | undefined;
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') {
      current = undefined;
      return;
    }
    const colon = raw.indexOf(':');
    if (colon < 0) throw new ParseError(SOURCE, `expected "key: value", got ${JSON.stringify(raw)}`, line);
    const key = raw.slice(0, colon).trim();
    const value = raw.slice(colon + 1).trim();
    if (key === 'processor') {
      current = {
        processor: parseCount(value, SOURCE, key, line),
        physicalId: undefined,
        coreId: undefined,
        mhz: undefined,
      };
      processors.push(current);
    } else if (current === undefined) {
      return;
    } else if (key === 'physical id') {
      current.physicalId = parseCount(value, SOURCE, key, line);
    } else if (key === 'core id') {
      current.coreId = parseCount(value, SOURCE, key, line);
    } else if (key === 'cpu MHz') {
      current.mhz = parseDecimal(value, SOURCE, key, line);
    }
  });
  return processors;
}

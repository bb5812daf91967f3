import { ParseError, parseCount } from './parse-error.ts';

/** Counters of one block device; sectors are always 512 bytes in this file, whatever the device's sector size. */
export interface DiskStats {
  readonly major: number;
  readonly minor: number;
  readonly name: string;
  readonly readsCompleted: number;
  readonly readsMerged: number;
  readonly sectorsRead: number;
  readonly readMs: number;
  readonly writesCompleted: number;
  readonly writesMerged: number;
  readonly sectorsWritten: number;
  readonly writeMs: number;
  readonly inProgress: number;
  readonly ioMs: number;
  readonly weightedIoMs: number;
}

// The 11 counters every kernel since 2.6.25 prints; discard (4.18) and flush (5.5) counters that
// follow them are not exported, so their absence on older kernels does not matter.
const STAT_FIELDS = 11;

/** Parses /proc/diskstats: `254 0 vda 33780 8238 2217418 15476 7554 14628 1941872 4437 0 4764 20265 ...`. */
export function parseDiskstats(text: string): DiskStats[] {
  const devices: DiskStats[] = [];
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    const fields = line.trim().split(/\s+/);
    if (fields.length === 1 && fields[0] === '') continue;
    const lineNo = index + 1;
    if (fields.length < 3 + STAT_FIELDS) {
      throw new ParseError(
        'diskstats',
        `expected at least ${3 + STAT_FIELDS} fields, got ${fields.length}`,
        lineNo,
      );
    }
    const n = (i: number, what: string): number => parseCount(fields[i], 'diskstats', what, lineNo);
    devices.push({
      major: n(0, 'major'),
      minor: n(1, 'minor'),
      name: fields[2] ?? '',
      readsCompleted: n(3, 'reads completed'),
      readsMerged: n(4, 'reads merged'),
      sectorsRead: n(5, 'sectors read'),
      readMs: n(6, 'ms reading'),
      writesCompleted: n(7, 'writes completed'),
      writesMerged: n(8, 'writes merged'),
      sectorsWritten: n(9, 'sectors written'),
      writeMs: n(10, 'ms writing'),
      inProgress: n(11, 'I/Os in progress'),
      ioMs: n(12, 'ms doing I/O'),
      weightedIoMs: n(13, 'weighted ms doing I/O'),
    });
  }
  if (devices.length === 0) throw new ParseError('diskstats', 'no devices');
  return devices;
}

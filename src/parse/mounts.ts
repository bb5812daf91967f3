import { ParseError } from './parse-error.ts';

export interface Mount {
  readonly device: string;
  readonly mountPoint: string;
  readonly fsType: string;
  readonly options: readonly string[];
}

// The kernel escapes space, tab, newline and backslash as 3-digit octal so fields stay space-separated.
const unescapeOctal = (field: string): string =>
  field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));

/** Parses /proc/mounts (fstab format): `/dev/vda / ext4 rw,relatime 0 0`. */
export function parseMounts(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const fields = line.trim().split(/\s+/);
    const [device, mountPoint, fsType, options] = fields;
    if (device === undefined || mountPoint === undefined || fsType === undefined || options === undefined) {
      throw new ParseError('mounts', `expected at least 4 fields, got ${fields.length}`, index + 1);
    }
    if (!mountPoint.startsWith('/')) {
      throw new ParseError('mounts', `mount point is not absolute: ${JSON.stringify(mountPoint)}`, index + 1);
    }
    mounts.push({
      device: unescapeOctal(device),
      mountPoint: unescapeOctal(mountPoint),
      fsType: unescapeOctal(fsType),
      options: unescapeOctal(options).split(','),
    });
  }
  if (mounts.length === 0) throw new ParseError('mounts', 'no mounts');
  return mounts;
}

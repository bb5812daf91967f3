import { UTMP_RECORD_SIZE } from '../../src/parse/utmp.ts';

export interface FakeUtmpRecord {
  readonly type: number;
  readonly pid?: number;
  readonly line?: string;
  readonly id?: string;
  readonly user?: string;
  readonly host?: string;
  readonly time?: number;
}

/**
 * Builds a utmp file in the glibc x86_64 layout: this machine has no utmp to capture, so the test
 * data is written field by field at the offsets of <bits/utmp.h>.
 */
export function buildUtmp(records: readonly FakeUtmpRecord[]): Buffer {
  const data = Buffer.alloc(records.length * UTMP_RECORD_SIZE);
  for (const [index, record] of records.entries()) {
    const at = index * UTMP_RECORD_SIZE;
    data.writeInt16LE(record.type, at);
    data.writeInt32LE(record.pid ?? 0, at + 4);
    data.write(record.line ?? '', at + 8, 32, 'utf8');
    data.write(record.id ?? '', at + 40, 4, 'utf8');
    data.write(record.user ?? '', at + 44, 32, 'utf8');
    data.write(record.host ?? '', at + 76, 256, 'utf8');
    data.writeInt32LE(record.time ?? 0, at + 340);
  }
  return data;
}

// utmp(5) as glibc writes it on 64-bit Linux (x86_64, arm64, and 32-bit ABIs with the compat layout):
// fixed 384-byte little-endian records.
//
//   offset  field       type
//        0  ut_type     int16 (+2 bytes padding)
//        4  ut_pid      int32
//        8  ut_line     char[32]   tty device, without /dev/
//       40  ut_id       char[4]
//       44  ut_user     char[32]
//       76  ut_host     char[256]
//      332  ut_exit     2 × int16
//      336  ut_session  int32
//      340  ut_tv       int32 seconds, int32 microseconds
//      348  ut_addr_v6  4 × int32
//      364  reserved    20 bytes

import { ParseError } from './parse-error.ts';

export const UTMP_RECORD_SIZE = 384;

/** ut_type values from <utmp.h>. */
export const UtmpType = {
  EMPTY: 0,
  RUN_LVL: 1,
  BOOT_TIME: 2,
  NEW_TIME: 3,
  OLD_TIME: 4,
  INIT_PROCESS: 5,
  LOGIN_PROCESS: 6,
  USER_PROCESS: 7,
  DEAD_PROCESS: 8,
  ACCOUNTING: 9,
} as const;

export interface UtmpRecord {
  readonly type: number;
  readonly pid: number;
  readonly line: string;
  readonly id: string;
  readonly user: string;
  readonly host: string;
  /** Unix seconds of the login (or of the event, for BOOT_TIME and the like). */
  readonly time: number;
}

/** Decodes a utmp file. An empty file has no records, which is what utmp holds before any login. */
export function parseUtmp(data: Uint8Array): UtmpRecord[] {
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const records: UtmpRecord[] = [];
  // A trailing partial record is ignored rather than rejected: login programs write records in
  // place without locking readers out, so a read can land in the middle of an append. The complete
  // records before it are valid, and the next scrape sees the finished one.
  const complete = Math.floor(view.length / UTMP_RECORD_SIZE);
  for (let index = 0; index < complete; index++) {
    const at = index * UTMP_RECORD_SIZE;
    const type = view.readInt16LE(at);
    if (type < UtmpType.EMPTY || type > UtmpType.ACCOUNTING) {
      // Anything else means this is not a glibc 64-bit utmp file (another libc, or big-endian).
      throw new ParseError('utmp', `record ${index}: unknown ut_type ${type}`);
    }
    records.push({
      type,
      pid: view.readInt32LE(at + 4),
      line: cString(view, at + 8, 32),
      id: cString(view, at + 40, 4),
      user: cString(view, at + 44, 32),
      host: cString(view, at + 76, 256),
      time: view.readInt32LE(at + 340),
    });
  }
  return records;
}

/** A fixed-size field, NUL-terminated unless it fills the whole field. */
function cString(view: Buffer, start: number, size: number): string {
  const field = view.subarray(start, start + size);
  const end = field.indexOf(0);
  return field.toString('utf8', 0, end < 0 ? size : end);
}

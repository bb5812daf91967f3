import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParseError } from '../../src/parse/parse-error.ts';
import { parseUtmp, UTMP_RECORD_SIZE, UtmpType } from '../../src/parse/utmp.ts';
import { buildUtmp } from '../helpers/utmp.ts';

const RECORDS = [
  { type: UtmpType.BOOT_TIME, line: '~', id: '~~', user: 'reboot', host: '6.18.44', time: 1795314268 },
  { type: UtmpType.LOGIN_PROCESS, pid: 612, line: 'tty1', id: 'tty1', user: 'LOGIN', time: 1795314270 },
  {
    type: UtmpType.USER_PROCESS,
    pid: 4242,
    line: 'pts/0',
    id: 'ts/0',
    user: 'alice',
    host: '10.0.0.7',
    time: 1795315000,
  },
  { type: UtmpType.DEAD_PROCESS, pid: 4300, line: 'pts/1', id: 'ts/1', time: 1795315100 },
];

describe('parseUtmp', () => {
  it('decodes every field of glibc x86_64 records', () => {
    assert.deepEqual(parseUtmp(buildUtmp(RECORDS)), [
      { type: 2, pid: 0, line: '~', id: '~~', user: 'reboot', host: '6.18.44', time: 1795314268 },
      { type: 6, pid: 612, line: 'tty1', id: 'tty1', user: 'LOGIN', host: '', time: 1795314270 },
      { type: 7, pid: 4242, line: 'pts/0', id: 'ts/0', user: 'alice', host: '10.0.0.7', time: 1795315000 },
      { type: 8, pid: 4300, line: 'pts/1', id: 'ts/1', user: '', host: '', time: 1795315100 },
    ]);
  });

  it('reads a field that fills its whole width without a NUL terminator', () => {
    const user = 'u'.repeat(32);
    const [record] = parseUtmp(buildUtmp([{ type: UtmpType.USER_PROCESS, user, host: 'h' }]));
    assert.equal(record?.user, user);
    assert.equal(record?.host, 'h');
  });

  it('returns no records for an empty file', () => {
    assert.deepEqual(parseUtmp(Buffer.alloc(0)), []);
  });

  it('ignores a trailing partial record caught mid-write', () => {
    const data = buildUtmp(RECORDS).subarray(0, 2 * UTMP_RECORD_SIZE + 100);
    assert.equal(parseUtmp(data).length, 2);
  });

  it('decodes a view into a larger buffer at its own offset', () => {
    const data = Buffer.concat([Buffer.alloc(16, 0xff), buildUtmp(RECORDS)]).subarray(16);
    assert.equal(parseUtmp(data)[2]?.user, 'alice');
  });

  it('rejects garbled records with a ParseError', () => {
    const data = buildUtmp(RECORDS);
    data.writeInt16LE(0x4142, UTMP_RECORD_SIZE);
    assert.throws(() => parseUtmp(data), ParseError);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNetTcp } from '../../src/parse/net-tcp.ts';
import { ParseError } from '../../src/parse/parse-error.ts';
import { fixture } from '../helpers/fixtures.ts';

const HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const ZEROS = {
  established: 0,
  syn_sent: 0,
  syn_recv: 0,
  fin_wait1: 0,
  fin_wait2: 0,
  time_wait: 0,
  close: 0,
  close_wait: 0,
  last_ack: 0,
  listen: 0,
  closing: 0,
  new_syn_recv: 0,
};

describe('parseNetTcp', () => {
  it('counts the IPv4 capture from this machine by state', () => {
    assert.deepEqual(parseNetTcp(fixture('proc/net/tcp')), {
      ...ZEROS,
      listen: 2,
      established: 2,
      time_wait: 1,
    });
  });

  it('counts the IPv6 capture from this machine by state', () => {
    assert.deepEqual(parseNetTcp(fixture('proc/net/tcp6'), 'net/tcp6'), {
      ...ZEROS,
      listen: 1,
      established: 2,
      time_wait: 1,
    });
  });

  it('gives every state a zero when there are no sockets', () => {
    assert.deepEqual(parseNetTcp(HEADER), ZEROS);
  });

  it('ignores state codes it does not know', () => {
    const line = '   0: 0100007F:8757 00000000:0000 0D 00000000:00000000 00:00000000 00000000 0 0 1 1\n';
    assert.deepEqual(parseNetTcp(HEADER + line), ZEROS);
  });

  for (const [name, text] of [
    ['empty', ''],
    ['headerless', '   0: 0100007F:8757 00000000:0000 0A 00000000:00000000\n'],
    ['truncated', `${HEADER}   0: 0100007F:8757 00000000:0000`],
    ['garbled', `${HEADER}   0: 0100007F:8757 00000000:0000 ZZ 00000000:00000000\n`],
  ] as const) {
    it(`rejects ${name} input with a ParseError`, () => {
      assert.throws(() => parseNetTcp(text), ParseError);
    });
  }
});

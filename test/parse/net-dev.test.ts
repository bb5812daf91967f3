import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNetDev } from '../../src/parse/net-dev.ts';
import { ParseError } from '../../src/parse/parse-error.ts';
import { fixture } from '../helpers/fixtures.ts';

const HEADER = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
`;

describe('parseNetDev', () => {
  it('reads the capture from this machine', () => {
    const interfaces = parseNetDev(fixture('proc/net/dev'));
    assert.deepEqual(
      interfaces.map((i) => i.name),
      ['lo', 'ifb0', 'ifb1', 'eth0'],
    );
    assert.deepEqual(interfaces[3], {
      name: 'eth0',
      receive: { bytes: 204007334, packets: 5179, errors: 0, dropped: 0 },
      transmit: { bytes: 278171, packets: 3029, errors: 0, dropped: 0 },
    });
  });

  it('reads counters that touch the colon', () => {
    const [eth] = parseNetDev(`${HEADER}eth0:12345678901 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n`);
    assert.deepEqual(eth, {
      name: 'eth0',
      receive: { bytes: 12345678901, packets: 2, errors: 3, dropped: 4 },
      transmit: { bytes: 9, packets: 10, errors: 11, dropped: 12 },
    });
  });

  for (const [name, text] of [
    ['empty', ''],
    ['header only', HEADER],
    ['truncated', `${HEADER}    lo:    3193      29    0    0    0     0`],
    ['garbled', `${HEADER}    lo:    3193      x29    0    0    0     0 0 0 3193 29 0 0 0 0 0 0`],
    ['missing colon', `${HEADER}    lo    3193      29    0    0    0     0 0 0 3193 29 0 0 0 0 0 0`],
  ] as const) {
    it(`rejects ${name} input with a ParseError`, () => {
      assert.throws(() => parseNetDev(text), ParseError);
    });
  }
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParseError } from '../../src/parse/parse-error.ts';
import { parseSockstat } from '../../src/parse/sockstat.ts';
import { fixture } from '../helpers/fixtures.ts';

describe('parseSockstat', () => {
  it('reads the IPv4 capture from this machine', () => {
    const sockstat = parseSockstat(fixture('proc/net/sockstat'));
    assert.deepEqual([...sockstat.keys()], ['sockets', 'TCP', 'UDP', 'UDPLITE', 'RAW', 'FRAG']);
    assert.deepEqual(
      sockstat.get('TCP'),
      new Map([
        ['inuse', 1],
        ['orphan', 0],
        ['tw', 0],
        ['alloc', 1],
        ['mem', 41],
      ]),
    );
  });

  it('reads the IPv6 capture from this machine', () => {
    const sockstat = parseSockstat(fixture('proc/net/sockstat6'), 'sockstat6');
    assert.deepEqual([...sockstat.keys()], ['TCP6', 'UDP6', 'UDPLITE6', 'RAW6', 'FRAG6']);
    assert.equal(sockstat.get('UDP6')?.get('inuse'), 0);
  });

  for (const [name, text] of [
    ['empty', ''],
    ['truncated', 'TCP: inuse 1 orphan'],
    ['garbled', 'TCP: inuse x1'],
    ['missing colon', 'TCP inuse 1'],
  ] as const) {
    it(`rejects ${name} input with a ParseError`, () => {
      assert.throws(() => parseSockstat(text), ParseError);
    });
  }
});

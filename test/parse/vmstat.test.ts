import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParseError } from '../../src/parse/parse-error.ts';
import { parseVmstat } from '../../src/parse/vmstat.ts';
import { fixture } from '../helpers/fixtures.ts';

describe('parseVmstat', () => {
  it('reads the capture from this machine', () => {
    assert.deepEqual(parseVmstat(fixture('proc/vmstat')), {
      swap: { pagesIn: 0, pagesOut: 0 },
      faults: { all: 1977639, major: 1238 },
    });
  });

  it('reports no event counters for a kernel built without them', () => {
    assert.deepEqual(parseVmstat('nr_free_pages 1212269\nnr_zone_inactive_anon 1203\n'), {
      swap: undefined,
      faults: undefined,
    });
  });

  for (const [name, text] of [
    ['empty', ''],
    ['truncated', 'nr_free_pages 1212269\npgfau'],
    ['garbled', 'pgfault 12x\npgmajfault 3\n'],
    ['with an extra field', 'pgfault 12 13\n'],
  ] as const) {
    it(`rejects ${name} input with a ParseError`, () => {
      assert.throws(() => parseVmstat(text), ParseError);
    });
  }
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLoadavg } from '../../src/parse/loadavg.ts';
import { ParseError } from '../../src/parse/parse-error.ts';
import { fixture } from '../helpers/fixtures.ts';

describe('parseLoadavg', () => {
  it('reads the capture from this machine', () => {
    const load = parseLoadavg(fixture('proc/loadavg'));
    assert.deepEqual(load, { load1: 0.33, load5: 0.28, load15: 0.11, runnable: 1, entities: 81 });
  });

  for (const [name, text] of [
    ['empty', ''],
    ['truncated', '0.59 0.32'],
    ['garbled', '0.59 abc 0.12 1/81 3188'],
    ['bad run queue', '0.59 0.32 0.12 1-81 3188'],
  ] as const) {
    it(`rejects ${name} input with a ParseError`, () => {
      assert.throws(() => parseLoadavg(text), ParseError);
    });
  }
});

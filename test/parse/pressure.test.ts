import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParseError } from '../../src/parse/parse-error.ts';
import { parsePressure } from '../../src/parse/pressure.ts';
import { fixture } from '../helpers/fixtures.ts';

describe('parsePressure', () => {
  it('reads the captures from this machine', () => {
    assert.deepEqual(parsePressure(fixture('proc/pressure/cpu'), 'pressure/cpu'), {
      some: 12671003,
      full: 0,
    });
    assert.deepEqual(parsePressure(fixture('proc/pressure/io'), 'pressure/io'), {
      some: 2732042,
      full: 2451218,
    });
    assert.deepEqual(parsePressure(fixture('proc/pressure/memory'), 'pressure/memory'), { some: 0, full: 0 });
  });

  it('reads files with a single line (cpu before Linux 5.13, irq)', () => {
    assert.deepEqual(parsePressure('some avg10=0.00 avg60=0.00 avg300=0.00 total=42\n', 'pressure/cpu'), {
      some: 42,
      full: undefined,
    });
    assert.deepEqual(parsePressure('full avg10=0.00 avg60=0.00 avg300=0.00 total=7\n', 'pressure/irq'), {
      some: undefined,
      full: 7,
    });
  });

  for (const [name, text] of [
    ['empty', ''],
    ['truncated', 'some avg10=2.22 avg60=0.93 avg3'],
    ['truncated inside the scope', 'som'],
    ['garbled', 'some avg10=2.22 avg60=0.93 avg300=1.82 total=12e6\n'],
  ] as const) {
    it(`rejects ${name} input with a ParseError`, () => {
      assert.throws(() => parsePressure(text, 'pressure/cpu'), ParseError);
    });
  }
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOsRelease } from '../../src/parse/os-release.ts';
import { ParseError } from '../../src/parse/parse-error.ts';
import { fixture } from '../helpers/fixtures.ts';

describe('parseOsRelease', () => {
  it('reads the capture from this machine', () => {
    const fields = parseOsRelease(fixture('etc/os-release'));
    assert.equal(fields.NAME, 'Debian GNU/Linux');
    assert.equal(fields.VERSION_ID, '12');
    assert.equal(fields.VERSION, '12 (bookworm)');
    assert.equal(fields.ID, 'debian');
  });

  it('accepts comments, blank lines, single quotes and escapes', () => {
    const text =
      '# generated\n\nNAME=Fedora\nVERSION=\'41 (Forty One)\'\nPRETTY_NAME="A \\"quoted\\" \\$name"\n';
    assert.deepEqual(parseOsRelease(text), {
      NAME: 'Fedora',
      VERSION: '41 (Forty One)',
      PRETTY_NAME: 'A "quoted" $name',
    });
  });

  for (const [name, text] of [
    ['empty', ''],
    ['truncated', 'NAME="Debian GNU/Li'],
    ['garbled', 'NAME="Debian"\nthis is not a variable\n'],
  ] as const) {
    it(`rejects ${name} input with a ParseError`, () => {
      assert.throws(() => parseOsRelease(text), ParseError);
    });
  }
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDiskstats } from '../../src/parse/diskstats.ts';
import { ParseError } from '../../src/parse/parse-error.ts';
import { fixture } from '../helpers/fixtures.ts';

describe('parseDiskstats', () => {
  it('reads the capture from this machine', () => {
    const devices = parseDiskstats(fixture('proc/diskstats'));
    assert.deepEqual(
      devices.map((d) => d.name),
      ['loop0', 'loop1', 'loop2', 'loop3', 'loop4', 'loop5', 'loop6', 'loop7', 'vda', 'zram0'],
    );
    assert.deepEqual(
      devices.find((d) => d.name === 'vda'),
      {
        major: 254,
        minor: 0,
        name: 'vda',
        readsCompleted: 35540,
        readsMerged: 8655,
        sectorsRead: 2679130,
        readMs: 17063,
        writesCompleted: 7594,
        writesMerged: 14665,
        sectorsWritten: 1942496,
        writeMs: 4458,
        inProgress: 0,
        ioMs: 5100,
        weightedIoMs: 21876,
      },
    );
  });

  it('accepts kernels older than 4.18 without discard and flush counters', () => {
    const [sda] = parseDiskstats('   8       0 sda 1 2 3 4 5 6 7 8 9 10 11\n');
    assert.equal(sda?.weightedIoMs, 11);
  });

  for (const [name, text] of [
    ['empty', ''],
    ['truncated', ' 254 0 vda 33780 8238 2217418 15476 7554'],
    ['garbled', ' 254 0 vda 33780 8238 abc 15476 7554 14628 1941872 4437 0 4764 20265'],
    ['negative', ' 254 0 vda 33780 8238 -1 15476 7554 14628 1941872 4437 0 4764 20265'],
  ] as const) {
    it(`rejects ${name} input with a ParseError`, () => {
      assert.throws(() => parseDiskstats(text), ParseError);
    });
  }
});

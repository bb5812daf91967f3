import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMeminfo } from '../../src/parse/meminfo.ts';
import { ParseError } from '../../src/parse/parse-error.ts';
import { fixture } from '../helpers/fixtures.ts';

const KiB = 1024;
const MINIMAL = [
  'MemTotal:       1000 kB',
  'MemFree:         400 kB',
  'Buffers:          10 kB',
  'Cached:          200 kB',
  'SwapTotal:       300 kB',
  'SwapFree:        100 kB',
  'Shmem:             5 kB',
  'SReclaimable:     20 kB',
  'HugePages_Total:   0',
  '',
].join('\n');

describe('parseMeminfo', () => {
  it('reads the capture from this machine', () => {
    assert.deepEqual(parseMeminfo(fixture('proc/meminfo')), {
      memTotal: 24684092 * KiB,
      memFree: 24233460 * KiB,
      memAvailable: 24242508 * KiB,
      buffers: 1696 * KiB,
      cached: 192244 * KiB,
      sReclaimable: 66568 * KiB,
      shmem: 8856 * KiB,
      swapTotal: 0,
      swapFree: 0,
    });
  });

  it('leaves MemAvailable undefined on kernels before 3.14', () => {
    const mem = parseMeminfo(MINIMAL);
    assert.equal(mem.memAvailable, undefined);
    assert.equal(mem.swapTotal, 300 * KiB);
  });

  for (const [name, text] of [
    ['empty', ''],
    ['truncated', MINIMAL.slice(0, MINIMAL.indexOf('SwapFree'))],
    ['truncated inside a line', 'MemTotal:       1000 kB\nMemFr'],
    ['garbled', MINIMAL.replace('400 kB', '4O0 kB')],
    ['in an unknown unit', MINIMAL.replace('400 kB', '400 MB')],
  ] as const) {
    it(`rejects ${name} input with a ParseError`, () => {
      assert.throws(() => parseMeminfo(text), ParseError);
    });
  }
});

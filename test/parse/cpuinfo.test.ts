import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCpuinfo } from '../../src/parse/cpuinfo.ts';
import { ParseError } from '../../src/parse/parse-error.ts';
import { fixture } from '../helpers/fixtures.ts';

describe('parseCpuinfo', () => {
  it('reads the capture from this machine', () => {
    assert.deepEqual(parseCpuinfo(fixture('proc/cpuinfo')), [
      { processor: 0, physicalId: 0, coreId: 0, mhz: 2299.998 },
      { processor: 1, physicalId: 0, coreId: 1, mhz: 2299.998 },
    ]);
  });

  it('reads arm64 blocks, which name neither socket, core nor clock', () => {
    const text =
      'processor\t: 0\nBogoMIPS\t: 48.00\nFeatures\t: fp asimd\n\nprocessor\t: 1\nBogoMIPS\t: 48.00\n\n';
    assert.deepEqual(parseCpuinfo(text), [
      { processor: 0, physicalId: undefined, coreId: undefined, mhz: undefined },
      { processor: 1, physicalId: undefined, coreId: undefined, mhz: undefined },
    ]);
  });

  it('ignores keys outside processor blocks (arm32 header and Hardware trailer)', () => {
    const text = 'Processor\t: ARMv7\n\nprocessor\t: 0\n\nHardware\t: BCM2835\nRevision\t: a02082\n';
    assert.deepEqual(parseCpuinfo(text), [
      { processor: 0, physicalId: undefined, coreId: undefined, mhz: undefined },
    ]);
  });

  for (const [name, text] of [
    ['empty', ''],
    ['truncated inside a key', 'processor\t: 0\nvendor_i'],
    ['truncated after a key', 'processor\t: '],
    ['garbled processor number', 'processor\t: zero\n'],
    ['garbled clock', 'processor\t: 0\ncpu MHz\t\t: fast\n'],
  ] as const) {
    it(`rejects ${name} input with a ParseError`, () => {
      assert.throws(() => parseCpuinfo(text), ParseError);
    });
  }
});

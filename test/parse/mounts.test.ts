import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMounts } from '../../src/parse/mounts.ts';
import { ParseError } from '../../src/parse/parse-error.ts';
import { fixture } from '../helpers/fixtures.ts';

describe('parseMounts', () => {
  it('reads the capture from this machine', () => {
    const mounts = parseMounts(fixture('proc/mounts'));
    assert.equal(mounts.length, 20);
    assert.deepEqual(
      mounts.find((m) => m.mountPoint === '/'),
      {
        device: '/dev/vda',
        mountPoint: '/',
        fsType: 'ext4',
        options: ['rw', 'relatime', 'discard', 'resv_strict', 'resuid=65534', 'resgid=65534'],
      },
    );
    assert.equal(mounts.filter((m) => m.mountPoint === '/dev/shm').length, 2);
  });

  it('unescapes octal escapes', () => {
    const [mount] = parseMounts('/dev/sdb1 /mnt/my\\040disk\\011tab\\134 ext4 ro,noatime 0 0\n');
    assert.equal(mount?.mountPoint, '/mnt/my disk\ttab\\');
    assert.deepEqual(mount?.options, ['ro', 'noatime']);
  });

  for (const [name, text] of [
    ['empty', ''],
    ['truncated', '/dev/vda / ext4'],
    ['garbled', '/dev/vda relative ext4 rw 0 0'],
  ] as const) {
    it(`rejects ${name} input with a ParseError`, () => {
      assert.throws(() => parseMounts(text), ParseError);
    });
  }
});

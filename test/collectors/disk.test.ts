import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  realpathSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { diskCollector } from '../../src/collectors/disk.ts';
import { readText } from '../../src/io/host-files.ts';
import { parseDiskstats } from '../../src/parse/diskstats.ts';
import { collectOnce, fakeHost, observed, testContext } from '../helpers/context.ts';

const DISKSTATS = `\
   7       0 loop0 10 0 20 0 0 0 0 0 0 0 0 0 0 0 0 0 0
 254       0 vda 33780 8238 2217418 15476 7554 14628 1941872 4437 3 4764 20265 4442 50 93896 295 981 56
 254       1 vda1 33000 8000 2200000 15000 7500 14600 1940000 4400 0 4700 20000 0 0 0 0 0 0
 259       0 nvme0n1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
 259       1 nvme0n1p1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
   8       0 sda 100 0 8 1500 200 0 16 2500 0 3000 4000
 253       0 zram0 1 0 8 0 1 0 8 0 0 0 0 0 0 0 0 0 0
 252       0 dm-0 5 0 40 0 6 0 48 0 0 0 0 0 0 0 0 0 0
`;

/** The whole-disk name in /proc/diskstats of the block device holding `path`, if it is on one. */
function diskOf(path: string): string | undefined {
  const dev = statSync(path, { bigint: true }).dev;
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  const name = parseDiskstats(readText('/proc/diskstats')).find(
    (d) => d.major === major && d.minor === minor,
  )?.name;
  if (name === undefined || !existsSync(`/sys/class/block/${name}/partition`)) return name;
  return basename(dirname(realpathSync(`/sys/class/block/${name}`)));
}

describe('disk collector', () => {
  it('converts sectors to bytes and milliseconds to seconds, and skips partitions and virtual devices', async () => {
    const out = await collectOnce(diskCollector, testContext(fakeHost({ 'proc/diskstats': DISKSTATS })));
    const devices = new Set(out.items.map((o) => o.attributes['system.device']));
    assert.deepEqual([...devices], ['vda', 'nvme0n1', 'sda', 'dm-0']);

    const read = { 'system.device': 'vda', 'disk.io.direction': 'read' };
    const write = { 'system.device': 'vda', 'disk.io.direction': 'write' };
    assert.equal(observed(out, 'system.disk.io', read), 2217418 * 512);
    assert.equal(observed(out, 'system.disk.io', write), 1941872 * 512);
    assert.equal(observed(out, 'system.disk.operations', read), 33780);
    assert.equal(observed(out, 'system.disk.operations', write), 7554);
    assert.equal(observed(out, 'system.disk.merged', read), 8238);
    assert.equal(observed(out, 'system.disk.merged', write), 14628);
    assert.equal(observed(out, 'system.disk.operation_time', read), 15.476);
    assert.equal(observed(out, 'system.disk.operation_time', write), 4.437);
    assert.equal(observed(out, 'system.disk.io_time', { 'system.device': 'vda' }), 4.764);
    assert.equal(observed(out, 'system.disk.weighted_io_time', { 'system.device': 'vda' }), 20.265);
    assert.equal(observed(out, 'system.disk.pending_operations', { 'system.device': 'vda' }), 3);
  });

  it('reads kernels older than 4.18 that print no discard or flush counters', async () => {
    const out = await collectOnce(diskCollector, testContext(fakeHost({ 'proc/diskstats': DISKSTATS })));
    const sda = out.items.filter((o) => o.attributes['system.device'] === 'sda');
    assert.equal(sda.length, 11);
    assert.equal(
      observed(out, 'system.disk.operation_time', {
        'system.device': 'sda',
        'disk.io.direction': 'write',
      }),
      2.5,
    );
  });

  it('fails when /proc/diskstats is missing', async () => {
    await assert.rejects(collectOnce(diskCollector, testContext(fakeHost({}))), /diskstats/);
  });

  it('counts the bytes this test writes and fsyncs on the real host', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-disk-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const disk = diskOf(dir);
    if (disk === undefined) {
      t.skip(`${dir} is not on a block device listed in /proc/diskstats (overlay or tmpfs)`);
      return;
    }
    const written = { 'system.device': disk, 'disk.io.direction': 'write' };
    const before = observed(await collectOnce(diskCollector, testContext()), 'system.disk.io', written);
    assert.notEqual(before, undefined, `no system.disk.io series for ${disk}`);

    const size = 8 * 1024 * 1024;
    const fd = openSync(join(dir, 'payload'), 'w');
    try {
      writeSync(fd, randomBytes(size));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }

    const after = observed(await collectOnce(diskCollector, testContext()), 'system.disk.io', written);
    assert.ok(
      after !== undefined && before !== undefined && after - before >= size,
      `${disk}: ${before} -> ${after}`,
    );
  });
});

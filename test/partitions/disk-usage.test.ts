import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createLogger, silentLogger } from '../../src/log.ts';
import { DiskUsageMonitor, measureTree } from '../../src/partitions/disk-usage.ts';

const HOUR_MS = 3_600_000;
const temps: string[] = [];
after(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hm-du-'));
  temps.push(dir);
  return dir;
}

/** A tree with a 1 MiB file, small files, a subdirectory wider than one read batch, a hard link and a symlink. */
function buildTree(): string {
  const root = tempDir();
  fs.writeFileSync(path.join(root, 'big'), Buffer.alloc(1024 * 1024, 1));
  for (let i = 0; i < 10; i++) fs.writeFileSync(path.join(root, `small-${i}`), 'x'.repeat(i * 700));
  fs.linkSync(path.join(root, 'big'), path.join(root, 'big-link'));
  fs.symlinkSync('/usr', path.join(root, 'usr'));
  const wide = path.join(root, 'a', 'b', 'wide');
  fs.mkdirSync(wide, { recursive: true });
  for (let i = 0; i < 300; i++)
    fs.writeFileSync(path.join(wide, `f${i}`), i % 3 === 0 ? 'y'.repeat(5000) : '');
  fs.mkdirSync(path.join(root, 'empty'));
  return root;
}

function du(dir: string): number {
  const out = execFileSync('du', ['-s', '-B1', '--one-file-system', dir], { encoding: 'utf8' });
  return Number(out.split('\t')[0]);
}

function captureLogger(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, log: createLogger('debug', 'logfmt', (line) => lines.push(line)) };
}

function monitor(clock: { ms: number }, concurrency = 1, log = silentLogger): DiskUsageMonitor {
  return new DiskUsageMonitor({ intervalMs: HOUR_MS, concurrency, log, now: () => clock.ms });
}

describe('measureTree', () => {
  it('equals du -s -B1 --one-file-system, hard links once, symlinks not followed', async () => {
    const root = buildTree();
    const result = await measureTree(root);
    assert.equal(result.bytes, du(root));
    assert.equal(result.unreadable, 0);
    assert.ok(
      result.bytes >= 1024 * 1024 && result.bytes < 2 * 1024 * 1024,
      `hard link counted once: ${result.bytes}`,
    );
  });

  it('measures a real system tree like du', async () => {
    const dir = '/usr/share/doc';
    if (!fs.existsSync(dir)) return;
    assert.equal((await measureTree(dir)).bytes, du(dir));
  });

  it('rejects with ENOENT for a missing root', async () => {
    await assert.rejects(measureTree(path.join(tempDir(), 'absent')), { code: 'ENOENT' });
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const walk = measureTree(buildTree(), controller.signal);
    controller.abort();
    await assert.rejects(walk, { name: 'AbortError' });
  });

  it('counts an unreadable directory and still sums the rest like du', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root to run the walk as another user');
    // Root reads through any permission, so the walk runs in a child process as nobody.
    const root = buildTree();
    fs.chmodSync(root, 0o755);
    fs.chmodSync(path.join(root, 'a'), 0o755);
    fs.chmodSync(path.join(root, 'a', 'b'), 0o000);
    const nobody = { uid: 65534, gid: 65534, encoding: 'utf8' as const };
    const moduleUrl = new URL('../../src/partitions/disk-usage.ts', import.meta.url).href;
    const script = `const { measureTree } = await import(${JSON.stringify(moduleUrl)});
      console.log(JSON.stringify(await measureTree(${JSON.stringify(root)})));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], nobody);
    if (child.status !== 0) return t.skip(`nobody cannot run the module: ${child.stderr}`);
    const duOut = spawnSync('du', ['-s', '-B1', '--one-file-system', root], nobody);
    assert.match(duOut.stderr, /Permission denied/);
    const result = JSON.parse(child.stdout) as { bytes: number; unreadable: number };
    assert.deepEqual(result, { bytes: Number(duOut.stdout.split('\t')[0]), unreadable: 1 });
  });
});

describe('DiskUsageMonitor', () => {
  it('walks one target at a time with concurrency 1 and stamps readings with the injected clock', async () => {
    const clock = { ms: 1_700_000_000_000 };
    const [one, two] = [buildTree(), buildTree()];
    const usage = monitor(clock);
    try {
      usage.setTargets(
        new Map([
          ['slappart1', one],
          ['slappart2', two],
        ]),
      );
      assert.equal(usage.runningPartitions().length, 1, 'first set starts a walk at once');
      usage.tick();
      assert.equal(usage.runningPartitions().length, 1);
      assert.equal(usage.readings().size, 0, 'no partial reading');
      await usage.idle();
      assert.deepEqual([...usage.readings().keys()].sort(), ['slappart1', 'slappart2']);
      assert.deepEqual(usage.readings().get('slappart1'), {
        bytes: du(one),
        measuredAt: 1_700_000_000,
        unreadable: 0,
      });
      assert.equal(usage.readings().get('slappart2')?.bytes, du(two));
    } finally {
      usage.close();
    }
  });

  it('never walks the same partition twice at once', async () => {
    const clock = { ms: 0 };
    const usage = monitor(clock, 4);
    try {
      usage.setTargets(new Map([['slappart1', buildTree()]]));
      usage.tick();
      clock.ms += HOUR_MS;
      usage.tick();
      assert.deepEqual(usage.runningPartitions(), ['slappart1']);
      await usage.idle();
    } finally {
      usage.close();
    }
  });

  it('walks again only after the interval', async () => {
    const clock = { ms: 1_000_000 };
    const root = buildTree();
    const usage = monitor(clock, 2);
    try {
      usage.setTargets(new Map([['slappart1', root]]));
      await usage.idle();
      const first = usage.readings().get('slappart1');
      assert.equal(first?.measuredAt, 1_000);
      usage.tick();
      assert.deepEqual(usage.runningPartitions(), []);
      clock.ms += HOUR_MS - 1;
      usage.tick();
      assert.deepEqual(usage.runningPartitions(), []);
      fs.writeFileSync(path.join(root, 'more'), Buffer.alloc(64 * 1024, 2));
      clock.ms += 1;
      usage.tick();
      assert.deepEqual(usage.runningPartitions(), ['slappart1']);
      await usage.idle();
      assert.deepEqual(usage.readings().get('slappart1'), {
        bytes: du(root),
        measuredAt: 1_000 + HOUR_MS / 1000,
        unreadable: 0,
      });
      assert.ok((first?.bytes ?? 0) < du(root));
    } finally {
      usage.close();
    }
  });

  it('drops the reading of a removed target and keeps the others', async () => {
    const clock = { ms: 0 };
    const usage = monitor(clock, 2);
    const targets = new Map([
      ['slappart1', buildTree()],
      ['slappart2', buildTree()],
    ]);
    try {
      usage.setTargets(targets);
      await usage.idle();
      assert.equal(usage.readings().size, 2);
      usage.setTargets(new Map([['slappart2', targets.get('slappart2') ?? '']]));
      assert.deepEqual([...usage.readings().keys()], ['slappart2']);
      assert.deepEqual(usage.runningPartitions(), [], 'an unchanged target is not walked again');
    } finally {
      usage.close();
    }
  });

  it('discards a walk whose target was removed while it ran', async () => {
    const usage = monitor({ ms: 0 }, 1);
    try {
      usage.setTargets(new Map([['slappart1', buildTree()]]));
      usage.setTargets(new Map());
      await usage.idle();
      assert.equal(usage.readings().size, 0);
    } finally {
      usage.close();
    }
  });

  it('gives no reading for a missing directory and logs it at debug', async () => {
    const { lines, log } = captureLogger();
    const usage = monitor({ ms: 0 }, 1, log);
    try {
      usage.setTargets(new Map([['slappart9', path.join(tempDir(), 'absent')]]));
      await usage.idle();
      assert.equal(usage.readings().size, 0);
      assert.equal(lines.length, 1);
      assert.match(lines[0] ?? '', /level=debug .*partition=slappart9/);
    } finally {
      usage.close();
    }
  });

  it('warns once per partition when a walk fails unexpectedly', async () => {
    const clock = { ms: 0 };
    const { lines, log } = captureLogger();
    const loop = path.join(tempDir(), 'loop');
    fs.symlinkSync(loop, loop);
    const usage = monitor(clock, 1, log);
    try {
      usage.setTargets(new Map([['slappart3', loop]]));
      await usage.idle();
      clock.ms += HOUR_MS;
      usage.tick();
      await usage.idle();
      assert.equal(usage.readings().size, 0);
      assert.equal(lines.length, 1);
      assert.match(lines[0] ?? '', /level=warn .*partition=slappart3.*ELOOP/);
    } finally {
      usage.close();
    }
  });

  it('starts nothing after close and discards walks in progress', async () => {
    const clock = { ms: 0 };
    const usage = monitor(clock, 2);
    usage.setTargets(new Map([['slappart1', buildTree()]]));
    usage.close();
    await usage.idle();
    assert.equal(usage.readings().size, 0);
    clock.ms += HOUR_MS;
    usage.setTargets(new Map([['slappart2', buildTree()]]));
    usage.tick();
    assert.deepEqual(usage.runningPartitions(), []);
  });
});

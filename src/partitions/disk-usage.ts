// Disk usage of partition directories, measured in the background: walking a tree of a million files takes
// seconds to minutes, far too long for a scrape, so scrapes export the latest finished walk and its time.

import type { Stats } from 'node:fs';
import { lstat, opendir, stat } from 'node:fs/promises';
import type { Logger } from '../log.ts';

export interface DiskUsageReading {
  readonly bytes: number;
  /** Unix seconds when the walk finished */
  readonly measuredAt: number;
  /** files and directories the walk could not read (permission, vanished) */
  readonly unreadable: number;
}

export interface DiskUsageOptions {
  readonly intervalMs: number;
  readonly concurrency: number;
  readonly log: Logger;
  /** injectable clock for tests, defaults to Date.now */
  readonly now?: () => number;
}

/** Entries read from a directory before their lstat calls are issued together; bounds memory per walk. */
const DIR_BATCH = 128;
/** lstat calls in flight per walk: hides the thread pool's round trip; more gain little on a small host. */
const LSTAT_PARALLEL = 8;
/** Longest wait before a newly due target starts, whatever the interval. */
const MAX_TICK_MS = 10_000;

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/**
 * The allocated size of a directory tree like `du -s -B1` (st_blocks × 512, hard links counted once per walk,
 * not crossing into other filesystems, not following symlinks). Async, yields regularly.
 * The root itself is followed if it is a symlink, so a partition directory may be a link to its storage.
 * A missing root rejects with the ENOENT/ENOTDIR error; anything unreadable below it is counted instead.
 */
export async function measureTree(
  root: string,
  signal?: AbortSignal,
): Promise<{ bytes: number; unreadable: number }> {
  const rootStats = await stat(root);
  const device = rootStats.dev;
  // Only multiply-linked files can be met twice; du dedups the same way.
  const seenInodes = new Set<number>();
  let blocks = 0;
  let unreadable = 0;

  const count = (stats: Stats): void => {
    if (!stats.isDirectory() && stats.nlink > 1) {
      if (seenInodes.has(stats.ino)) return;
      seenInodes.add(stats.ino);
    }
    blocks += stats.blocks;
  };

  count(rootStats);
  if (!rootStats.isDirectory()) return { bytes: blocks * 512, unreadable };

  const pending: string[] = [root];
  const lstatBatch = async (dir: string, names: readonly string[]): Promise<void> => {
    for (let start = 0; start < names.length; start += LSTAT_PARALLEL) {
      signal?.throwIfAborted();
      const results = await Promise.allSettled(
        names.slice(start, start + LSTAT_PARALLEL).map((name) => lstat(`${dir}/${name}`)),
      );
      results.forEach((result, offset) => {
        if (result.status === 'rejected') {
          unreadable++;
          return;
        }
        const stats = result.value;
        // du --one-file-system leaves mount points out entirely, their own inode included.
        if (stats.dev !== device) return;
        count(stats);
        if (stats.isDirectory()) pending.push(`${dir}/${names[start + offset]}`);
      });
    }
  };

  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    signal?.throwIfAborted();
    let names: string[] = [];
    try {
      // Iterating opendir (not readdir) keeps a directory of 100k entries from becoming one array.
      for await (const entry of await opendir(dir, { bufferSize: DIR_BATCH })) {
        names.push(entry.name);
        if (names.length >= DIR_BATCH) {
          await lstatBatch(dir, names);
          names = [];
        }
      }
    } catch (error) {
      if (signal?.aborted) throw error;
      unreadable++;
    }
    await lstatBatch(dir, names);
  }
  return { bytes: blocks * 512, unreadable };
}

interface Target {
  readonly partition: string;
  readonly path: string;
  /** Clock (ms) at which the next walk may start; -Infinity until the first walk. */
  dueAt: number;
  walk?: AbortController;
}

export class DiskUsageMonitor {
  readonly #intervalMs: number;
  readonly #concurrency: number;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #targets = new Map<string, Target>();
  readonly #readings = new Map<string, DiskUsageReading>();
  /** One entry per walk in progress, so a duplicate walk of a partition would be visible. */
  readonly #running = new Map<Promise<void>, Target>();
  readonly #warned = new Set<string>();
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  constructor(options: DiskUsageOptions) {
    this.#intervalMs = options.intervalMs;
    this.#concurrency = Math.max(1, options.concurrency);
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.#timer = setInterval(() => this.tick(), Math.max(1, Math.min(this.#intervalMs, MAX_TICK_MS)));
    this.#timer.unref();
  }

  /**
   * Sets the directories to measure (partition → absolute path). New ones are measured at the next tick
   * (start one immediately when set the first time); removed ones are dropped from readings. Cheap; called
   * every scrape with the same map most of the time.
   */
  setTargets(targets: ReadonlyMap<string, string>): void {
    let added = false;
    for (const [partition, target] of this.#targets) {
      if (targets.get(partition) === target.path) continue;
      this.#drop(target);
    }
    for (const [partition, path] of targets) {
      if (this.#targets.has(partition)) continue;
      this.#targets.set(partition, { partition, path, dueAt: Number.NEGATIVE_INFINITY });
      added = true;
    }
    // Starting a walk only issues its first stat, so a new partition need not wait for the timer.
    if (added) this.tick();
  }

  /** Latest completed reading per partition (never a partial walk). */
  readings(): ReadonlyMap<string, DiskUsageReading> {
    return this.#readings;
  }

  /** Partitions being walked right now, one entry per walk (tests). */
  runningPartitions(): string[] {
    return [...this.#running.values()].map((target) => target.partition);
  }

  /**
   * Starts walks that are due (each target every intervalMs, at most `concurrency` walks at once, never two
   * walks of the same partition at once). Called by an internal unref'd timer; public for tests.
   */
  tick(): void {
    if (this.#closed || this.#running.size >= this.#concurrency) return;
    const now = this.#now();
    const due = [...this.#targets.values()]
      .filter((target) => target.walk === undefined && target.dueAt <= now)
      .sort((a, b) => (a.dueAt === b.dueAt ? 0 : a.dueAt - b.dueAt));
    for (const target of due.slice(0, this.#concurrency - this.#running.size)) this.#start(target, now);
  }

  /** Resolves when no walk is running (tests). */
  async idle(): Promise<void> {
    // A finishing walk may start the next queued one, hence the loop.
    while (this.#running.size > 0) await Promise.all(this.#running.keys());
  }

  /** Stops the timer; running walks are abandoned (their results discarded). */
  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    for (const target of this.#targets.values()) target.walk?.abort();
  }

  #drop(target: Target): void {
    target.walk?.abort();
    this.#targets.delete(target.partition);
    this.#readings.delete(target.partition);
    this.#warned.delete(target.partition);
  }

  #start(target: Target, now: number): void {
    const walk = new AbortController();
    target.walk = walk;
    // Counted from the start so each partition is measured every interval, however long its walk takes.
    target.dueAt = now + this.#intervalMs;
    const running: Promise<void> = measureTree(target.path, walk.signal)
      .then(
        (result) => {
          if (walk.signal.aborted) return;
          this.#readings.set(target.partition, { ...result, measuredAt: this.#now() / 1000 });
          this.#warned.delete(target.partition);
        },
        (error: unknown) => {
          if (walk.signal.aborted) return;
          const code = errorCode(error);
          if (code === 'ENOENT' || code === 'ENOTDIR') {
            this.#readings.delete(target.partition);
            this.#log.debug('disk usage directory missing', {
              partition: target.partition,
              path: target.path,
            });
          } else if (!this.#warned.has(target.partition)) {
            this.#warned.add(target.partition);
            this.#log.warn('disk usage walk failed', {
              partition: target.partition,
              path: target.path,
              err: error instanceof Error ? error.message : String(error),
            });
          }
        },
      )
      // Inside the stored promise so that idle() sees the next queued walk this one starts.
      .finally(() => {
        this.#running.delete(running);
        if (target.walk === walk) target.walk = undefined;
        this.tick();
      });
    this.#running.set(running, target);
  }
}

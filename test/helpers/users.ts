// Real Unix users for the integration tests (we run as root). They are created when missing and left in
// place, so that running the tests again is idempotent.

import { spawnSync } from 'node:child_process';

export interface TestUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

function idOf(name: string, flag: '-u' | '-g'): number | undefined {
  const result = spawnSync('id', [flag, name], { encoding: 'utf8' });
  return result.status === 0 ? Number(result.stdout.trim()) : undefined;
}

/** The user `name`, created without a home directory or login shell if it does not exist yet. */
export function ensureUser(name: string): TestUser {
  if (idOf(name, '-u') === undefined) {
    const added = spawnSync('useradd', ['-M', '-s', '/usr/sbin/nologin', name], { encoding: 'utf8' });
    // Another run may have created it in the meantime: only a user that still does not exist is an error.
    if (added.status !== 0 && idOf(name, '-u') === undefined) {
      throw new Error(`useradd ${name} failed (the test must run as root): ${added.stderr}`);
    }
  }
  const uid = idOf(name, '-u');
  const gid = idOf(name, '-g');
  if (uid === undefined || gid === undefined) throw new Error(`user ${name} has no uid or gid`);
  return { name, uid, gid };
}

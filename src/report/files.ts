// Where reports live and how they are written: DIR/<computer>/<date>.xml, moved to DIR/<computer>/sent/
// once uploaded. Writes go to a temporary name in the same directory and are renamed into place, so a
// failed or interrupted run never leaves a partial report behind.

import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SENT_DIR = 'sent';

/** A computer id as a directory name: path separators and leading dots cannot escape the output dir. */
export function computerDir(outputDir: string, computer: string): string {
  return join(outputDir, computer.replace(/[/\\]/g, '_').replace(/^\.+/, '_'));
}

export function reportPath(outputDir: string, computer: string, label: string): string {
  return join(computerDir(outputDir, computer), `${label}.xml`);
}

const exists = (path: string): boolean => {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
};

/** Whether the report was already written, sent or not: each day is reported once. */
export function alreadyReported(outputDir: string, computer: string, label: string): boolean {
  const dir = computerDir(outputDir, computer);
  return exists(join(dir, `${label}.xml`)) || exists(join(dir, SENT_DIR, `${label}.xml`));
}

export function writeAtomically(path: string, content: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, content, { flush: true });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** Reports waiting for upload: every DIR/<computer>/*.xml not yet moved to sent/. */
export function queuedReports(outputDir: string): { computerDir: string; file: string }[] {
  const queued: { computerDir: string; file: string }[] = [];
  let computers: string[];
  try {
    computers = readdirSync(outputDir);
  } catch {
    return queued;
  }
  for (const computer of computers.sort()) {
    const dir = join(outputDir, computer);
    let files: string[];
    try {
      files = readdirSync(dir);
    } catch {
      continue;
    }
    for (const file of files.sort()) if (/^[^.].*\.xml$/.test(file)) queued.push({ computerDir: dir, file });
  }
  return queued;
}

/** Moves an uploaded report to sent/ (atomically, so it is never both queued and sent). */
export function markSent(computerDirectory: string, file: string): void {
  mkdirSync(join(computerDirectory, SENT_DIR), { recursive: true });
  renameSync(join(computerDirectory, file), join(computerDirectory, SENT_DIR, file));
}

// Reads the host's kernel files. All paths are relative to configurable roots so that a container
// can read the host's /proc, /sys and filesystems (node_exporter's --path.* flags).
//
// Reads are synchronous on purpose: /proc and /sys files are generated in memory by the kernel, and a
// synchronous read costs 5–8× less CPU than fs.promises here (shared/research/anchor-baseline.md).

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface HostPaths {
  readonly procfs: string;
  readonly sysfs: string;
  readonly rootfs: string;
}

export const DEFAULT_PATHS: HostPaths = { procfs: '/proc', sysfs: '/sys', rootfs: '/' };

/** Thrown when a source file is missing or unreadable; the message names the path and the reason. */
export class SourceError extends Error {
  readonly path: string;
  readonly code: string | undefined;
  constructor(path: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    super(`cannot read ${path}: ${code ?? String(cause)}`, { cause });
    this.name = 'SourceError';
    this.path = path;
    this.code = code;
  }

  /** True when the file or directory is absent: the kernel or the hardware lacks the feature. */
  get absent(): boolean {
    return this.code === 'ENOENT' || this.code === 'ENOTDIR';
  }
}

export function readText(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch (error) {
    throw new SourceError(path, error);
  }
}

/** The file's bytes (binary records such as utmp), or undefined when it does not exist. */
export function readOptionalBytes(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (error) {
    const wrapped = new SourceError(path, error);
    if (wrapped.absent) return undefined;
    throw wrapped;
  }
}

/** Like readText, but returns undefined for a file that does not exist (optional kernel features). */
export function readOptionalText(path: string): string | undefined {
  return readOptionalBytes(path)?.toString('latin1');
}

/** Directory entries, or an empty list when the directory does not exist. */
export function listOptionalDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch (error) {
    const wrapped = new SourceError(path, error);
    if (wrapped.absent) return [];
    throw wrapped;
  }
}

export const procPath = (paths: HostPaths, ...parts: string[]): string => join(paths.procfs, ...parts);
export const sysPath = (paths: HostPaths, ...parts: string[]): string => join(paths.sysfs, ...parts);
export const rootPath = (paths: HostPaths, ...parts: string[]): string => join(paths.rootfs, ...parts);

import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// A real full (or nearly full) disk for end-to-end tests: a tmpfs of its own, filled by a file.

export const mountTmpfs = (dir: string, size: string) =>
  spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });

/** Unmounts `dir` (lazily if it is busy). */
export function unmount(dir: string): void {
  if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
}

/** Why a tmpfs cannot be mounted here (only root, CAP_SYS_ADMIN, may), or undefined when it can. */
export function cannotMount(): string | undefined {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-mount-probe-'));
  try {
    const r = mountTmpfs(dir, '64k');
    if (r.error || r.status !== 0) return (r.error?.message ?? r.stderr.trim()) || `exit ${r.status}`;
    spawnSync('umount', [dir]);
    return undefined;
  } finally {
    rmdirSync(dir);
  }
}

/** Bytes an unprivileged writer may still use on the filesystem of `dir`. */
export const freeBytes = (dir: string) => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};

/** Writes `file` until the filesystem says ENOSPC, down to the last byte. */
export function fill(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  try {
    for (let size = chunk.length; size >= 1;) {
      try {
        writeSync(fd, chunk, 0, size);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        size >>= 1;
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Writes `file` (whole blocks) until no more than `leave` bytes are free on its filesystem. */
export function fillLeaving(file: string, leave: number): void {
  const dir = path.dirname(file);
  const { bsize } = statfsSync(dir);
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  const fd = openSync(file, 'w');
  try {
    for (let left = Math.ceil((freeBytes(dir) - leave) / bsize) * bsize; left > 0;) {
      left -= writeSync(fd, chunk, 0, Math.min(chunk.length, left));
    }
  } finally {
    closeSync(fd);
  }
}

import { constants } from 'node:fs';
import { access, statfs } from 'node:fs/promises';
import path from 'node:path';
import type { VigilConfig } from '../../config/schema.js';
import { errorText, result, type CheckResult } from './check.js';

export interface DiskCheckOptions {
  /** Free bytes available to this user on the filesystem holding `dir` (tests inject a full disk). */
  freeBytes?: (dir: string) => Promise<number>;
}

const gib = (n: number) => `${(n / 2 ** 30).toFixed(1)} GiB`;

async function nearestExisting(dir: string): Promise<string> {
  let cur = path.resolve(dir);
  for (;;) {
    try {
      await access(cur);
      return cur;
    } catch {
      const up = path.dirname(cur);
      if (up === cur) return cur;
      cur = up;
    }
  }
}

/**
 * Room for the outbox: the data dir (or the folder it will be created in) is writable, and its filesystem
 * has the outbox's byte cap free on top of the free-space margin (`outbox.minFreeMiB`). Under the margin
 * already, the outbox can store only into pages its file has (a fail); under cap + margin it is safe but
 * stops growing before its cap, so a long broker outage keeps less than configured (a warning).
 */
export async function checkDisk(cfg: VigilConfig, opts: DiskCheckOptions = {}): Promise<CheckResult> {
  const dir = await nearestExisting(cfg.dataDir);
  const subject = cfg.dataDir;
  try {
    await access(dir, constants.W_OK);
  } catch (err) {
    return result('disk', subject, 'fail', `${dir} is not writable: ${errorText(err)}`);
  }
  let free: number;
  try {
    free = await (opts.freeBytes ?? (async (d) => ((s) => s.bavail * s.bsize)(await statfs(d))))(dir);
  } catch (err) {
    return result('disk', subject, 'fail', `cannot read free space of ${dir}: ${errorText(err)}`);
  }
  const cap = cfg.outbox.maxBytes;
  const margin = cfg.outbox.minFreeMiB * 2 ** 20;
  const detail = `${gib(free)} free for an outbox capped at ${gib(cap)} with a ${gib(margin)} margin`;
  if (free < margin)
    return result('disk', subject, 'fail', `only ${detail}: free space or lower outbox.minFreeMiB`);
  if (free < cap + margin)
    return result(
      'disk',
      subject,
      'warn',
      `${detail}: the outbox will stop growing at about ${gib(free - margin)}, before its cap`,
    );
  return result('disk', subject, 'pass', detail);
}

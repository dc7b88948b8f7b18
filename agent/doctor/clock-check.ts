import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { VigilConfig } from '../../config/schema.js';
import { result, type CheckResult } from './check.js';

/** Earlier than this the clock is surely wrong (a Jetson without RTC battery boots in 1970 or at its build date). */
export const clockFloor = Date.UTC(2025, 0, 1);

/** A data dir written "in the future" means the clock went back (it was right when that was written). */
const futureSlackMs = 5 * 60_000;

export interface ClockCheckOptions {
  now?: () => number;
  /** systemd-timesyncd creates this file once NTP has synchronised the clock. */
  syncedFile?: string;
}

async function newestWrite(dir: string): Promise<number | undefined> {
  try {
    const names = await readdir(dir);
    const times = await Promise.all(
      [dir, ...names.map((n) => path.join(dir, n))].map(async (f) => (await stat(f)).mtimeMs),
    );
    return Math.max(...times);
  } catch {
    return undefined;
  }
}

/**
 * Clock sanity: detections, events and every MQTT timestamp carry the wall clock (ages and timeouts are
 * elapsed time, ADR 0009). It must be past a floor and not behind the data dir's last write; NTP state is
 * shown where systemd tells it.
 */
export async function checkClock(cfg: VigilConfig, opts: ClockCheckOptions = {}): Promise<CheckResult> {
  const now = (opts.now ?? Date.now)();
  const iso = new Date(now).toISOString();
  if (now < clockFloor) {
    return result(
      'clock',
      undefined,
      'fail',
      `reads ${iso}: before 2025, so timestamps would be wrong (NTP not reached? no RTC battery?)`,
    );
  }
  const newest = await newestWrite(cfg.dataDir);
  if (newest !== undefined && newest > now + futureSlackMs) {
    return result(
      'clock',
      undefined,
      'fail',
      `reads ${iso}, but ${cfg.dataDir} was written at ${new Date(newest).toISOString()}: the clock went back`,
    );
  }
  const synced = opts.syncedFile ?? '/run/systemd/timesync/synchronized';
  return result(
    'clock',
    undefined,
    'pass',
    `${iso}${existsSync(synced) ? ', NTP synchronised' : ' (NTP state unknown here)'}`,
  );
}

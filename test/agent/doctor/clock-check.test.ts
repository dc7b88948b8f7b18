import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkClock, clockFloor } from '../../../agent/doctor/clock-check.js';
import { doctorConfig } from './config.js';

/** A whole-second instant (mtimes keep whole seconds everywhere), well past the floor. */
const t0 = Math.floor(Date.now() / 1000) * 1000;
const minutes = (n: number) => n * 60_000;

/** Sets a path's mtime (and atime) to epoch ms `ms`. */
const touch = (p: string, ms: number) => utimesSync(p, new Date(ms), new Date(ms));

describe('clock check', () => {
  it('passes a sane clock, saying whether systemd-timesyncd has synchronised it', async () => {
    const cfg = doctorConfig();
    const marker = path.join(cfg.dataDir, 'synchronized');
    writeFileSync(marker, '');
    touch(marker, t0 - 1000);
    touch(cfg.dataDir, t0 - 1000);
    const now = () => t0;
    const iso = new Date(t0).toISOString();
    expect(await checkClock(cfg, { now, syncedFile: marker })).toEqual({
      check: 'clock',
      verdict: 'pass',
      detail: `${iso}, NTP synchronised`,
    });
    expect(await checkClock(cfg, { now, syncedFile: path.join(cfg.dataDir, 'absent') })).toEqual({
      check: 'clock',
      verdict: 'pass',
      detail: `${iso} (NTP state unknown here)`,
    });
  });

  it('uses the real clock by default', async () => {
    const before = Date.now();
    const r = await checkClock(doctorConfig(), { syncedFile: '/nonexistent' });
    const read = Date.parse(r.detail.split(' ')[0]!);
    expect(r.verdict).toBe('pass');
    expect(read).toBeGreaterThanOrEqual(before);
    expect(read).toBeLessThanOrEqual(Date.now());
  });

  it('fails a clock before 1 January 2025 UTC, and passes one at it', async () => {
    expect(clockFloor).toBe(Date.parse('2025-01-01T00:00:00.000Z'));
    const cfg = doctorConfig();
    rmSync(cfg.dataDir, { recursive: true }); // nothing written yet: only the floor counts
    expect(await checkClock(cfg, { now: () => clockFloor - 1, syncedFile: '/nonexistent' })).toEqual({
      check: 'clock',
      verdict: 'fail',
      detail:
        'reads 2024-12-31T23:59:59.999Z: before 2025, so timestamps would be wrong (NTP not reached? no RTC battery?)',
    });
    expect((await checkClock(cfg, { now: () => 0 })).detail).toMatch(
      /^reads 1970-01-01T00:00:00\.000Z: before 2025/,
    );
    expect(await checkClock(cfg, { now: () => clockFloor, syncedFile: '/nonexistent' })).toEqual({
      check: 'clock',
      verdict: 'pass',
      detail: '2025-01-01T00:00:00.000Z (NTP state unknown here)',
    });
  });

  it('allows the data dir five minutes ahead of the clock, and fails it beyond', async () => {
    const cfg = doctorConfig();
    const file = path.join(cfg.dataDir, 'outbox.db');
    writeFileSync(file, '');
    touch(cfg.dataDir, t0 - minutes(60));
    const at = async (ahead: number) => {
      touch(file, t0 + ahead);
      return checkClock(cfg, { now: () => t0, syncedFile: '/nonexistent' });
    };
    expect((await at(minutes(5))).verdict).toBe('pass');
    expect((await at(minutes(4))).verdict).toBe('pass');
    expect((await at(-minutes(600))).verdict).toBe('pass');
    expect(await at(minutes(5) + 1000)).toEqual({
      check: 'clock',
      verdict: 'fail',
      detail: `reads ${new Date(t0).toISOString()}, but ${cfg.dataDir} was written at ${new Date(t0 + minutes(5) + 1000).toISOString()}: the clock went back`, // prettier-ignore
    });
  });

  it('takes the newest write among the data dir itself and everything directly in it', async () => {
    const cfg = doctorConfig();
    mkdirSync(path.join(cfg.dataDir, 'sub'));
    for (const name of ['a', 'b', 'c']) writeFileSync(path.join(cfg.dataDir, name), '');
    const check = () => checkClock(cfg, { now: () => t0, syncedFile: '/nonexistent' });
    const all = ['a', 'b', 'c', 'sub'].map((n) => path.join(cfg.dataDir, n));
    for (const p of [...all, cfg.dataDir]) touch(p, t0 - minutes(1));
    expect((await check()).verdict).toBe('pass');
    // any single one ahead of the clock is enough: the first, the last, a folder, the dir itself
    for (const ahead of [...all, cfg.dataDir]) {
      touch(ahead, t0 + minutes(30));
      const r = await check();
      expect(r.verdict, path.basename(ahead)).toBe('fail');
      expect(r.detail).toContain(`was written at ${new Date(t0 + minutes(30)).toISOString()}`);
      touch(ahead, t0 - minutes(1));
    }
  });

  it('passes when the data dir does not exist yet (a first start)', async () => {
    const cfg = doctorConfig({ dataDir: path.join(doctorConfig().dataDir, 'not', 'yet') });
    expect((await checkClock(cfg, { now: () => t0 })).verdict).toBe('pass');
  });
});

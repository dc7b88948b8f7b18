import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkClock } from '../../../agent/doctor/clock-check.js';
import { checkDisk } from '../../../agent/doctor/disk-check.js';
import { doctorConfig } from './config.js';

const GiB = 2 ** 30;

describe('disk check', () => {
  it('passes on this box: a writable tmp dir with room for the default 512 MiB outbox', async () => {
    const cfg = doctorConfig();
    expect(await checkDisk(cfg)).toMatchObject({ check: 'disk', subject: cfg.dataDir, verdict: 'pass' });
  });

  it('looks at the folder a data dir that does not exist yet will be created in', async () => {
    const cfg = doctorConfig();
    const nested = doctorConfig({ dataDir: path.join(cfg.dataDir, 'not', 'yet') });
    expect((await checkDisk(nested)).verdict).toBe('pass');
  });

  it('fails under the free-space margin and warns under cap + margin (the outbox stops growing there)', async () => {
    const cfg = doctorConfig({ outbox: { maxBytes: GiB, minFreeMiB: 512 } });
    expect(await checkDisk(cfg, { freeBytes: async () => 0.25 * GiB })).toMatchObject({
      verdict: 'fail',
      detail:
        'only 0.3 GiB free for an outbox capped at 1.0 GiB with a 0.5 GiB margin: free space or lower outbox.minFreeMiB',
    });
    expect(await checkDisk(cfg, { freeBytes: async () => 1.25 * GiB })).toMatchObject({
      verdict: 'warn',
      detail: expect.stringMatching(/will stop growing at about 0\.8 GiB, before its cap$/),
    });
    expect((await checkDisk(cfg, { freeBytes: async () => 1.5 * GiB })).verdict).toBe('pass');
  });
});

describe('clock check', () => {
  it('passes a sane clock and says whether NTP synchronised it', async () => {
    const cfg = doctorConfig();
    const marker = path.join(cfg.dataDir, 'synchronized');
    writeFileSync(marker, '');
    const t = Date.now();
    const now = () => t;
    expect(await checkClock(cfg, { now, syncedFile: marker })).toEqual({
      check: 'clock',
      verdict: 'pass',
      detail: `${new Date(t).toISOString()}, NTP synchronised`,
    });
    expect((await checkClock(cfg, { now, syncedFile: '/nonexistent' })).detail).toMatch(/NTP state unknown/);
  });

  it('fails a clock that reads 1970 (a Jetson without RTC battery, before NTP)', async () => {
    const r = await checkClock(doctorConfig(), { now: () => 5000 });
    expect(r).toMatchObject({
      verdict: 'fail',
      detail: expect.stringMatching(/^reads 1970-01-01T00:00:05\.000Z: before 2025/),
    });
  });

  it('fails a clock behind the data dir’s last write (the clock went back)', async () => {
    const cfg = doctorConfig();
    mkdirSync(path.join(cfg.dataDir, 'sub'));
    // written an hour from now: as if the clock had been right then and went back since
    const later = new Date(Math.floor(Date.now() / 1000) * 1000 + 3600_000); // whole seconds: mtime precision
    utimesSync(path.join(cfg.dataDir, 'sub'), later, later);
    const r = await checkClock(cfg);
    expect(r).toMatchObject({
      verdict: 'fail',
      detail: expect.stringContaining(`was written at ${later.toISOString()}: the clock went back`),
    });
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Pm25Estimator, regionsKey } from '../../../models/pm25/estimator.js';
import { parseLocalTime } from '../../../models/pm25/local-time.js';
import type { RgbFrame } from '../../../models/pm25/raw-features.js';
import { realignFrame } from '../../../models/pm25/realign.js';
import { loadState, saveState } from '../../../models/pm25/state-store.js';
import { logLines } from '../../support/log-lines.js';
import { hasShared } from '../../support/shared.js';
import { milanConfig, milanFrame, moved } from './helpers.js';

/** A small frame whose every pixel says where it is: r = x, g = y, b = 7. */
function ramp(width: number, height: number): RgbFrame {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) rgb.set([x, y, 7], (y * width + x) * 3);
  return { rgb, width, height };
}
const pixel = (f: RgbFrame, x: number, y: number) => [
  ...f.rgb.subarray((y * f.width + x) * 3, (y * f.width + x) * 3 + 3),
];

describe('realignFrame', () => {
  it('moves a shifted view back onto the reference, repeating the edge where the camera no longer sees', () => {
    const ref = ramp(9, 6);
    for (const [dx, dy] of [
      [2, -1],
      [-3, 2],
      [0, 0],
      [4, 5],
    ] as const) {
      const back = realignFrame(moved(ref, dx, dy), dx, dy);
      for (let y = 0; y < 6; y++)
        for (let x = 0; x < 9; x++) {
          const seen = x + dx >= 0 && x + dx < 9 && y + dy >= 0 && y + dy < 6;
          // Seen pixels are the reference's; the others repeat the nearest pixel the camera still sees.
          const nx = Math.min(8, Math.max(0, x + dx)) - dx;
          const ny = Math.min(5, Math.max(0, y + dy)) - dy;
          expect(pixel(back, x, y), `(${dx},${dy}) at ${x},${y}`).toEqual(seen ? [x, y, 7] : [nx, ny, 7]);
        }
    }
  });
});

describe.skipIf(!hasShared)('PM2.5 estimator on a camera nudged beyond its margins', () => {
  const cfg = milanConfig();
  const at = (wall: string) => parseLocalTime(wall, cfg.timezone);

  it('follows a nudge up to followShiftPx with the same physics, withholds beyond it, and logs each change', async () => {
    const { log, lines } = logLines();
    const est = await Pm25Estimator.create(cfg, { log });
    const off = await Pm25Estimator.create(milanConfig({ gates: { followShiftPx: 0 } }));
    try {
      const day = await milanFrame('20250218-1000.jpg', cfg);
      const other = await milanFrame('20250303-1000.jpg', cfg);
      // The first frame becomes the reference view.
      await est.evaluate(day, at('2025-02-18T10:00'));
      await off.evaluate(day, at('2025-02-18T10:00'));
      const plain = await est.evaluate(other, at('2025-03-03T10:00'));
      expect(plain.flags).toEqual([]);

      // 20 px right and 16 up (25.6 px): past the regions' 12 px margins, within the 32 px followed.
      const nudged = moved(other, 20, -16);
      const followed = await est.evaluate(nudged, at('2025-03-03T11:00'));
      expect(followed.flags).toEqual([]);
      expect(followed.estimable).toBe(true);
      expect(followed.features.shiftPx).toEqual([20, -16]);
      const beta = (e: typeof plain) => e.features.betaPerKm!;
      expect(Math.abs(beta(followed) / beta(plain) - 1)).toBeLessThan(0.005);
      expect(Math.abs(followed.pm25! / plain.pm25! - 1)).toBeLessThan(0.005);
      // Without following, the same frame is withheld.
      expect((await off.evaluate(nudged, at('2025-03-03T11:00'))).flags).toContain('moved');

      // A second nudged frame logs nothing new; 24 right and 32 down (40 px) is a re-aim: withheld.
      await est.evaluate(moved(other, 16, -16), at('2025-03-03T12:00'));
      const reaimed = await est.evaluate(moved(other, 24, 32), at('2025-03-03T13:00'));
      expect(reaimed.flags).toContain('moved');
      expect(reaimed.features.shiftPx).toEqual([24, 32]);
      await est.evaluate(other, at('2025-03-03T14:00'));
      expect(lines.filter((l) => /PM2\.5 view/.test(l.msg)).map((l) => [l.level, l.msg, l.shiftPx])).toEqual([
        [
          'warn',
          "PM2.5 view moved beyond its regions' margins; frames realigned, check the regions",
          [20, -16],
        ],
        ['warn', 'PM2.5 view no longer matches its reference; estimates withheld (moved)', [24, 32]],
        ['info', "PM2.5 view back within its regions' margins", expect.any(Array)],
      ]);
    } finally {
      await est.close();
      await off.close();
    }
  });
});

describe.skipIf(!hasShared)('PM2.5 reference view after a re-aim', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'vigil-pm25-reaim-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const cfg = milanConfig();
  const at = (wall: string) => parseLocalTime(wall, cfg.timezone);

  it('takes a new reference when the installer sets the regions again, and keeps it otherwise', async () => {
    const file = path.join(work, 'pm25-cam.json');
    const day = await milanFrame('20250218-1000.jpg', cfg);
    // The camera was re-aimed: its view is 48 px off the saved reference (left; the black strip it brings stays out of the exposure region), past what is followed.
    const reaimed = moved(day, -48, 0);
    const first = await Pm25Estimator.create(cfg, { statePath: file });
    await first.evaluate(day, at('2025-02-18T10:00'));
    expect((await first.evaluate(reaimed, at('2025-02-18T11:00'))).flags).toContain('moved');
    await first.close();
    expect(loadState(file)!.reference!.regions).toBe(regionsKey(cfg));

    // Same regions after a restart: still the old reference, still withheld.
    const same = await Pm25Estimator.create(cfg, { statePath: file });
    expect((await same.evaluate(reaimed, at('2025-02-18T12:00'))).flags).toContain('moved');
    await same.close();

    // The regions set again for the new view: its first frame in good light is the new reference.
    const { log, lines } = logLines();
    const reset = milanConfig({ sky: [488, 120, 760, 165] });
    const again = await Pm25Estimator.create(reset, { statePath: file, log });
    const taken = await again.evaluate(reaimed, at('2025-02-18T13:00'));
    expect(taken.flags).toEqual([]);
    expect(taken.features.shiftPx).toBeUndefined();
    const next = await again.evaluate(reaimed, at('2025-02-18T14:00'));
    expect(next.flags).toEqual([]);
    expect(next.features.shiftPx).toEqual([0, 0]);
    await again.close();
    expect(lines.map((l) => l.msg)).toContain('PM2.5 regions changed: this frame is the new reference view');
    expect(loadState(file)!.reference!.regions).toBe(regionsKey(reset));
  });

  it('adopts a reference saved before regions were recorded, rather than taking a new one', async () => {
    const file = path.join(work, 'pm25-old.json');
    const day = await milanFrame('20250218-1000.jpg', cfg);
    const est = await Pm25Estimator.create(cfg, { statePath: file });
    await est.evaluate(day, at('2025-02-18T10:00'));
    await est.close();
    const state = loadState(file)!;
    delete state.reference!.regions;
    saveState(file, state);
    const old = await Pm25Estimator.create(cfg, { statePath: file });
    expect((await old.evaluate(moved(day, -48, 0), at('2025-02-18T11:00'))).flags).toContain('moved');
    await old.close();
    expect(loadState(file)!.reference).toEqual({ ...state.reference, regions: regionsKey(cfg) });
  });
});

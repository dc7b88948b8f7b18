import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Pm25Estimator } from '../../../models/pm25/estimator.js';
import { parseLocalTime } from '../../../models/pm25/local-time.js';
import { Pm25Payload } from '../../../models/pm25/payloads.js';
import { pm25Windows, type Pm25FrameInput } from '../../../pipeline/pm25/pm25-windows.js';
import { hasShared } from '../../support/shared.js';
import { milanConfig, milanFrame } from '../../models/pm25/helpers.js';

describe.skipIf(!hasShared)('pm25Windows stage', () => {
  it('emits one payload per window: median of frames that passed, or not estimable with the flags', async () => {
    const cfg = milanConfig();
    const est = await Pm25Estimator.create(cfg);
    try {
      const day = await milanFrame('20250218-1000.jpg', cfg);
      const night = await milanFrame('20250129-2000.jpg', cfg);
      const t = (wall: string) => parseLocalTime(wall, cfg.timezone);
      // Three day frames in one 15-minute window, then two night frames in a later one.
      const inputs: Pm25FrameInput[] = [
        { camera: 'milan-south', ts: t('2025-02-18T10:01'), ...day },
        { camera: 'milan-south', ts: t('2025-02-18T10:06'), ...day },
        { camera: 'milan-south', ts: t('2025-02-18T10:11'), ...day },
        { camera: 'milan-south', ts: t('2025-02-18T21:00'), ...night },
        { camera: 'milan-south', ts: t('2025-02-18T21:05'), ...night },
      ];
      const out = await lastValueFrom(from(inputs).pipe(pm25Windows(est, cfg.windowMinutes), toArray()));
      expect(out).toHaveLength(2);
      for (const p of out) expect(Pm25Payload.safeParse(p).success).toBe(true);
      const [dayWin, nightWin] = out as [Pm25Payload, Pm25Payload];
      expect(dayWin.windowStart).toBe(t('2025-02-18T10:00').toISOString());
      expect(dayWin.frames).toBe(3);
      expect(dayWin.framesUsed).toBe(3);
      expect(dayWin.estimable).toBe(true);
      expect(dayWin.source).toBe('physical-prior');
      expect(dayWin.calibration.state).toBe('uncalibrated');
      expect(dayWin.interval80![0]).toBeLessThan(dayWin.pm25!);
      expect(dayWin.interval95![1]).toBeGreaterThan(dayWin.interval80![1]);
      expect(nightWin.estimable).toBe(false);
      expect(nightWin.pm25).toBeNull();
      expect(nightWin.flags.night).toBe(2);
    } finally {
      await est.close();
    }
  });
});

import type { FrameEstimate } from './estimator.js';
import type { GateFlag } from './gates.js';
import type { Pm25Payload } from './payloads.js';

function median(values: number[]): number | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * One window's published result: the median of the frames that passed the gates (value, band edges and
 * features alike), or "not estimable" with the flags that withheld every frame.
 */
export function aggregateWindow(
  camera: string,
  start: Date,
  minutes: number,
  frames: FrameEstimate[],
): Pm25Payload {
  const used = frames.filter((f) => f.estimable && f.pm25 !== null);
  const flags: Partial<Record<GateFlag, number>> = {};
  for (const f of frames) for (const flag of f.flags) flags[flag] = (flags[flag] ?? 0) + 1;
  const med = (pick: (f: FrameEstimate) => number | null | undefined) =>
    median(used.map(pick).filter((v): v is number => typeof v === 'number' && Number.isFinite(v)));
  const band = (pick: (f: FrameEstimate) => [number, number] | null): [number, number] | null =>
    used.length ? [med((f) => pick(f)?.[0])!, med((f) => pick(f)?.[1])!] : null;
  const last = frames.at(-1);
  const calibration = last?.calibration ?? { state: 'uncalibrated' as const, samples: 0, lastRefit: null };
  return {
    camera,
    ts: new Date(start.getTime() + minutes * 60_000).toISOString(),
    windowStart: start.toISOString(),
    windowMinutes: minutes,
    unit: 'ug/m3',
    estimable: used.length > 0,
    pm25: med((f) => f.pm25),
    interval80: band((f) => f.i80),
    interval95: band((f) => f.i95),
    source: used.length
      ? used.some((f) => f.source === 'site-model')
        ? 'site-model'
        : 'physical-prior'
      : null,
    frames: frames.length,
    framesUsed: used.length,
    flags,
    features: {
      betaPerKm: med((f) => f.features.betaPerKm),
      visibilityKm: med((f) => f.features.visibilityKm),
      angstrom: med((f) => f.features.angstrom),
      skyBlueRed: med((f) => f.features.skyBlueRed),
      skySaturation: med((f) => f.features.skySaturation),
      sharpness: med((f) => f.features.sharpness),
    },
    calibration: { ...calibration },
  };
}

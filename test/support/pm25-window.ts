import { Pm25Payload } from '../../models/pm25/payloads.js';

/**
 * A PM2.5 window as the PM2.5 service publishes it, validated against its own schema: for the readers of
 * `agent.pm25` (status page, /metrics) without running the estimator.
 */
export function pm25Window(
  camera: string,
  endMs: number,
  pm25: number | null,
  flags: Record<string, number> = {},
  calibration: Pm25Payload['calibration'] = { state: 'uncalibrated', samples: 0, lastRefit: null },
): Pm25Payload {
  return Pm25Payload.parse({
    camera,
    ts: new Date(endMs).toISOString(),
    windowStart: new Date(endMs - 5 * 60_000).toISOString(),
    windowMinutes: 5,
    unit: 'ug/m3',
    estimable: pm25 !== null,
    pm25,
    interval80: pm25 === null ? null : [pm25 * 0.8, pm25 * 1.25],
    interval95: pm25 === null ? null : [pm25 * 0.6, pm25 * 1.6],
    source: pm25 === null ? null : 'physical-prior',
    frames: 10,
    framesUsed: pm25 === null ? 0 : 10,
    flags,
    features: {
      betaPerKm: null,
      visibilityKm: null,
      angstrom: null,
      skyBlueRed: null,
      skySaturation: null,
      sharpness: null,
    },
    calibration,
  });
}

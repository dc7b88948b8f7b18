import type { Pm25CameraConfig } from '../../config/pm25-schema.js';
import type { PhysicsFeatures } from './physics.js';
import type { Shift } from './registration.js';
import { sunElevationDeg } from './solar.js';

/** Why a frame's estimate is withheld. */
export const gateFlags = [
  'night',
  'low_light',
  'clipped',
  'blur',
  'moved',
  'occluded',
  'fog',
  'beyond_range',
] as const;
export type GateFlag = (typeof gateFlags)[number];

/** What the gates learn about the site as frames go by (persisted with the calibrator). */
export interface GateState {
  /** Running sharpness baseline per local hour of day: the light on the near region changes through the day. */
  sharpness: number[];
  sharpnessCount: number[];
}

export function initialGateState(): GateState {
  return { sharpness: new Array<number>(24).fill(0), sharpnessCount: new Array<number>(24).fill(0) };
}

export interface GateInput {
  ts: Date;
  /** Local hour of day (0-23) at the camera. */
  localHour: number;
  physics: PhysicsFeatures;
  /** Shift against the reference view; undefined while there is no reference yet. */
  shift?: Shift;
  /** Relative humidity (%) from a co-located sensor, when there is one. */
  humidity?: number;
}

export interface GateResult {
  flags: GateFlag[];
  passed: boolean;
  sunElevationDeg?: number;
}

/** Light gates first: the other checks mean nothing on a night frame. */
export function lightFlags(
  cfg: Pm25CameraConfig,
  ts: Date,
  physics: PhysicsFeatures,
): { flags: GateFlag[]; sun?: number } {
  const flags: GateFlag[] = [];
  let sun: number | undefined;
  if (cfg.latitude !== undefined && cfg.longitude !== undefined) {
    sun = sunElevationDeg(ts, cfg.latitude, cfg.longitude);
    if (sun < cfg.gates.minSunElevationDeg) flags.push('night');
  }
  if (physics.skyLuminance < cfg.gates.minSkyLuminance) flags.push('low_light');
  return sun === undefined ? { flags } : { flags, sun };
}

/** Runs every gate; updates the sharpness baseline with frames that pass. */
export function applyGates(cfg: Pm25CameraConfig, state: GateState, input: GateInput): GateResult {
  const g = cfg.gates;
  const { physics: p } = input;
  const light = lightFlags(cfg, input.ts, p);
  const flags = [...light.flags];
  const result = (): GateResult => ({
    flags,
    passed: flags.length === 0,
    ...(light.sun === undefined ? {} : { sunElevationDeg: light.sun }),
  });
  if (flags.length) return result();

  if (p.clipped > g.maxClippedFraction) flags.push('clipped');
  if (
    input.shift &&
    (Math.hypot(input.shift.dx, input.shift.dy) > g.maxShiftPx || input.shift.peak < g.minRegistrationPeak)
  ) {
    flags.push('moved');
  }
  if (p.targetExcess > g.occlusionMargin) flags.push('occluded');

  const h = input.localHour;
  const baseline = state.sharpness[h]!;
  const warm = state.sharpnessCount[h]! >= g.sharpnessWarmup;
  if (warm && p.sharpness < g.minSharpnessRatio * baseline) flags.push('blur');

  const grey = Number.isFinite(p.angstrom) && Math.abs(p.angstrom) < g.fogMaxAngstrom;
  const humid = input.humidity !== undefined && input.humidity >= g.fogMinHumidity;
  if (grey && (p.visibilityKm < g.fogMaxVisibilityKm || humid)) flags.push('fog');
  if (!Number.isFinite(p.beta)) flags.push('beyond_range');

  // Only clean frames teach the baseline, so a dirty lens does not become the new normal.
  if (!flags.includes('blur') && !flags.includes('moved') && !flags.includes('clipped')) {
    const n = Math.min(state.sharpnessCount[h]! + 1, 20);
    state.sharpness[h] = baseline + (p.sharpness - baseline) / n;
    state.sharpnessCount[h] = state.sharpnessCount[h]! + 1;
  }
  return result();
}

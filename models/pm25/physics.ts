import type { Pm25CameraConfig } from '../../config/pm25-schema.js';
import type { RawFeatures } from './raw-features.js';

/** Koschmieder: visibility at 2 % contrast threshold, V = 3.912 / β. */
export const KOSCHMIEDER = 3.912;
/** Effective wavelengths (µm) of a typical camera's red and blue channels, for the Ångström exponent. */
const LAMBDA_RED = 0.61;
const LAMBDA_BLUE = 0.465;
/** Transmissions below this are lost in 8-bit noise: the target only bounds β from below. */
export const MIN_TRANSMISSION = 0.02;

export interface TargetPhysics {
  name: string;
  distanceKm: number;
  /** Dark-channel transmission (ω = 1), relative to the target's clean-air value. */
  transmission: number;
  /** Extinction from this target, β = −ln t / d (per km). */
  beta: number;
  /** Apparent contrast against the horizon sky per RGB channel, 1 − I_c/A_c of the darker pixels. */
  contrast: [number, number, number];
  /** Per-channel extinction −ln C_c / d (per km). */
  channelBeta: [number, number, number];
  /** β from this target is usable (transmission not drowned in noise). */
  usable: boolean;
}

/** Physics features of one frame: what the gates, the prior and the site model read. */
export interface PhysicsFeatures {
  airlight: [number, number, number];
  skyLuminance: number;
  skyBlueRed: number;
  skySaturation: number;
  targets: TargetPhysics[];
  /** Inverse-variance mean of the usable targets' β (per km); NaN when none is usable. */
  beta: number;
  /** β from the ratio of the near region's and the farthest target's contrasts (per km). */
  betaRatio: number;
  visibilityKm: number;
  /** ln(β_blue/β_red) / ln(λ_red/λ_blue): ~0 for fog droplets, 1–2 for fine particles. */
  angstrom: number;
  /** Near-region mean gradient over mean grey (exposure-independent). */
  sharpness: number;
  /** The darkest target is brighter than the sky by this much (occlusion, glare). */
  targetExcess: number;
  clipped: number;
}

const luminance = ([r, g, b]: readonly number[]) => 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;

/** Cheap scalar maths on the graph's outputs (no pixel loops). */
export function derivePhysics(cfg: Pm25CameraConfig, raw: RawFeatures): PhysicsFeatures {
  const [ar, ag, ab] = raw.sky;
  const skyMax = Math.max(ar, ag, ab);
  const targets = cfg.targets.map((t, i): TargetPhysics => {
    const r = raw.targets[i]!;
    const transmission = Math.min(1, Math.max(1e-6, (1 - r.dark) / t.intrinsicTransmission));
    const contrast = r.q.map((q) => Math.max(1e-6, 1 - q)) as [number, number, number];
    return {
      name: t.name,
      distanceKm: t.distanceKm,
      transmission,
      beta: -Math.log(transmission) / t.distanceKm,
      contrast,
      channelBeta: contrast.map((c) => -Math.log(Math.min(1, c)) / t.distanceKm) as [number, number, number],
      usable: transmission >= MIN_TRANSMISSION,
    };
  });

  // Var(β) ∝ 1/(t d)²: nearer, clearer targets weigh less only when their signal is weak.
  let wSum = 0;
  let bSum = 0;
  for (const t of targets) {
    if (!t.usable || t.transmission >= 0.999) continue;
    const w = (t.transmission * t.distanceKm) ** 2;
    wSum += w;
    bSum += w * t.beta;
  }
  const farthest = targets.reduce((a, b) => (b.distanceKm > a.distanceKm ? b : a));
  const beta = wSum > 0 ? bSum / wSum : farthest.transmission >= 0.999 ? 0 : NaN;

  const nearC = luminance(raw.near.q.map((q) => Math.max(1e-6, 1 - q)));
  const farC = luminance(farthest.contrast);
  const betaRatio = Math.log(nearC / farC) / (farthest.distanceKm - cfg.near.distanceKm);

  const [bRed, , bBlue] = farthest.channelBeta;
  const angstrom = bRed > 0 && bBlue > 0 ? Math.log(bBlue / bRed) / Math.log(LAMBDA_RED / LAMBDA_BLUE) : NaN;

  return {
    airlight: [ar, ag, ab],
    skyLuminance: luminance(raw.sky),
    skyBlueRed: ab / Math.max(1e-6, ar),
    skySaturation: skyMax > 0 ? (skyMax - Math.min(ar, ag, ab)) / skyMax : 0,
    targets,
    beta,
    betaRatio,
    visibilityKm: beta > 0 ? KOSCHMIEDER / beta : Infinity,
    angstrom,
    sharpness: raw.nearGradient / Math.max(1e-6, raw.nearGrey),
    targetExcess: Math.max(...raw.targets.map((t) => t.dark)) - 1,
    clipped: raw.clipped,
  };
}

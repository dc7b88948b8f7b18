import type { Pm25CameraConfig } from '../../config/pm25-schema.js';
import type { Logger } from '../../config/logger.js';
import type { ProviderName } from '../../config/schema.js';
import { Calibrator, type CalibrationStatus } from './calibrator.js';
import { FeatureExtractor } from './feature-extractor.js';
import { applyGates, initialGateState, lightFlags, type GateFlag } from './gates.js';
import { localHour } from './local-time.js';
import { minFittedPm25 } from './payloads.js';
import { minPairSpacingMs, PairableFrames, type ReadingOutcome } from './pairing.js';
import { derivePhysics, type PhysicsFeatures } from './physics.js';
import { priorInterval } from './physical-prior.js';
import type { RawFeatures, RgbFrame } from './raw-features.js';
import { regressorValues } from './regressors.js';
import { realignFrame } from './realign.js';
import { ReferenceView, type Shift } from './registration.js';
import {
  loadState,
  Pm25StateError,
  removeStaleTemps,
  saveState,
  setAside,
  type EstimatorState,
} from './state-store.js';

type ViewState = 'within' | 'following' | 'moved';

/** The features an estimate stood on, as published. */
export interface FeatureSummary {
  betaPerKm: number | null;
  visibilityKm: number | null;
  angstrom: number | null;
  skyLuminance: number;
  skyBlueRed: number;
  skySaturation: number;
  sharpness: number;
  transmission: Record<string, number>;
  shiftPx?: [number, number];
}

export interface FrameEstimate {
  ts: string;
  /** False: the gates withheld the estimate (`flags` say why). */
  estimable: boolean;
  flags: GateFlag[];
  pm25: number | null;
  i80: [number, number] | null;
  i95: [number, number] | null;
  /** Which model produced the number: the calibrated site model, or the physical prior alone. */
  source: 'site-model' | 'physical-prior' | null;
  features: FeatureSummary;
  calibration: CalibrationStatus;
}

export interface ReferenceReading {
  ts: Date;
  pm25: number;
  humidity?: number;
}

export interface EstimatorOptions {
  /** JSON file the calibration and baselines persist to (`<dataDir>/pm25-<camera>.json`); none: in memory. */
  statePath?: string;
  providers?: ProviderName[];
  /** Where an unusable state file or a failed state write is reported (neither stops the estimator). */
  log?: Logger;
}

const HUMIDITY_MAX_AGE_MS = 2 * 3_600_000;

const finite = (v: number) => (Number.isFinite(v) ? v : null);

/** One camera's PM2.5 estimator: features on onnxruntime, gates, prior, site calibration, persistence. */
export class Pm25Estimator {
  private readonly recent = new PairableFrames();
  private humidity: { ts: number; value: number } | undefined;
  private referenceView: ReferenceView | undefined;
  /** The regions this estimator measures: a saved reference taken for others is replaced. */
  private readonly regions: string;
  /** The view's state at the last frame in good light (logged at each change). */
  private view: ViewState = 'within';
  /** The last state write's failure, reported once until a write succeeds again. */
  private saveFailure: string | undefined;

  private constructor(
    private readonly cfg: Pm25CameraConfig,
    private readonly extractor: FeatureExtractor,
    private readonly calibrator: Calibrator,
    private state: EstimatorState,
    private readonly statePath: string | undefined,
    private readonly log: Logger | undefined,
  ) {
    this.regions = regionsKey(cfg);
  }

  static async create(cfg: Pm25CameraConfig, opts: EstimatorOptions = {}): Promise<Pm25Estimator> {
    const extractor = await FeatureExtractor.create(cfg, opts.providers);
    const saved = opts.statePath ? loadOrStartOver(opts.statePath, opts.log) : undefined;
    const state: EstimatorState = saved ?? {
      version: 1,
      calibrator: new Calibrator(cfg.calibration, cfg.prior).snapshot(),
      gates: initialGateState(),
      reference: null,
    };
    const calibrator = new Calibrator(cfg.calibration, cfg.prior, state.calibrator);
    return new Pm25Estimator(cfg, extractor, calibrator, state, opts.statePath, opts.log);
  }

  status(): CalibrationStatus {
    return this.calibrator.status();
  }

  /**
   * Measures one frame and estimates PM2.5 from it, or says why it cannot. A view nudged beyond the regions'
   * margins (maxShiftPx) but within followShiftPx is moved back onto the reference view and measured again.
   */
  async evaluate(frame: RgbFrame, ts: Date): Promise<FrameEstimate> {
    const raw = await this.extractor.run(frame);
    const physics = derivePhysics(this.cfg, raw);
    const shift = this.registration(raw, ts, physics);
    if (!shift) return this.estimate(physics, ts, shift);
    const view = this.viewOf(shift);
    this.noteView(view, shift);
    if (view !== 'following') return this.estimate(physics, ts, shift);
    const realigned = await this.extractor.run(realignFrame(frame, shift.dx, shift.dy));
    // The gates judge what is left after realignment; the estimate reports how far the camera moved.
    const residual = this.referenceView!.shiftOf(realigned.thumb);
    return this.estimate(derivePhysics(this.cfg, realigned), ts, residual, shift);
  }

  /** The estimate for already-measured features (the replay tool and tests reuse it). */
  estimateFromRaw(raw: RawFeatures, ts: Date): FrameEstimate {
    const physics = derivePhysics(this.cfg, raw);
    return this.estimate(physics, ts, this.registration(raw, ts, physics));
  }

  private estimate(physics: PhysicsFeatures, ts: Date, shift?: Shift, followed?: Shift): FrameEstimate {
    const humidity =
      this.humidity && Math.abs(ts.getTime() - this.humidity.ts) <= HUMIDITY_MAX_AGE_MS
        ? this.humidity.value
        : undefined;
    const gates = applyGates(this.cfg, this.state.gates, {
      ts,
      localHour: localHour(ts, this.cfg.timezone),
      physics,
      ...(shift ? { shift } : {}),
      ...(humidity === undefined ? {} : { humidity }),
    });
    const features = summarise(physics, followed ?? shift);
    const calibration = this.calibrator.status();
    const base = { ts: ts.toISOString(), flags: gates.flags, features, calibration };
    if (!gates.passed) return { ...base, estimable: false, pm25: null, i80: null, i95: null, source: null };

    const x = regressorValues(this.cfg.prior, physics, this.cfg.calibration.features);
    this.recent.remember(ts.getTime(), x);
    const site = this.calibrator.estimate(x, this.cfg.prior.logSd);
    const est = site ?? priorInterval(this.cfg.prior, physics);
    return {
      ...base,
      estimable: true,
      pm25: est.pm25,
      i80: est.i80,
      i95: est.i95,
      source: site ? 'site-model' : 'physical-prior',
    };
  }

  /**
   * A co-located sensor's reading: pairs it with the evaluated frame nearest in time and feeds the calibrator.
   * Returns whether it paired (readings at night or far from any usable frame do not).
   */
  addReading(reading: ReferenceReading): boolean {
    return this.offerReading(reading).paired;
  }

  /** addReading, saying why a reading did not pair (the sensor's integrator reads it in the log). */
  offerReading(reading: ReferenceReading): ReadingOutcome {
    const t = reading.ts.getTime();
    if (reading.humidity !== undefined) this.humidity = { ts: t, value: reading.humidity };
    if (!(reading.pm25 > 0)) return { paired: false, why: 'zero' };
    if (reading.pm25 < minFittedPm25) return { paired: false, why: 'below-floor' };
    // A reading delivered twice (MQTT QoS 1, a retained one at each reconnect) would pair again, with the
    // next-nearest frame; checked first, so that a repeat after a restart (no frames yet) says so.
    if (this.calibrator.hasPairAt(t)) return { paired: false, why: 'repeat' };
    if (this.calibrator.hasPairNear(t, minPairSpacingMs)) return { paired: false, why: 'too-close' };
    const best = this.recent.nearest(t, this.cfg.calibration.pairWithinMinutes * 60_000);
    if (!best) return { paired: false, why: 'no-frame' };
    this.calibrator.add({ ts: t, x: best.x, y: Math.log(reading.pm25) });
    this.recent.take(best);
    this.save();
    return { paired: true };
  }

  /** Writes the state; a failed write (full disk, read-only directory) is reported, never thrown. */
  save(): void {
    if (!this.statePath) return;
    this.state.calibrator = this.calibrator.snapshot();
    try {
      saveState(this.statePath, this.state);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (reason !== this.saveFailure)
        this.log?.warn('PM2.5 state not saved, kept in memory', { file: this.statePath, reason });
      this.saveFailure = reason;
      return;
    }
    if (this.saveFailure !== undefined) this.log?.info('PM2.5 state saved again', { file: this.statePath });
    this.saveFailure = undefined;
  }

  async close(): Promise<void> {
    this.save();
    await this.extractor.close();
  }

  /** Where a measured shift leaves the view: inside the margins, followed, or moved too far ('moved'). */
  private viewOf(shift: Shift): ViewState {
    const g = this.cfg.gates;
    const size = Math.hypot(shift.dx, shift.dy);
    if (shift.peak < g.minRegistrationPeak || size > Math.max(g.maxShiftPx, g.followShiftPx)) return 'moved';
    return size > g.maxShiftPx ? 'following' : 'within';
  }

  /** Logs each change of the view's state: a view that moved means the installer should check the regions. */
  private noteView(view: ViewState, shift: Shift): void {
    if (view === this.view) return;
    const at = { shiftPx: [shift.dx, shift.dy], peak: Math.round(shift.peak * 1000) / 1000 };
    if (view === 'following')
      this.log?.warn("PM2.5 view moved beyond its regions' margins; frames realigned, check the regions", at);
    else if (view === 'moved')
      this.log?.warn('PM2.5 view no longer matches its reference; estimates withheld (moved)', at);
    else this.log?.info("PM2.5 view back within its regions' margins", at);
    this.view = view;
  }

  /**
   * Shift against the reference view. The first frame in good light becomes the reference, and so does the
   * first one after the regions change: an installer who re-aimed the camera sets the regions again.
   */
  private registration(raw: RawFeatures, ts: Date, physics: PhysicsFeatures): Shift | undefined {
    if (lightFlags(this.cfg, ts, physics).flags.length) return undefined;
    const ref = this.state.reference;
    const regions = this.regions;
    const stale = ref && ref.regions !== undefined && ref.regions !== regions;
    if (!ref || stale || ref.width !== raw.thumbWidth || ref.height !== raw.thumbHeight) {
      if (stale) this.log?.info('PM2.5 regions changed: this frame is the new reference view');
      this.state.reference = {
        width: raw.thumbWidth,
        height: raw.thumbHeight,
        thumb: Array.from(raw.thumb, (v) => Math.round(v * 1e4) / 1e4),
        regions,
      };
      this.referenceView = undefined;
      this.save();
      return undefined;
    }
    // A reference saved before regions were recorded belongs to the regions in use now.
    ref.regions ??= regions;
    this.referenceView ??= new ReferenceView(Float32Array.from(ref.thumb), ref.width, ref.height);
    return this.referenceView.shiftOf(raw.thumb);
  }
}

/** The regions a reference view was taken for (frame, sky, targets, near, registration), as one string. */
export function regionsKey(cfg: Pm25CameraConfig): string {
  const { frame, sky, targets, near, registration } = cfg;
  return JSON.stringify([frame, sky, targets.map((t) => t.rect), near.rect, registration]);
}

/** The saved state, or none (calibration starts over) when the file cannot be used: reported, never thrown. */
function loadOrStartOver(file: string, log: Logger | undefined): EstimatorState | undefined {
  removeStaleTemps(file);
  try {
    return loadState(file);
  } catch (err) {
    const corrupt = err instanceof Pm25StateError && err.corrupt;
    const keptAs = corrupt ? setAside(file) : undefined;
    log?.warn('PM2.5 state unreadable, calibration starts over', {
      file,
      reason: err instanceof Error ? err.message : String(err),
      ...(keptAs ? { keptAs } : {}),
    });
    return undefined;
  }
}

function summarise(p: PhysicsFeatures, shift: Shift | undefined): FeatureSummary {
  return {
    betaPerKm: finite(p.beta),
    visibilityKm: finite(p.visibilityKm),
    angstrom: finite(p.angstrom),
    skyLuminance: p.skyLuminance,
    skyBlueRed: p.skyBlueRed,
    skySaturation: p.skySaturation,
    sharpness: p.sharpness,
    transmission: Object.fromEntries(p.targets.map((t) => [t.name, t.transmission])),
    ...(shift ? { shiftPx: [shift.dx, shift.dy] as [number, number] } : {}),
  };
}

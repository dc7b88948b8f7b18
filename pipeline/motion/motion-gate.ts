import { MotionConfig, type MotionConfigInput } from '../../config/safety-schema.js';
import type { Letterbox } from '../../models/types.js';
import { SceneClock } from '../tracking/scene-clock.js';
import { MotionDetector, type MotionResult } from './motion-detector.js';

/** Why a frame went to inference, or that it did not. */
export type GateDecision = 'off' | 'first' | 'scene-change' | 'motion' | 'heartbeat' | 'gated';

/** The part of a camera frame the gate reads: its letterboxed bytes, before they go to a worker. */
export interface GateFrame {
  data: Uint8Array;
  letterbox: Letterbox;
  ts: number;
  pts: number;
}

export interface GateCounts {
  /** Frames let through to inference, by reason. */
  inferred: number;
  /** Frames skipped because nothing moved. */
  gated: number;
  first: number;
  sceneChange: number;
  motion: number;
  heartbeat: number;
}

/**
 * Decides per frame whether a full inference is needed: always while something moves (and `holdS`
 * after), otherwise at the heartbeat rate, so objects standing still stay tracked. Costs one small grey
 * downscale and a pass over it (~0.1–0.5 ms); must see every frame, in order, to keep its background.
 */
export class MotionGate {
  readonly cfg: MotionConfig;
  readonly counts: GateCounts = { inferred: 0, gated: 0, first: 0, sceneChange: 0, motion: 0, heartbeat: 0 };
  /** The latest motion measurement (status page, tests). */
  last: MotionResult | undefined;
  private readonly detector: MotionDetector;
  private readonly clock: SceneClock;
  private lastMotion = -Infinity;
  private lastInfer = -Infinity;

  constructor(cfg: MotionConfigInput = {}, opts: { realtime?: boolean } = {}) {
    this.cfg = MotionConfig.parse(cfg);
    this.detector = new MotionDetector(this.cfg);
    this.clock = new SceneClock(opts.realtime ?? true);
  }

  shouldInfer(frame: GateFrame): boolean {
    return this.decide(frame) !== 'gated';
  }

  decide(frame: GateFrame): GateDecision {
    const decision = this.judge(frame);
    if (decision === 'gated') {
      this.counts.gated++;
      return decision;
    }
    this.counts.inferred++;
    if (decision === 'first') this.counts.first++;
    else if (decision === 'scene-change') this.counts.sceneChange++;
    else if (decision === 'motion') this.counts.motion++;
    else if (decision === 'heartbeat') this.counts.heartbeat++;
    return decision;
  }

  private judge(frame: GateFrame): GateDecision {
    if (!this.cfg.enabled) return 'off';
    const time = this.clock.advance(frame.ts, frame.pts);
    const m = this.detector.detect(frame.data, frame.letterbox, time);
    this.last = m;
    const first = this.lastInfer === -Infinity;
    if (m.moving) this.lastMotion = time;
    let decision: GateDecision = 'gated';
    if (first) decision = 'first';
    else if (m.sceneChange) decision = 'scene-change';
    else if (time - this.lastMotion <= this.cfg.holdS * 1000) decision = 'motion';
    // Half a millisecond of slack: pts in ms is not exact, and 10 frames at 10 fps must make one second.
    else if (time - this.lastInfer >= 1000 / this.cfg.heartbeatFps - 0.5) decision = 'heartbeat';
    if (decision !== 'gated') this.lastInfer = time;
    return decision;
  }
}

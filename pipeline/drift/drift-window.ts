import { Observable, type OperatorFunction } from 'rxjs';
import type { DriftConfig } from '../../config/drift-schema.js';
import type { InputSpec } from '../../models/types.js';
import type { DetectionEvent } from '../camera/camera-pipeline.js';
import { DriftAccumulator } from './drift-accumulator.js';
import { DriftComparator, type StatScore } from './drift-comparator.js';
import type { DriftState } from './drift-state.js';
import { imageStatsOf, samplingStep, type ImageStats } from './image-stats.js';
import type { DriftProfile } from './profile.js';
import type { DriftKey, DriftReference, StoredWindow, WindowStatus } from './drift-records.js';
import type { ReferenceStore } from './reference-store.js';

export interface DriftWindowOptions extends DriftKey {
  config: DriftConfig;
  /** Where closed windows and references live; without it only `reference` is compared with. */
  store?: ReferenceStore;
  /** A fixed reference, used when there is no store (or the store has none for this key). */
  reference?: DriftReference | null;
  /** The time of an event in ms; windows are aligned multiples of windowMinutes on this clock. Default: capture time. */
  clock?: (event: DetectionEvent) => number;
  /** Pixel order of the frames (the detector's input spec). */
  pixelOrder?: InputSpec['pixelOrder'];
  /** Wall clock for the creation time of automatic references. */
  now?: () => number;
}

export type ReferenceInfo = Omit<DriftReference, 'profile'>;

/** One closed window: what was seen, how it compares with the reference, and the camera's drift state. */
export interface DriftReport extends DriftKey {
  window: { start: number; end: number; frames: number; imageFrames: number };
  status: WindowStatus;
  state: DriftState;
  previous: DriftState;
  changed: boolean;
  /** When the current state began (the window clock). */
  stateSince: number;
  /** The largest driving PSI; null when the window was not scored. */
  score: number | null;
  drivers: string[];
  moved: string[];
  scores: StatScore[];
  reference: ReferenceInfo | null;
  /** While there is no reference and one is being collected automatically. */
  baseline: { collectedMs: number; neededMs: number; built: boolean } | null;
  profile: DriftProfile;
}

/**
 * One camera's drift windows. The agent calls add() per DetectionEvent (and tick() from a timer, so a
 * window closes even when frames stop); every closed window is stored, compared with the active
 * reference and returned as a report. Without a reference, one is built automatically from the first
 * `autoBaselineHours` of windows of this camera, model and config revision.
 */
/** A clock that reads earlier than the windows by more than this (and than one window) was stepped back. */
const minClockStepMs = 60_000;

export class DriftWindow {
  private readonly acc: DriftAccumulator;
  private comparator: DriftComparator;
  private readonly windowMs: number;
  private readonly clock: (event: DetectionEvent) => number;
  private readonly now: () => number;
  private start: number | null = null;
  /** The window clock of the open window's first frame (a camera may start in the middle of a window). */
  private firstAt = 0;
  /** End of the last closed window: a late event (captured before it, processed after) counts in the next. */
  private closedUntil = -Infinity;
  private stateSince: number | null;
  private cached: DriftReference | null = null;
  /** The reference the state was reached against: a new one (a baseline, an import) starts it afresh. */
  private stateReference: number | null;
  /** The stored window the state resumed from (a restart), until this run closes a window of its own. */
  private resumedFrom: StoredWindow | null;

  constructor(private readonly opts: DriftWindowOptions) {
    this.acc = new DriftAccumulator({ maxLabels: opts.config.maxLabels });
    this.windowMs = opts.config.windowMinutes * 60_000;
    this.clock = opts.clock ?? ((e) => e.ts);
    this.now = opts.now ?? Date.now;
    // After a restart the state resumes from the last stored window, if it was reached against the
    // reference that is active now.
    const active = opts.store?.activeReferenceId(opts) ?? opts.reference?.id ?? null;
    const stored = opts.store?.lastWindow(opts) ?? null;
    const last = stored && (stored.referenceId ?? null) === active ? stored : null;
    this.comparator = new DriftComparator(opts.config, last?.state ?? 'ok');
    this.stateSince = last?.stateSince ?? null;
    this.stateReference = active;
    this.resumedFrom = last;
  }

  get state(): DriftState {
    return this.comparator.machine.state;
  }

  /**
   * Counts one processed frame. `image` are its image statistics when they were taken before the buffer
   * went to inference; left out, they are taken from event.frame if its buffer is still there.
   */
  add(event: DetectionEvent, image?: ImageStats | null): DriftReport[] {
    const raw = this.clock(event);
    const reports = this.steppedBack(raw) ? this.restartClock() : [];
    const t = Math.max(raw, this.closedUntil);
    if (this.start !== null && t >= this.start + this.windowMs) reports.push(this.close());
    if (this.start === null) {
      this.start = Math.floor(t / this.windowMs) * this.windowMs;
      this.firstAt = t;
    }
    const stats =
      image === undefined
        ? imageStatsOf(
            event.frame,
            this.opts.pixelOrder,
            samplingStep(event.frame.letterbox, this.opts.config),
          )
        : image;
    this.acc.addFrame(stats);
    this.acc.addDetections(event);
    return reports;
  }

  /**
   * The stored window the state resumed from after a restart, as a report (scored again against the
   * active reference), so the status page shows the state and its drivers before this run's first window
   * closes, as the retained summary on MQTT does. Null on a fresh key.
   */
  resumedReport(): DriftReport | null {
    const last = this.resumedFrom;
    if (!last) return null;
    const key: DriftKey = { camera: last.camera, modelId: last.modelId, configRevision: last.configRevision };
    const reference = this.referenceFor(key);
    // A window flushed short at stop is not scored: the drivers come from the last scored one, if it
    // was in the same state against the same reference.
    const scored = last.status === 'scored' ? last : (this.opts.store?.lastWindow(key, 'scored') ?? null);
    const explains =
      scored && reference && scored.referenceId === reference.id && scored.state === last.state;
    const comparison = explains
      ? new DriftComparator(this.opts.config, last.state).compare(scored.profile, reference.profile)
      : null;
    const { profile: _p, ...refInfo } = reference ?? { profile: null };
    const { frames, imageFrames } = last.profile;
    return {
      ...key,
      window: { start: last.start, end: last.end, frames, imageFrames },
      status: last.status,
      state: last.state,
      previous: last.state,
      changed: false,
      stateSince: last.stateSince,
      score: comparison?.score ?? null,
      drivers: comparison?.drivers ?? [],
      moved: comparison?.moved ?? [],
      scores: comparison?.scores ?? [],
      reference: reference ? (refInfo as ReferenceInfo) : null,
      baseline: null,
      profile: last.profile,
    };
  }

  /** Closes the open window if `t` (the window clock) is past its end: frames may have stopped. */
  tick(t: number): DriftReport[] {
    if (this.steppedBack(t)) return this.restartClock();
    return this.start !== null && t >= this.start + this.windowMs ? [this.close()] : [];
  }

  /**
   * The clock reads well before the open (or last closed) window: it was stepped back (NTP correcting a
   * box that booted in the future). Late frames are never this late; clamping them to the old window
   * instead kept that window open, and drift silent, for as long as the step.
   */
  private steppedBack(t: number): boolean {
    return t < (this.start ?? this.closedUntil) - Math.max(this.windowMs, minClockStepMs);
  }

  /** Closes the open window as it is and lets windows follow the clock from where it reads now. */
  private restartClock(): DriftReport[] {
    const reports = this.start === null ? [] : [this.close()];
    this.closedUntil = -Infinity;
    return reports;
  }

  /** Closes the open window now, however short (at stop). */
  flush(): DriftReport | null {
    return this.start === null ? null : this.close();
  }

  /** Extra observations for the open window (PM2.5 estimates, quality gates). */
  get accumulator(): DriftAccumulator {
    return this.acc;
  }

  private close(): DriftReport {
    const { config, store } = this.opts;
    const key: DriftKey = {
      camera: this.opts.camera,
      modelId: this.opts.modelId,
      configRevision: this.opts.configRevision,
    };
    const start = this.start!;
    const end = start + this.windowMs;
    this.closedUntil = end;
    const profile = this.acc.snapshot();
    this.acc.reset();
    this.start = null;
    this.resumedFrom = null;

    let reference = this.referenceFor(key);
    const referenceId = reference?.id ?? null;
    if (referenceId !== this.stateReference) {
      this.comparator = new DriftComparator(config, 'ok');
      this.stateSince = null;
      this.stateReference = referenceId;
    }
    let baseline: DriftReport['baseline'] = null;
    let status: WindowStatus;
    if (profile.frames < config.minFrames) status = 'too-few-samples';
    else status = reference ? 'scored' : 'no-reference';

    const comparison = status === 'scored' ? this.comparator.compare(profile, reference!.profile) : null;
    const state = this.comparator.machine.state;
    // A change dates from the window that made it; the state a camera starts in, from its first frame.
    if (comparison?.changed) this.stateSince = end;
    else if (this.stateSince === null) this.stateSince = this.firstAt;
    const stateSince = this.stateSince;
    store?.saveWindow({ ...key, start, end, status, state, stateSince, profile, referenceId });
    store?.pruneWindows(end - config.retainDays * 86_400_000);

    if (!reference && store && config.autoBaselineHours > 0) {
      const neededMs = config.autoBaselineHours * 3_600_000;
      const span = store.span(key);
      const collectedMs = span ? span.last - span.first : 0;
      const built = span !== null && collectedMs >= neededMs;
      if (built) {
        const to = span.first + Math.ceil(neededMs / this.windowMs) * this.windowMs;
        reference = store.buildReference(key, { from: span.first, to }, 'auto', this.now());
        this.cached = reference;
      }
      baseline = { collectedMs, neededMs, built };
    }

    const { profile: _p, ...refInfo } = reference ?? { profile: null };
    return {
      ...key,
      window: { start, end, frames: profile.frames, imageFrames: profile.imageFrames },
      status,
      state,
      previous: comparison?.previous ?? state,
      changed: comparison?.changed ?? false,
      stateSince,
      score: comparison?.score ?? null,
      drivers: comparison?.drivers ?? [],
      moved: comparison?.moved ?? [],
      scores: comparison?.scores ?? [],
      reference: reference ? (refInfo as ReferenceInfo) : null,
      baseline,
      profile,
    };
  }

  /** The store's active reference (reloaded only when its id changes), else the fixed one. */
  private referenceFor(key: DriftKey): DriftReference | null {
    const store = this.opts.store;
    const id = store?.activeReferenceId(key) ?? null;
    if (id !== null && this.cached?.id !== id) this.cached = store!.reference(id);
    if (id !== null) return this.cached;
    return this.opts.reference ?? null;
  }
}

/** The RxJS form: detection events in, a report per closed window out (the open one is flushed on complete). */
export function driftWindows(opts: DriftWindowOptions): OperatorFunction<DetectionEvent, DriftReport> {
  return (source) =>
    new Observable<DriftReport>((subscriber) => {
      const window = new DriftWindow(opts);
      return source.subscribe({
        next: (event) => {
          for (const report of window.add(event)) subscriber.next(report);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          const last = window.flush();
          if (last) subscriber.next(last);
          subscriber.complete();
        },
      });
    });
}

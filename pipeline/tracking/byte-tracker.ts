import { TrackingConfig } from '../../config/safety-schema.js';
import type { Box, Detection } from '../../models/types.js';
import type { BoxNoise } from './box-kalman.js';
import { buffered, iou } from './iou.js';
import { linearAssignment } from './linear-assignment.js';
import { Track, type TrackView } from './track.js';

export interface TrackerUpdate {
  /** The track id of each input detection (same order); undefined where it belongs to no reported track. */
  ids: (number | undefined)[];
  /** Every reported track after this update, tracked and lost. */
  tracks: TrackView[];
  /** Reported tracks forgotten in this update, as last seen. */
  ended: TrackView[];
}

/** How fast a lost track's match window widens (share of its size per second unseen), and its limit. */
const lostBufferPerS = 0.3;
const lostBufferMax = 0.6;

/**
 * ByteTrack-style multi-object tracker. Each update predicts every track forward by the elapsed scene
 * time, then associates in stages by IoU (Hungarian): sure detections with tracked and lost tracks, then
 * the unsure ones with tracks still unmatched (an occluded person scores low but is still there), then
 * the remaining sure ones with tentative tracks. Only same-label pairs match. A track is reported after
 * `minHits` matches in a row and forgotten when lost longer than `lostTtlS` and `lostMinMisses` updates.
 */
export class ByteTracker {
  private tracks: Track[] = [];
  private nextId = 1;
  private lastT: number | undefined;
  private readonly cfg: TrackingConfig;

  constructor(
    cfg: Partial<TrackingConfig> = {},
    private readonly noise?: BoxNoise,
  ) {
    this.cfg = TrackingConfig.parse(cfg);
  }

  /** `t`: scene time in seconds (only differences matter). Detections are in source pixels. */
  update(detections: readonly Detection[], t: number): TrackerUpdate {
    const { cfg } = this;
    const first = this.lastT === undefined;
    const dt = first ? 0 : Math.max(0, t - this.lastT!);
    this.lastT = t;
    for (const track of this.tracks) track.predict(dt);

    const ids: (number | undefined)[] = new Array(detections.length).fill(undefined);
    const high: number[] = [];
    const low: number[] = [];
    detections.forEach((d, i) => {
      if (d.score >= cfg.highScore) high.push(i);
      else if (d.score >= cfg.lowScore) low.push(i);
    });
    const matched = new Set<Track>();
    const take = (pairs: [Track, number][]) => {
      for (const [track, i] of pairs) {
        track.match(detections[i]!, t);
        matched.add(track);
        if (!track.confirmed && track.hits >= cfg.minHits) this.confirm(track);
        if (track.confirmed) ids[i] = track.id;
      }
    };

    // Stage 1: sure detections against every confirmed track; lost ones get a widening window.
    const confirmed = this.tracks.filter((tr) => tr.confirmed);
    const s1 = this.associate(confirmed, high, detections, t, cfg.matchIou);
    take(s1.pairs);
    // Stage 2: unsure detections keep tracks that were tracked until now (not lost ones: too risky).
    const stillTracked = s1.tracks.filter((tr) => tr.status === 'tracked');
    const s2 = this.associate(stillTracked, low, detections, t, cfg.lowMatchIou);
    take(s2.pairs);
    // Stage 3: what is left of the sure detections against tentative tracks.
    const tentative = this.tracks.filter((tr) => tr.status === 'tentative');
    const s3 = this.associate(tentative, s1.detections, detections, t, cfg.matchIou);
    take(s3.pairs);

    const ended: TrackView[] = [];
    const kept: Track[] = [];
    for (const track of this.tracks) {
      if (!matched.has(track)) {
        // A tentative track must be matched on consecutive frames, or it was noise.
        if (track.status === 'tentative') continue;
        track.miss();
        if (t - track.lastSeen > cfg.lostTtlS && track.misses >= cfg.lostMinMisses) {
          ended.push(track.view());
          continue;
        }
      }
      kept.push(track);
    }
    this.tracks = kept;

    for (const i of s3.detections) {
      const det = detections[i]!;
      if (det.score < cfg.newTrackScore) continue;
      const track = new Track(det, t, this.noise);
      this.tracks.push(track);
      // On the very first frame everything present is taken as real, as ByteTrack does.
      if (first || cfg.minHits <= 1) {
        this.confirm(track);
        ids[i] = track.id;
      }
    }
    return { ids, tracks: this.views(), ended };
  }

  /** Tracks held, lost ones included: while there are none, nothing is being timed. */
  get size(): number {
    return this.tracks.length;
  }

  /** Reported tracks now. */
  views(): TrackView[] {
    return this.tracks.filter((tr) => tr.confirmed).map((tr) => tr.view());
  }

  private confirm(track: Track): void {
    track.id = this.nextId++;
    track.status = 'tracked';
  }

  /** One association stage: returns the pairs and what stayed unmatched on each side. */
  private associate(
    tracks: Track[],
    dets: number[],
    detections: readonly Detection[],
    t: number,
    minIou: number,
  ) {
    if (!tracks.length || !dets.length) return { pairs: [] as [Track, number][], tracks, detections: dets };
    const predicted = tracks.map((tr) => ({ box: tr.predicted(), buffer: this.bufferOf(tr, t) }));
    const cost = tracks.map((tr, a) =>
      dets.map((i) => {
        const det = detections[i]!;
        if (det.label !== tr.label) return Infinity;
        return 1 - bufferedIou(predicted[a]!.box, det.box, predicted[a]!.buffer);
      }),
    );
    const assignment = linearAssignment(cost, 1 - minIou);
    const pairs: [Track, number][] = assignment.map(([a, b]) => [tracks[a]!, dets[b]!]);
    const usedTracks = new Set(assignment.map(([a]) => a));
    const usedDets = new Set(assignment.map(([, b]) => b));
    return {
      pairs,
      tracks: tracks.filter((_, a) => !usedTracks.has(a)),
      detections: dets.filter((_, b) => !usedDets.has(b)),
    };
  }

  private bufferOf(track: Track, t: number): number {
    if (track.status !== 'lost') return 0;
    return Math.min(lostBufferMax, lostBufferPerS * (t - track.lastSeen));
  }
}

function bufferedIou(a: Box, b: Box, ratio: number): number {
  return ratio > 0 ? iou(buffered(a, ratio), buffered(b, ratio)) : iou(a, b);
}

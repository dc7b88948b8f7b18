import type { Box, Detection } from '../../models/types.js';
import { BoxKalman, type BoxNoise } from './box-kalman.js';

/** tentative: seen, not yet reported; tracked: matched on the last update; lost: unmatched, still predicted. */
export type TrackStatus = 'tentative' | 'tracked' | 'lost';

/** What the rest of the agent sees of a reported track. */
export interface TrackView {
  id: number;
  label: string;
  classId: number;
  score: number;
  /** The last detection's box (source pixels), not the prediction: rules judge what was seen. */
  box: Box;
  /** The motion model's current estimate. */
  predicted: Box;
  status: 'tracked' | 'lost';
  /** Scene time (s) of the first and the latest match. */
  firstSeen: number;
  lastSeen: number;
  /** Frames matched in all. */
  hits: number;
}

/** One object followed across frames. Ids are given when a track is confirmed, so tentative ones spend none. */
export class Track {
  id = 0;
  status: TrackStatus = 'tentative';
  label: string;
  classId: number;
  score: number;
  box: Box;
  hits = 1;
  /** Consecutive updates without a match. */
  misses = 0;
  readonly firstSeen: number;
  lastSeen: number;
  private readonly kalman: BoxKalman;

  constructor(det: Detection, t: number, noise?: BoxNoise) {
    this.label = det.label;
    this.classId = det.classId;
    this.score = det.score;
    this.box = det.box;
    this.firstSeen = t;
    this.lastSeen = t;
    this.kalman = new BoxKalman(det.box, noise);
  }

  get confirmed(): boolean {
    return this.id > 0;
  }

  predict(dt: number): void {
    this.kalman.predict(dt, this.status === 'lost');
  }

  /** Where the motion model expects the object now. */
  predicted(): Box {
    return this.kalman.box();
  }

  match(det: Detection, t: number): void {
    this.kalman.update(det.box);
    this.box = det.box;
    this.score = det.score;
    this.lastSeen = t;
    this.hits++;
    this.misses = 0;
    if (this.status === 'lost') this.status = 'tracked';
  }

  miss(): void {
    this.misses++;
    if (this.status === 'tracked') this.status = 'lost';
  }

  view(): TrackView {
    return {
      id: this.id,
      label: this.label,
      classId: this.classId,
      score: this.score,
      box: this.box,
      predicted: this.kalman.box(),
      status: this.status === 'lost' ? 'lost' : 'tracked',
      firstSeen: this.firstSeen,
      lastSeen: this.lastSeen,
      hits: this.hits,
    };
  }
}

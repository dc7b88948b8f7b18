import type { ZoneConfig } from '../../config/safety-schema.js';
import type { TrackView } from '../tracking/track.js';
import { footPoint, pointInPolygon } from './geometry.js';

/** A track crossing a zone's edge, confirmed. `at` is when it was first seen on the new side (scene ms). */
export interface ZoneTransition {
  kind: 'enter' | 'exit';
  track: TrackView;
  at: number;
  /** The exit is the track ending inside the zone, not walking out. */
  ended?: boolean;
}

interface Membership {
  inside: boolean;
  /** Scene ms the current side was entered. */
  since: number;
  /** A side seen but not yet confirmed: since when, and on how many frames in a row. */
  pendingSince: number;
  pendingFrames: number;
  track: TrackView;
}

/**
 * Who is inside one zone, judged by each track's foot point. A side change counts after `confirmFrames`
 * observations in a row, so a box jittering on the edge does not flap. A lost track keeps its side until
 * it is seen again or ends (ending inside is an exit with `ended`).
 */
export class ZoneOccupancy {
  private readonly members = new Map<number, Membership>();

  constructor(readonly zone: ZoneConfig) {}

  update(time: number, tracks: readonly TrackView[], ended: readonly TrackView[]): ZoneTransition[] {
    const out: ZoneTransition[] = [];
    for (const track of tracks) {
      if (track.status !== 'tracked') {
        const m = this.members.get(track.id);
        if (m) m.track = track;
        continue;
      }
      const inside = pointInPolygon(footPoint(track.box), this.zone.polygon);
      let m = this.members.get(track.id);
      if (!m) {
        m = { inside: false, since: time, pendingSince: time, pendingFrames: 0, track };
        this.members.set(track.id, m);
      }
      m.track = track;
      if (inside === m.inside) {
        m.pendingFrames = 0;
        continue;
      }
      if (m.pendingFrames === 0) m.pendingSince = time;
      m.pendingFrames++;
      if (m.pendingFrames < this.zone.confirmFrames) continue;
      m.inside = inside;
      m.since = m.pendingSince;
      m.pendingFrames = 0;
      out.push({ kind: inside ? 'enter' : 'exit', track, at: m.since });
    }
    for (const track of ended) {
      const m = this.members.get(track.id);
      this.members.delete(track.id);
      if (m?.inside)
        out.push({ kind: 'exit', track, at: Math.min(time, track.lastSeen * 1000), ended: true });
    }
    return out;
  }

  /** Tracks inside now, with the scene ms they entered. */
  inside(): { track: TrackView; since: number }[] {
    return [...this.members.values()]
      .filter((m) => m.inside)
      .map((m) => ({ track: m.track, since: m.since }));
  }
}

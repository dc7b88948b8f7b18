import { ProximityConfig } from '../../config/safety-schema.js';
import type { TrackView } from '../tracking/track.js';
import type { EventBuilder, OpenEvent, SafetyEventMessage } from './event-builder.js';
import { distanceToBox, footPoint, growBox, insideBox, marginPx } from './geometry.js';
import { severities, type Severity } from './payloads.js';

interface PairState {
  person: TrackView;
  vehicle: TrackView;
  event?: OpenEvent;
  /** Scene ms the person was first seen outside the margin while the event was open. */
  outsideSince?: number;
  minDistance: number;
  severity: Severity;
  /** Scene ms the pair's last event ended (cooldown). */
  endedAt?: number;
}

const rank = (s: Severity) => severities.indexOf(s);

/**
 * `person_near_forklift`: a person's foot point inside a vehicle's box grown by the margin. One event per
 * person-vehicle pair of tracks while that lasts, ended once the person has been clear for `clearS` (or a
 * track ended); after it ends the pair waits `cooldownS` before it may raise another. Severity comes from
 * the foot point's distance to the vehicle's own box; a rise during an event is sent as an `update`.
 */
export class ProximityRule {
  private readonly pairs = new Map<string, PairState>();
  readonly cfg: ProximityConfig;

  constructor(
    cfg: Partial<ProximityConfig>,
    private readonly builder: EventBuilder,
  ) {
    this.cfg = ProximityConfig.parse(cfg);
  }

  update(time: number, tracks: readonly TrackView[], ended: readonly TrackView[]): SafetyEventMessage[] {
    const out: SafetyEventMessage[] = [];
    if (!this.cfg.enabled) return out;
    const { personLabels, vehicleLabels } = this.cfg;
    // Only tracks seen on this frame are judged; a lost one keeps its pair's state until it returns or ends.
    const seen = tracks.filter((t) => t.status === 'tracked');
    const persons = seen.filter((t) => personLabels.includes(t.label));
    const vehicles = seen.filter((t) => vehicleLabels.includes(t.label));
    for (const person of persons) {
      for (const vehicle of vehicles) {
        if (person.id === vehicle.id) continue;
        this.judge(this.pair(person, vehicle), person, vehicle, time, out);
      }
    }
    if (ended.length) {
      const gone = new Set(ended.map((t) => t.id));
      for (const [key, p] of this.pairs) {
        if (!gone.has(p.person.id) && !gone.has(p.vehicle.id)) continue;
        if (p.event) out.push(this.builder.end(p.event, time, 'track-lost', this.fields(p)));
        this.pairs.delete(key);
      }
    }
    // Clear pairs whose person walked off while the vehicle or the person was not judged this frame.
    for (const p of this.pairs.values()) {
      if (p.event && p.outsideSince !== undefined && time - p.outsideSince >= this.cfg.clearS * 1000)
        this.clear(p, time, out);
    }
    return out;
  }

  /** Ends every open event (camera stopping or reconfigured). */
  close(time: number): SafetyEventMessage[] {
    const out: SafetyEventMessage[] = [];
    for (const p of this.pairs.values())
      if (p.event) out.push(this.builder.end(p.event, time, 'stopped', this.fields(p)));
    this.pairs.clear();
    return out;
  }

  private pair(person: TrackView, vehicle: TrackView): PairState {
    const key = `${person.id}:${vehicle.id}`;
    let p = this.pairs.get(key);
    if (!p) {
      p = { person, vehicle, minDistance: Infinity, severity: 'low' };
      this.pairs.set(key, p);
    }
    p.person = person;
    p.vehicle = vehicle;
    return p;
  }

  private judge(
    p: PairState,
    person: TrackView,
    vehicle: TrackView,
    time: number,
    out: SafetyEventMessage[],
  ): void {
    const foot = footPoint(person.box);
    const near = insideBox(foot, growBox(vehicle.box, this.cfg.margin));
    if (!near) {
      if (p.event && p.outsideSince === undefined) p.outsideSince = time;
      return;
    }
    p.outsideSince = undefined;
    const distance = distanceToBox(foot, vehicle.box);
    const severity = this.severityOf(distance, marginPx(vehicle.box, this.cfg.margin));
    if (!p.event) {
      if (p.endedAt !== undefined && time - p.endedAt < this.cfg.cooldownS * 1000) return;
      p.minDistance = distance;
      p.severity = severity;
      const { event, message } = this.builder.start('person_near_forklift', time, this.fields(p));
      p.event = event;
      out.push(message);
      return;
    }
    p.minDistance = Math.min(p.minDistance, distance);
    if (rank(severity) > rank(p.severity)) {
      p.severity = severity;
      out.push(this.builder.update(p.event, time, this.fields(p)));
    }
  }

  private clear(p: PairState, time: number, out: SafetyEventMessage[]): void {
    out.push(this.builder.end(p.event!, time, 'cleared', this.fields(p), p.outsideSince));
    p.event = undefined;
    p.endedAt = p.outsideSince;
    p.outsideSince = undefined;
  }

  private fields(p: PairState) {
    return { tracks: [p.person, p.vehicle], severity: p.severity, distancePx: p.minDistance };
  }

  private severityOf(distance: number, margin: number): Severity {
    if (distance <= this.cfg.severity.high * margin) return 'high';
    if (distance <= this.cfg.severity.medium * margin) return 'medium';
    return 'low';
  }
}

import type { ZoneConfig, ZoneRule } from '../../config/safety-schema.js';
import type { TrackView } from '../tracking/track.js';
import type { EventBuilder, OpenEvent, SafetyEventMessage } from './event-builder.js';
import { ZoneOccupancy, type ZoneTransition } from './zone-occupancy.js';

/** The id a rule goes by in events. */
export const ruleId = (rule: ZoneRule) => rule.id ?? `${rule.zone}-${rule.type}`;

/** One rule's open events: per track (enter, dwell) or one for the zone (count). */
interface RuleState {
  rule: ZoneRule;
  id: string;
  perTrack: Map<number, { event: OpenEvent | undefined; since: number }>;
  zoneEvent?: { event: OpenEvent; peak: number };
}

/**
 * Applies a camera's zone rules to its tracks, frame by frame: enter (event while inside), leave (one-off
 * on walking out), dwell (event once inside longer than dwellS, until out) and count (event while more
 * than `max` tracks are inside). Each event starts once and ends once.
 */
export class ZoneRules {
  private readonly zones: { occupancy: ZoneOccupancy; rules: RuleState[] }[];

  constructor(
    zones: readonly ZoneConfig[],
    rules: readonly ZoneRule[],
    private readonly builder: EventBuilder,
  ) {
    this.zones = zones.map((zone) => ({
      occupancy: new ZoneOccupancy(zone),
      rules: rules
        .filter((r) => r.zone === zone.id)
        .map((rule) => ({ rule, id: ruleId(rule), perTrack: new Map() })),
    }));
  }

  /** Tracks inside each zone now, for the status page overlay. */
  occupancy(): { zone: string; trackIds: number[] }[] {
    return this.zones.map((z) => ({
      zone: z.occupancy.zone.id,
      trackIds: z.occupancy.inside().map((m) => m.track.id),
    }));
  }

  update(time: number, tracks: readonly TrackView[], ended: readonly TrackView[]): SafetyEventMessage[] {
    const out: SafetyEventMessage[] = [];
    for (const { occupancy, rules } of this.zones) {
      const transitions = occupancy.update(time, tracks, ended);
      for (const state of rules) {
        const watched = (t: TrackView) => state.rule.labels.includes(t.label);
        for (const tr of transitions) if (watched(tr.track)) this.onTransition(state, tr, time, out);
        const inside = occupancy.inside().filter((m) => watched(m.track));
        if (state.rule.type === 'dwell') this.checkDwell(state, state.rule.dwellS, inside, time, out);
        if (state.rule.type === 'count') this.checkCount(state, state.rule.max, inside, time, out);
      }
    }
    return out;
  }

  /** Ends every open event (camera stopping or reconfigured). */
  close(time: number): SafetyEventMessage[] {
    const out: SafetyEventMessage[] = [];
    for (const { rules } of this.zones) {
      for (const state of rules) {
        for (const { event } of state.perTrack.values())
          if (event) out.push(this.builder.end(event, time, 'stopped'));
        state.perTrack.clear();
        if (state.zoneEvent) out.push(this.builder.end(state.zoneEvent.event, time, 'stopped'));
        state.zoneEvent = undefined;
      }
    }
    return out;
  }

  private onTransition(state: RuleState, tr: ZoneTransition, time: number, out: SafetyEventMessage[]): void {
    const { rule, id } = state;
    const zone = rule.zone;
    if (tr.kind === 'enter') {
      if (rule.type === 'enter') {
        const { event, message } = this.builder.start(
          'zone_enter',
          time,
          { tracks: [tr.track], zone, rule: id },
          tr.at,
        );
        state.perTrack.set(tr.track.id, { event, since: tr.at });
        out.push(message);
      } else if (rule.type === 'dwell') {
        state.perTrack.set(tr.track.id, { event: undefined, since: tr.at });
      }
      return;
    }
    if (rule.type === 'leave' && !tr.ended) {
      out.push(this.builder.instant('zone_leave', time, { tracks: [tr.track], zone, rule: id }, tr.at));
      return;
    }
    const open = state.perTrack.get(tr.track.id);
    state.perTrack.delete(tr.track.id);
    if (!open?.event) return;
    const reason = tr.ended ? 'track-lost' : 'left';
    const fields =
      rule.type === 'dwell'
        ? { tracks: [tr.track], dwellS: (tr.at - open.since) / 1000 }
        : { tracks: [tr.track] };
    out.push(this.builder.end(open.event, time, reason, fields, tr.at));
  }

  private checkDwell(
    state: RuleState,
    dwellS: number,
    inside: { track: TrackView; since: number }[],
    time: number,
    out: SafetyEventMessage[],
  ): void {
    for (const { track } of inside) {
      const entry = state.perTrack.get(track.id);
      // Only on a frame the track is seen: a lost track's predicted box may have walked away long ago.
      if (track.status !== 'tracked') continue;
      if (!entry || entry.event || time - entry.since < dwellS * 1000) continue;
      const fields = {
        tracks: [track],
        zone: state.rule.zone,
        rule: state.id,
        dwellS: (time - entry.since) / 1000,
      };
      const { event, message } = this.builder.start('zone_dwell', time, fields, entry.since + dwellS * 1000);
      entry.event = event;
      out.push(message);
    }
  }

  private checkCount(
    state: RuleState,
    max: number,
    inside: { track: TrackView }[],
    time: number,
    out: SafetyEventMessage[],
  ): void {
    const tracks = inside.map((m) => m.track);
    const count = tracks.length;
    const open = state.zoneEvent;
    if (!open) {
      if (count <= max) return;
      const fields = { tracks, zone: state.rule.zone, rule: state.id, count };
      const { event, message } = this.builder.start('zone_count', time, fields);
      state.zoneEvent = { event, peak: count };
      out.push(message);
    } else if (count <= max) {
      out.push(this.builder.end(open.event, time, 'below-max', { count: open.peak }));
      state.zoneEvent = undefined;
    } else if (count > open.peak) {
      open.peak = count;
      out.push(this.builder.update(open.event, time, { tracks, count }));
    }
  }
}

import { describe, expect, it } from 'vitest';
import { EventBuilder, snapshotPath, type EventFields } from '../../../pipeline/safety/event-builder.js';
import { SafetyEventPayload } from '../../../pipeline/safety/payloads.js';
import type { TrackView } from '../../../pipeline/tracking/track.js';

const t0 = 1_764_500_000_000;

function track(id: number, label: string, box = { x1: 10, y1: 20, x2: 50, y2: 120 }): TrackView {
  return {
    id,
    label,
    classId: 0,
    score: 0.9,
    box,
    predicted: box,
    status: 'tracked',
    firstSeen: 0,
    lastSeen: 0,
    hits: 3,
  };
}

/** Ids e1, e2, … in order. */
function ids() {
  let n = 0;
  return () => `e${++n}`;
}

/** Every message must be a valid payload once the outbox gives it an id. */
const valid = <T extends object>(m: T) => {
  SafetyEventPayload.parse({ id: 'msg', ...m });
  return m;
};

describe('EventBuilder', () => {
  it('start → update → end share one eventId; end is null until the end, then set with its reason', () => {
    const b = new EventBuilder('dock-1', { snapshots: true, newId: ids() });
    b.frame = { width: 768, height: 576 };
    const person = track(17, 'person');
    const forklift = track(4, 'forklift');
    const fields: EventFields = { tracks: [person, forklift], severity: 'medium', distancePx: 41.54 };
    const { event, message: start } = b.start('person_near_forklift', t0 + 123, fields);
    const update = b.update(event, t0 + 900, { severity: 'high', distancePx: 3 });
    const end = b.end(event, t0 + 4620, 'cleared', { distancePx: 0 }, t0 + 3600);
    for (const m of [start, update, end]) valid(m);

    expect(start).toMatchObject({
      eventId: 'e1',
      camera: 'dock-1',
      type: 'person_near_forklift',
      phase: 'start',
      ts: t0 + 123,
      start: t0 + 123,
      end: null,
      trackIds: [17, 4],
      labels: ['person', 'forklift'],
      severity: 'medium',
      distancePx: 41.5,
      frame: { width: 768, height: 576 },
      snapshot: '/api/events/e1/snapshot.jpg',
    });
    expect(start).not.toHaveProperty('endReason');
    expect(update).toMatchObject({
      eventId: 'e1',
      phase: 'update',
      ts: t0 + 900,
      start: t0 + 123,
      end: null,
    });
    expect(update).toMatchObject({ severity: 'high', distancePx: 3 });
    expect(update).not.toHaveProperty('endReason');
    // the end keeps what updates changed, and what it was given
    expect(end).toMatchObject({
      eventId: 'e1',
      phase: 'end',
      ts: t0 + 4620,
      start: t0 + 123,
      end: t0 + 3600,
      endReason: 'cleared',
      severity: 'high',
      distancePx: 0,
      snapshot: snapshotPath('e1'),
    });
  });

  it('each started event gets a new id; the default ids are unique UUIDs', () => {
    const b = new EventBuilder('cam', { snapshots: false, newId: ids() });
    const a = b.start('zone_enter', t0, { tracks: [track(1, 'person')] });
    const c = b.start('zone_enter', t0, { tracks: [track(1, 'person')] });
    const i = b.instant('zone_leave', t0, { tracks: [track(1, 'person')] });
    expect([a.event.eventId, c.event.eventId, i.eventId]).toEqual(['e1', 'e2', 'e3']);
    expect(a.message.eventId).toBe(a.event.eventId);

    const d = new EventBuilder('cam');
    const seen = new Set<string>();
    for (let k = 0; k < 20; k++)
      seen.add(d.start('zone_enter', t0, { tracks: [track(1, 'person')] }).event.eventId);
    expect(seen.size).toBe(20);
    for (const id of seen) expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('start can be dated back to when the event began (a confirmed crossing); ts stays the frame time', () => {
    const b = new EventBuilder('cam', { snapshots: true, newId: ids() });
    const { event, message } = b.start(
      'zone_enter',
      t0 + 500,
      { tracks: [track(2, 'person')], zone: 'bay', rule: 'bay-enter' },
      t0 + 400,
    );
    expect(event.start).toBe(t0 + 400);
    expect(message).toMatchObject({
      ts: t0 + 500,
      start: t0 + 400,
      end: null,
      zone: 'bay',
      rule: 'bay-enter',
    });
    // an end without endAt ends at the frame's time
    const end = b.end(event, t0 + 800, 'left');
    expect(end).toMatchObject({ ts: t0 + 800, start: t0 + 400, end: t0 + 800, endReason: 'left' });
    valid(end);
  });

  it('an end never lies before the start', () => {
    const b = new EventBuilder('cam', { snapshots: false, newId: ids() });
    const { event } = b.start('zone_dwell', t0 + 1000, { tracks: [track(2, 'person')], dwellS: 30 });
    const end = b.end(event, t0 + 1100, 'left', {}, t0 + 200);
    expect([end.start, end.end]).toEqual([t0 + 1000, t0 + 1000]);
  });

  it('an instant is ended at once: start and end are the moment it happened', () => {
    const b = new EventBuilder('cam', { snapshots: true, newId: ids() });
    b.frame = { width: 1280, height: 720 };
    const m = b.instant(
      'zone_leave',
      t0 + 700,
      { tracks: [track(5, 'person')], zone: 'bay', rule: 'bay-leave' },
      t0 + 600,
    );
    valid(m);
    expect(m).toMatchObject({
      phase: 'instant',
      ts: t0 + 700,
      start: t0 + 600,
      end: t0 + 600,
      eventId: 'e1',
    });
    expect(m).not.toHaveProperty('endReason');
    expect(m.snapshot).toBe('/api/events/e1/snapshot.jpg');
    const now = b.instant('zone_leave', t0 + 750, { tracks: [track(5, 'person')] });
    expect([now.start, now.end]).toEqual([t0 + 750, t0 + 750]);
  });

  it('rounds times to whole ms and distances, dwell and boxes to 0.1 px; labels once each', () => {
    const b = new EventBuilder('cam', { snapshots: false, newId: ids() });
    const box = { x1: 101.54, y1: 219.96, x2: 160.249, y2: 380.86 };
    const tracks = [track(3, 'person', box), track(9, 'person'), track(4, 'forklift')];
    const m = b.start('zone_count', t0 + 0.6, { tracks, count: 3, dwellS: 12.345, distancePx: 7.06 }).message;
    valid(m);
    expect([m.ts, m.start]).toEqual([t0 + 1, t0 + 1]);
    expect(m).toMatchObject({ count: 3, dwellS: 12.3, distancePx: 7.1 });
    expect(m.labels).toEqual(['person', 'forklift']);
    expect(m.trackIds).toEqual([3, 9, 4]);
    expect(m.boxes[0]).toEqual({
      trackId: 3,
      label: 'person',
      box: { x1: 101.5, y1: 220, x2: 160.2, y2: 380.9 },
    });
    expect(m.boxes.map((x) => [x.trackId, x.label])).toEqual([
      [3, 'person'],
      [9, 'person'],
      [4, 'forklift'],
    ]);
  });

  it('leaves out the fields a rule did not set, and keeps a zero', () => {
    const b = new EventBuilder('cam', { snapshots: false, newId: ids() });
    const m = b.start('zone_enter', t0, { tracks: [track(1, 'person')] });
    for (const k of ['zone', 'rule', 'severity', 'distancePx', 'count', 'dwellS', 'endReason'])
      expect(m).not.toHaveProperty(k);
    const z = b.start('zone_count', t0, {
      tracks: [track(1, 'person')],
      count: 0,
      distancePx: 0,
      dwellS: 0,
    }).message;
    expect(z).toMatchObject({ count: 0, distancePx: 0, dwellS: 0 });
  });

  it('snapshot is null when snapshots are off, the status page path when on', () => {
    const off = new EventBuilder('cam', { snapshots: false, newId: () => 'abc' });
    const on = new EventBuilder('cam', { snapshots: true, newId: () => 'abc' });
    const fields = { tracks: [track(1, 'person')] };
    expect(off.start('zone_enter', t0, fields).message.snapshot).toBeNull();
    expect(off.instant('zone_leave', t0, fields).snapshot).toBeNull();
    expect(on.start('zone_enter', t0, fields).message.snapshot).toBe('/api/events/abc/snapshot.jpg');
    expect(snapshotPath('x-1')).toBe('/api/events/x-1/snapshot.jpg');
    // the default is on
    expect(new EventBuilder('cam').start('zone_enter', t0, fields).message.snapshot).toMatch(
      /^\/api\/events\/.+\/snapshot\.jpg$/,
    );
  });

  it('each message carries the frame size of its own frame, not a later one', () => {
    const b = new EventBuilder('cam', { snapshots: false, newId: ids() });
    b.frame = { width: 640, height: 480 };
    const { event, message } = b.start('zone_enter', t0, { tracks: [track(1, 'person')] });
    b.frame.width = 1920; // the same object changed in place
    b.frame = { width: 1280, height: 720 };
    const end = b.end(event, t0 + 100, 'left');
    expect(message.frame).toEqual({ width: 640, height: 480 });
    expect(end.frame).toEqual({ width: 1280, height: 720 });
  });

  it('an update replaces the tracks and count it is given (a new peak) and keeps the rest', () => {
    const b = new EventBuilder('cam', { snapshots: false, newId: ids() });
    const { event, message } = b.start('zone_count', t0, {
      tracks: [track(1, 'person'), track(2, 'person')],
      zone: 'bay',
      rule: 'crowd',
      count: 2,
    });
    const up = b.update(event, t0 + 100, {
      tracks: [track(1, 'person'), track(2, 'person'), track(3, 'person')],
      count: 3,
    });
    expect(message).toMatchObject({ trackIds: [1, 2], count: 2 });
    expect(up).toMatchObject({ trackIds: [1, 2, 3], count: 3, zone: 'bay', rule: 'crowd', start: t0 });
    const end = b.end(event, t0 + 200, 'below-max');
    expect(end).toMatchObject({ trackIds: [1, 2, 3], count: 3, endReason: 'below-max', end: t0 + 200 });
    valid(up);
    valid(end);
  });
});

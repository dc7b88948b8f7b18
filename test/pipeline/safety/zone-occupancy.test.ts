import { describe, expect, it } from 'vitest';
import { ZoneConfig } from '../../../config/safety-schema.js';
import { ZoneOccupancy, type ZoneTransition } from '../../../pipeline/safety/zone-occupancy.js';
import type { TrackView } from '../../../pipeline/tracking/track.js';
import { boxAtFoot } from './scene.js';

// the zone: x 100..300, y 100..300 (source pixels)
const square: [number, number][] = [
  [100, 100],
  [300, 100],
  [300, 300],
  [100, 300],
];

function zone(confirmFrames: number): ZoneOccupancy {
  return new ZoneOccupancy(ZoneConfig.parse({ id: 'bay', polygon: square, confirmFrames }));
}

/** A track view whose foot point is at (x, y); times in scene seconds. The prediction is far away: rules judge what was seen. */
function track(
  id: number,
  x: number,
  y: number,
  status: 'tracked' | 'lost' = 'tracked',
  lastSeen = 0,
): TrackView {
  const box = boxAtFoot(x, y, 40, 100);
  return {
    id,
    label: 'person',
    classId: 0,
    score: 0.9,
    box,
    predicted: boxAtFoot(x + 1000, y + 1000, 40, 100),
    status,
    firstSeen: 0,
    lastSeen,
    hits: 1,
  };
}

const IN = 200;
const OUT = 400;
const brief = (ts: ZoneTransition[]) =>
  ts.map((t) => ({ kind: t.kind, id: t.track.id, at: t.at, ended: t.ended }));

describe('ZoneOccupancy', () => {
  it('enters after confirmFrames frames inside in a row, dated from the first of them', () => {
    const z = zone(3);
    expect(z.update(0, [track(1, OUT, IN)], [])).toEqual([]);
    expect(z.update(100, [track(1, IN, IN)], [])).toEqual([]);
    expect(z.update(200, [track(1, IN, IN)], [])).toEqual([]);
    expect(z.inside()).toEqual([]);
    expect(brief(z.update(300, [track(1, IN, IN)], []))).toEqual([
      { kind: 'enter', id: 1, at: 100, ended: undefined },
    ]);
    expect(z.inside().map((m) => [m.track.id, m.since])).toEqual([[1, 100]]);
    // no second enter while it stays
    expect(z.update(400, [track(1, IN, IN)], [])).toEqual([]);
  });

  it('judges by the foot point, not the box', () => {
    const z = zone(1);
    // box spans y 250..350 with its foot below the zone: outside
    expect(z.update(0, [track(1, IN, 350)], [])).toEqual([]);
    // box spans y 50..150, half above the zone, with its foot inside it: inside
    expect(brief(z.update(100, [track(1, IN, 150)], []))).toMatchObject([{ kind: 'enter', id: 1 }]);
  });

  it('a track first seen inside enters once confirmed', () => {
    const z = zone(2);
    expect(z.update(0, [track(5, IN, IN)], [])).toEqual([]);
    expect(brief(z.update(100, [track(5, IN, IN)], []))).toEqual([
      { kind: 'enter', id: 5, at: 0, ended: undefined },
    ]);
  });

  it('a foot point jittering on the edge does not flap', () => {
    const z = zone(2);
    const xs = [IN, IN, OUT, IN, OUT, IN, OUT, OUT];
    const out = xs.flatMap((x, f) => brief(z.update(f * 100, [track(1, x, IN)], [])));
    // in at 0; single frames outside never confirm; two in a row (600, 700) make one exit dated 600
    expect(out).toEqual([
      { kind: 'enter', id: 1, at: 0, ended: undefined },
      { kind: 'exit', id: 1, at: 600, ended: undefined },
    ]);
    expect(z.inside()).toEqual([]);
  });

  it('with confirmFrames 1 every side change counts at once', () => {
    const z = zone(1);
    const out = [IN, OUT, IN].flatMap((x, f) => brief(z.update(f * 100, [track(1, x, IN)], [])));
    expect(out.map((t) => `${t.kind}@${t.at}`)).toEqual(['enter@0', 'exit@100', 'enter@200']);
  });

  it('a lost track keeps its side, and the latest view, until seen again', () => {
    const z = zone(1);
    z.update(0, [track(1, IN, IN)], []);
    // lost with its prediction drifting out of the zone: still inside
    expect(z.update(100, [track(1, OUT, OUT, 'lost')], [])).toEqual([]);
    const [m] = z.inside();
    expect(m?.since).toBe(0);
    expect(m?.track.status).toBe('lost');
    // seen again outside: exits
    expect(brief(z.update(200, [track(1, OUT, IN)], []))).toMatchObject([{ kind: 'exit', at: 200 }]);
  });

  it('a lost track never seen tracked is not a member', () => {
    const z = zone(1);
    expect(z.update(0, [track(1, IN, IN, 'lost')], [])).toEqual([]);
    expect(z.inside()).toEqual([]);
  });

  it('a track ending inside exits with ended, at its last sighting', () => {
    const z = zone(1);
    z.update(0, [track(1, IN, IN, 'tracked', 0)], []);
    z.update(100, [track(1, IN, IN, 'tracked', 0.1)], []);
    const out = z.update(3000, [], [track(1, IN, IN, 'lost', 0.1)]);
    expect(brief(out)).toEqual([{ kind: 'exit', id: 1, at: 100, ended: true }]);
    expect(z.inside()).toEqual([]);
    // forgotten: a later update of another track does not bring it back
    expect(z.update(3100, [], [track(1, IN, IN, 'lost', 0.1)])).toEqual([]);
  });

  it('an ending is never dated after the update that reports it', () => {
    const z = zone(1);
    z.update(0, [track(1, IN, IN)], []);
    const out = z.update(50, [], [track(1, IN, IN, 'lost', 9)]);
    expect(out[0]?.at).toBe(50);
  });

  it('a track ending outside, or not yet confirmed inside, gives nothing', () => {
    const z = zone(2);
    z.update(0, [track(1, OUT, IN), track(2, IN, IN)], []); // 2: inside one frame of two
    expect(z.update(100, [], [track(1, OUT, IN), track(2, IN, IN)])).toEqual([]);
    expect(z.inside()).toEqual([]);
  });

  it('follows several tracks independently', () => {
    const z = zone(1);
    z.update(0, [track(1, IN, IN), track(2, OUT, IN), track(3, 150, 150)], []);
    expect(z.inside().map((m) => m.track.id)).toEqual([1, 3]);
    const out = z.update(100, [track(1, OUT, IN), track(2, IN, IN), track(3, 150, 150)], []);
    expect(brief(out).map((t) => `${t.kind}${t.id}`)).toEqual(['exit1', 'enter2']);
    expect(z.inside().map((m) => [m.track.id, m.since])).toEqual([
      [2, 100],
      [3, 0],
    ]);
  });
});

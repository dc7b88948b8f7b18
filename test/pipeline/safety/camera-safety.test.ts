import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { CameraSafety } from '../../../pipeline/safety/camera-safety.js';
import type { SafetyEventMessage } from '../../../pipeline/safety/event-builder.js';
import { at, config, dock, forklift, person, run, summary, t0 } from './dock-scene.js';
import { frameEvent, stand, type ActorSpec } from './scene.js';

// Snapshots taken for events (store, colours, flush): camera-safety-snapshots.test.ts.
describe('CameraSafety', () => {
  it('tracks, then applies the zone and proximity rules, with track ids on the detections', () => {
    const safety = new CameraSafety({ camera: 'cam1', config, realtime: false });
    const first = safety.process(frameEvent([person, forklift], 0));
    // on the first frame everything present is taken as real
    expect(first.detections.map((d) => [d.label, d.trackId])).toEqual([
      ['person', 1],
      ['forklift', 2],
    ]);
    expect(first.tracked.tracks.map((t) => t.id)).toEqual([1, 2]);
    expect(first.tracked.time).toBe(t0);
    const events: SafetyEventMessage[] = [];
    for (let f = 1; f < 100; f++) events.push(...safety.process(frameEvent([person, forklift], f)).events);
    expect(summary(events)).toEqual([
      'zone_enter:start',
      'zone_enter:end',
      'zone_leave:instant',
      'person_near_forklift:start',
      'person_near_forklift:update',
      'person_near_forklift:update',
    ]);
    expect(events.every((e) => e.camera === 'cam1')).toBe(true);
    expect(events[0]).toMatchObject({
      start: at(30),
      zone: 'dock',
      trackIds: [1],
      frame: { width: 1280, height: 720 },
    });
    expect(events[3]).toMatchObject({ ts: at(75), trackIds: [1, 2], severity: 'low' });
    expect(events[5]).toMatchObject({ severity: 'high' });
    // without a store, no snapshot path is promised
    expect(events.every((e) => e.snapshot === null)).toBe(true);
    expect(safety.occupancy()).toEqual([{ zone: 'dock', trackIds: [] }]);
  });

  it('NTP stepping the wall clock 56 years ahead fires no dwell and ends no track (a box booted at 1970)', () => {
    let mono = 0;
    const safety = new CameraSafety({
      camera: 'cam1',
      config: { zones: [dock], rules: [{ zone: 'dock', type: 'dwell', dwellS: 30 }] },
      monotonic: () => mono,
    });
    const worker: ActorSpec = { label: 'person', actor: stand(600, 500, 0, 100) };
    const events: SafetyEventMessage[] = [];
    for (let f = 0; f < 100; f++) {
      mono = f * 100;
      const e = frameEvent([worker], f);
      const out = safety.process({ ...e, ts: e.ts + (f >= 50 ? 56 * 365 * 86_400_000 : 0) });
      events.push(...out.events);
      expect(out.tracked.ended).toEqual([]);
    }
    // 10 s inside: no dwell of 30 s yet, and the person is still inside the dock.
    expect(summary(events)).toEqual([]);
    expect(safety.occupancy()).toEqual([{ zone: 'dock', trackIds: [1] }]);
  });

  it('in one frame, zone events come before proximity events', () => {
    // standing inside the dock and inside a forklift's margin from the first frame
    const p: ActorSpec = { label: 'person', actor: stand(600, 500, 0, 10) };
    const f: ActorSpec = { label: 'forklift', actor: stand(600, 580, 0, 10, [200, 150]) };
    const { events } = run(
      { config: { zones: [{ ...dock, confirmFrames: 1 }], rules: [{ zone: 'dock', type: 'enter' }] } },
      [p, f],
      3,
    );
    expect(summary(events)).toEqual(['zone_enter:start', 'person_near_forklift:start']);
    expect(events[0]!.ts).toBe(events[1]!.ts);
  });

  it('reports who is inside each zone', () => {
    const { safety } = run({}, [person, forklift], 50);
    expect(safety.occupancy()).toEqual([{ zone: 'dock', trackIds: [1] }]);
  });

  it('close ends every open event as stopped, at the last frame time by default, once', () => {
    const { safety, events } = run({}, [person, forklift], 90);
    const open = new Set<string>();
    for (const e of events) {
      if (e.phase === 'start') open.add(e.eventId);
      if (e.phase === 'end') open.delete(e.eventId);
    }
    expect(open.size).toBe(1); // the proximity event; the person has left the dock
    const closed = safety.close();
    expect(closed.map((e) => [e.type, e.phase, e.endReason, e.ts, e.end])).toEqual([
      ['person_near_forklift', 'end', 'stopped', at(89), at(89)],
    ]);
    expect(closed[0]!.eventId).toBe([...open][0]);
    expect(safety.close()).toEqual([]);
  });

  it('close ends zone events first, then proximity, at the time given', () => {
    const p: ActorSpec = { label: 'person', actor: stand(600, 500, 0, 10) };
    const f: ActorSpec = { label: 'forklift', actor: stand(600, 580, 0, 10, [200, 150]) };
    const { safety } = run(
      { config: { zones: [dock], rules: [{ zone: 'dock', type: 'enter' }] } },
      [p, f],
      5,
    );
    const closed = safety.close(at(50));
    expect(closed.map((e) => `${e.type}:${e.phase}:${e.endReason}:${e.ts - t0}`)).toEqual([
      'zone_enter:end:stopped:5000',
      'person_near_forklift:end:stopped:5000',
    ]);
  });

  it('parses its config with the camera safety schema: defaults filled, bad config refused', () => {
    const safety = new CameraSafety({ camera: 'cam1', config: {} });
    expect(safety.config.tracking).toMatchObject({ enabled: true, minHits: 2, lostTtlS: 2 });
    expect(safety.config.proximity.margin).toEqual({ ratio: 0.25 });
    expect(safety.config.priority).toBe(1);
    expect(
      () => new CameraSafety({ camera: 'c', config: { rules: [{ zone: 'dock', type: 'nope' } as never] } }),
    ).toThrow(ZodError);
    expect(() => new CameraSafety({ camera: 'c', config: { tracking: { minHits: 0 } } })).toThrow(ZodError);
  });

  it('tracking settings reach the tracker: minHits 3 reports a new track a frame later', () => {
    const late: ActorSpec = { label: 'person', actor: stand(100, 100, 2, 10) };
    const first = (minHits: number) => {
      const safety = new CameraSafety({ camera: 'c', config: { tracking: { minHits } }, realtime: false });
      for (let f = 0; f < 10; f++) {
        const out = safety.process(frameEvent([late], f));
        if (out.detections[0]?.trackId) return f;
      }
      return -1;
    };
    expect([first(2), first(3)]).toEqual([3, 4]);
  });

  it('with tracking off: no track ids, no events', () => {
    const { events, safety } = run(
      { config: { ...config, tracking: { enabled: false } } },
      [person, forklift],
      100,
    );
    expect(events).toEqual([]);
    const out = safety.process(frameEvent([person, forklift], 50));
    expect(out.detections.every((d) => d.trackId === undefined)).toBe(true);
    expect(out.tracked.tracks).toEqual([]);
  });

  it('scene time follows the file for a non-realtime source, the wall clock for a realtime one', () => {
    // a file read 10× faster than real time: 100 ms of video every 10 ms of wall clock
    const fast = (f: number) => ({ ...frameEvent([person, forklift], f), ts: t0 + f * 10 });
    const times = (realtime?: boolean) => {
      const safety = new CameraSafety({
        camera: 'c',
        config,
        ...(realtime === undefined ? {} : { realtime }),
      });
      const out: number[] = [];
      for (let f = 0; f <= 300; f += 100) {
        for (let g = f; g < f + 100; g++) safety.process(fast(g));
        out.push(safety.process(fast(f + 100)).tracked.time - t0);
      }
      return out;
    };
    expect(times(false)).toEqual([10_000, 20_000, 30_000, 40_000]);
    // held within 2 s of the wall clock
    for (const [k, t] of times(true).entries())
      expect(Math.abs(t - (k + 1) * 1000)).toBeLessThanOrEqual(2000);
    // realtime unless told otherwise
    expect(times()).toEqual(times(true));
  });
});

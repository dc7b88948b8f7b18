import { describe, expect, it } from 'vitest';
import type { CameraSafetyConfigInput } from '../../../config/safety-schema.js';
import { CameraSafety } from '../../../pipeline/safety/camera-safety.js';
import type { SafetyEventMessage } from '../../../pipeline/safety/event-builder.js';
import { SafetyEventPayload } from '../../../pipeline/safety/payloads.js';
import { at, dock } from './dock-scene.js';
import { frameEvent, hidden, stand, walk, type ActorSpec } from './scene.js';

function run(config: CameraSafetyConfigInput, actors: ActorSpec[], frames: number) {
  const safety = new CameraSafety({ camera: 'cam1', config, realtime: false });
  const events: SafetyEventMessage[] = [];
  for (let f = 0; f < frames; f++) events.push(...safety.process(frameEvent(actors, f)).events);
  // every message is a valid payload once the outbox gives it an id
  for (const e of events) SafetyEventPayload.parse({ id: 'm', ...e });
  return { events, safety };
}

const summary = (events: SafetyEventMessage[]) => events.map((e) => `${e.type}:${e.phase}`);

describe('zone rules on constructed scenes', () => {
  it('a person walking through the zone: enter starts on the first frame inside and ends on the first outside; leave once', () => {
    // foot point moves 10 px/frame from x=105 to x=1105 at y=450: inside (400 < x < 800) on frames 30..69
    const person = walk([105, 450], [1105, 450], 0, 100);
    const { events } = run(
      {
        zones: [dock],
        rules: [
          { zone: 'dock', type: 'enter' },
          { zone: 'dock', type: 'leave' },
        ],
      },
      [{ label: 'person', actor: person }],
      110,
    );
    expect(summary(events)).toEqual(['zone_enter:start', 'zone_enter:end', 'zone_leave:instant']);
    const [start, end, leave] = events;
    expect(start!.start).toBe(at(30));
    expect(end!.eventId).toBe(start!.eventId);
    expect(end!).toMatchObject({
      end: at(70),
      endReason: 'left',
      zone: 'dock',
      rule: 'dock-enter',
      trackIds: [1],
    });
    expect(leave!).toMatchObject({ start: at(70), end: at(70), rule: 'dock-leave' });
  });

  it('ignores labels a rule does not watch', () => {
    const forklift = walk([100, 450], [1100, 450], 0, 100, [120, 120]);
    const { events } = run(
      { zones: [dock], rules: [{ zone: 'dock', type: 'enter', labels: ['person'] }] },
      [{ label: 'forklift', actor: forklift }],
      110,
    );
    expect(events).toEqual([]);
  });

  it('dwell: starts once the person has been inside dwellS, ends when they leave, with the time inside', () => {
    // walk in (inside from frame 30), stand at (605, 450) from frame 51 to 100, walk out 10 px/frame
    const path = (f: number) =>
      f <= 50
        ? walk([105, 450], [605, 450], 0, 50)(f)
        : f <= 100
          ? stand(605, 450, 51, 100)(f)
          : walk([605, 450], [1105, 450], 101, 151)(f);
    const { events } = run(
      { zones: [dock], rules: [{ zone: 'dock', type: 'dwell', dwellS: 5 }] },
      [{ label: 'person', actor: path }],
      160,
    );
    expect(summary(events)).toEqual(['zone_dwell:start', 'zone_dwell:end']);
    // inside from frame 30: 5 s later is frame 80
    expect(events[0]!).toMatchObject({ start: at(80), ts: at(80) });
    // out from frame 121 (x = 805): 9.1 s inside
    expect(events[1]!).toMatchObject({ end: at(121), dwellS: 9.1, endReason: 'left' });
  });

  it('dwell: a person passing through faster than dwellS raises nothing', () => {
    const { events } = run(
      { zones: [dock], rules: [{ zone: 'dock', type: 'dwell', dwellS: 5 }] },
      [{ label: 'person', actor: walk([100, 450], [1100, 450], 0, 50) }],
      60,
    );
    expect(events).toEqual([]);
  });

  it('count: starts when more than max are inside, updates on a new peak, ends back at max', () => {
    // three people walk in one after the other and stand; then two walk out
    const actors: ActorSpec[] = [0, 1, 2].map((i) => ({
      label: 'person',
      actor: (f: number) => {
        const enter = 10 + i * 20;
        if (f < enter) return null;
        const x = 450 + i * 120;
        const leaveAt = 120 + i * 10;
        if (i > 0 && f >= leaveAt)
          return walk([x, 350 + i * 100], [x + 400, 350 + i * 100], leaveAt, leaveAt + 40)(f);
        return stand(x, 350 + i * 100, enter, 1e6)(f);
      },
    }));
    const { events } = run({ zones: [dock], rules: [{ zone: 'dock', type: 'count', max: 1 }] }, actors, 170);
    expect(summary(events)).toEqual(['zone_count:start', 'zone_count:update', 'zone_count:end']);
    expect(events[0]!).toMatchObject({ count: 2, trackIds: [1, 2] });
    expect(events[1]!).toMatchObject({ count: 3, trackIds: [1, 2, 3] });
    expect(events[2]!).toMatchObject({ count: 3, endReason: 'below-max' });
    expect(new Set(events.map((e) => e.eventId)).size).toBe(1);
  });

  it('a foot point jittering on the edge does not flap (confirmFrames)', () => {
    // alternates 5 px either side of the zone's left edge every frame
    const jitter = (f: number) => stand(f % 2 ? 405 : 395, 450, 0, 60)(f);
    const { events } = run(
      { zones: [{ ...dock, confirmFrames: 2 }], rules: [{ zone: 'dock', type: 'enter' }] },
      [{ label: 'person', actor: jitter }],
      60,
    );
    expect(events).toEqual([]);
  });

  it('dwell: a track lost inside before dwellS raises nothing; one seen again after dwellS starts then', () => {
    // inside from frame 30, standing from 51, unseen from 71: dwellS (5 s) falls at frame 80, while lost
    const stay = (f: number) =>
      f <= 50 ? walk([105, 450], [605, 450], 0, 50)(f) : stand(605, 450, 51, 200)(f);
    const config = {
      zones: [dock],
      rules: [{ zone: 'dock', type: 'dwell' as const, dwellS: 5 }],
      tracking: { lostTtlS: 2, lostMinMisses: 3 },
    };
    // Before the fix the predicted track started a dwell at frame 80 and ended it with dwellS 4.1 < 5.
    const lost = run(config, [{ label: 'person', actor: hidden(stay, 71, 1000) }], 120);
    expect(lost.events).toEqual([]);
    // Seen again at frame 85, inside since frame 30: the dwell starts on that frame.
    const back = run(config, [{ label: 'person', actor: hidden(stay, 71, 84) }], 120);
    expect(summary(back.events)).toEqual(['zone_dwell:start']);
    expect(back.events[0]!).toMatchObject({ ts: at(85), dwellS: 5.5, trackIds: [1] });
  });

  it('a track lost inside the zone ends its event as track-lost, and no leave fires', () => {
    const person = hidden(walk([100, 450], [600, 450], 0, 50), 51, 1000);
    const { events } = run(
      {
        zones: [dock],
        rules: [
          { zone: 'dock', type: 'enter' },
          { zone: 'dock', type: 'leave' },
        ],
        tracking: { lostTtlS: 1, lostMinMisses: 3 },
      },
      [{ label: 'person', actor: person }],
      80,
    );
    expect(summary(events)).toEqual(['zone_enter:start', 'zone_enter:end']);
    expect(events[1]!).toMatchObject({ endReason: 'track-lost', end: at(50) });
  });

  it('close() ends what is open (camera stopping)', () => {
    const { safety } = run(
      { zones: [dock], rules: [{ zone: 'dock', type: 'enter' }] },
      [{ label: 'person', actor: stand(600, 450, 0, 100) }],
      20,
    );
    const closing = safety.close();
    expect(summary(closing)).toEqual(['zone_enter:end']);
    expect(closing[0]!).toMatchObject({ endReason: 'stopped', end: at(19) });
    expect(safety.close()).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import type { CameraSafetyConfigInput } from '../../../config/safety-schema.js';
import { CameraSafety } from '../../../pipeline/safety/camera-safety.js';
import type { SafetyEventMessage } from '../../../pipeline/safety/event-builder.js';
import { SafetyEventPayload } from '../../../pipeline/safety/payloads.js';
import { frameEvent, hidden, stand, walk, type ActorSpec } from './scene.js';

const t0 = 1_700_000_000_000;
const at = (f: number) => t0 + f * 100;

function run(config: CameraSafetyConfigInput, actors: ActorSpec[], frames: number) {
  const safety = new CameraSafety({ camera: 'cam1', config, realtime: false });
  const events: SafetyEventMessage[] = [];
  const frameOf = new Map<SafetyEventMessage, number>();
  for (let f = 0; f < frames; f++) {
    for (const e of safety.process(frameEvent(actors, f)).events) {
      events.push(e);
      frameOf.set(e, f);
    }
  }
  for (const e of events) SafetyEventPayload.parse({ id: 'm', ...e });
  return { events, frameOf };
}

const summary = (events: SafetyEventMessage[]) => events.map((e) => `${e.phase}:${e.severity ?? ''}`);

// A forklift (box 200×150) driving right at 10 px/frame along foot y = 500; its centre x is 100 + 10f.
const forkliftBox = (cx: number) => ({ box: { x1: cx - 100, y1: 350, x2: cx + 100, y2: 500 } });
const driving = (from: number, to: number, start: number, end: number) => (f: number) =>
  f < start || f > end ? null : forkliftBox(from + ((to - from) * (f - start)) / (end - start));
const proximity = { vehicleLabels: ['forklift'], margin: { ratio: 0.25 }, cooldownS: 10, clearS: 1 };

describe('person_near_forklift on constructed scenes', () => {
  it('a forklift passing a person standing in its path: one event, severity rising with closeness, ended once clear', () => {
    // person's foot 10 px below the forklift's bottom edge, at x = 700; margin 50 px (0.25 × 200)
    const actors: ActorSpec[] = [
      { label: 'forklift', classId: 7, actor: driving(100, 1100, 0, 100) },
      { label: 'person', actor: stand(700, 510, 0, 120) },
    ];
    const { events, frameOf } = run({ proximity }, actors, 120);
    expect(summary(events)).toEqual(['start:low', 'update:medium', 'update:high', 'end:high']);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(1);
    // near once the grown box reaches the foot: x2 + 50 ≥ 700 → centre ≥ 550 → frame 45
    expect(events[0]!).toMatchObject({
      type: 'person_near_forklift',
      start: at(45),
      labels: ['person', 'forklift'],
    });
    expect(frameOf.get(events[1]!)).toBe(47); // distance hypot(30, 10) = 31.6 ≤ 0.67 × 50
    expect(frameOf.get(events[2]!)).toBe(49); // distance hypot(10, 10) = 14.1 ≤ 0.33 × 50
    // clear once x1 − 50 > 700 → centre > 850 → frame 76; ended clearS (1 s) later, dated when it cleared
    expect(frameOf.get(events[3]!)).toBe(86);
    expect(events[3]!).toMatchObject({ end: at(76), endReason: 'cleared', distancePx: 10 });
    expect(events[3]!.trackIds).toEqual(events[0]!.trackIds);
  });

  it('the cooldown holds back a second event for the same pair, and lets it through after', () => {
    // there (frames 0..100), back (..200) within the cooldown, there again (..300) after it, 10 px/frame
    const path = (f: number) =>
      f <= 100
        ? driving(100, 1100, 0, 100)(f)
        : f <= 200
          ? driving(1100, 100, 100, 200)(f)
          : driving(100, 1100, 200, 300)(f);
    const actors: ActorSpec[] = [
      { label: 'forklift', classId: 7, actor: path },
      { label: 'person', actor: stand(700, 510, 0, 320) },
    ];
    const { events } = run({ proximity }, actors, 320);
    const starts = events.filter((e) => e.phase === 'start');
    const ends = events.filter((e) => e.phase === 'end');
    expect(starts.map((e) => e.start)).toEqual([at(45), at(245)]);
    expect(ends.map((e) => e.end)).toEqual([at(76), at(276)]);
    expect(starts[0]!.eventId).not.toBe(starts[1]!.eventId);
  });

  it('one event per person: two people near the same forklift', () => {
    const actors: ActorSpec[] = [
      { label: 'forklift', classId: 7, actor: driving(100, 1100, 0, 100) },
      { label: 'person', actor: stand(700, 510, 0, 120) },
      { label: 'person', actor: stand(900, 380, 0, 120) },
    ];
    const { events } = run({ proximity }, actors, 120);
    const starts = events.filter((e) => e.phase === 'start');
    expect(starts).toHaveLength(2);
    expect(new Set(starts.map((e) => e.trackIds[0])).size).toBe(2);
    expect(events.filter((e) => e.phase === 'end')).toHaveLength(2);
  });

  it('a person walking well clear of the forklift raises nothing', () => {
    const actors: ActorSpec[] = [
      { label: 'forklift', classId: 7, actor: driving(100, 1100, 0, 100) },
      { label: 'person', actor: walk([100, 650], [1100, 650], 0, 100) },
    ];
    expect(run({ proximity }, actors, 110).events).toEqual([]);
  });

  it('a pixel margin: near only within that many pixels', () => {
    const actors: ActorSpec[] = [
      { label: 'forklift', classId: 7, actor: driving(100, 1100, 0, 100) },
      { label: 'person', actor: stand(700, 530, 0, 120) }, // 30 px below the forklift's bottom
    ];
    expect(run({ proximity: { ...proximity, margin: { px: 25 } } }, actors, 120).events).toEqual([]);
    const near = run({ proximity: { ...proximity, margin: { px: 35 } } }, actors, 120).events;
    expect(summary(near)).toEqual(['start:low', 'end:low']);
  });

  it('the forklift vanishing mid-event ends it as track-lost', () => {
    const actors: ActorSpec[] = [
      { label: 'forklift', classId: 7, actor: hidden(driving(100, 1100, 0, 100), 60, 1000) },
      { label: 'person', actor: stand(700, 510, 0, 120) },
    ];
    const { events } = run({ proximity, tracking: { lostTtlS: 1 } }, actors, 120);
    expect(events.map((e) => e.phase)).toEqual(['start', 'update', 'update', 'end']);
    expect(events[3]!).toMatchObject({ endReason: 'track-lost' });
  });
});

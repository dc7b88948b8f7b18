import type { CameraSafetyConfigInput } from '../../../config/safety-schema.js';
import type { Letterbox } from '../../../models/types.js';
import { CameraSafety, type CameraSafetyOptions } from '../../../pipeline/safety/camera-safety.js';
import type { SafetyEventMessage } from '../../../pipeline/safety/event-builder.js';
import { SafetyEventPayload } from '../../../pipeline/safety/payloads.js';
import { frameEvent, stand, walk, type ActorSpec } from './scene.js';

/** The scene the CameraSafety tests share: frame f is at t0 + f × 100 ms (scene.ts's frameEvent at 10 fps). */
export const t0 = 1_700_000_000_000;
export const at = (f: number) => t0 + f * 100;

// A dock zone: x 400..800, y 300..600 (source pixels); a forklift parked right of it.
export const dock = {
  id: 'dock',
  polygon: [
    [400, 300],
    [800, 300],
    [800, 600],
    [400, 600],
  ] as [number, number][],
};
export const config: CameraSafetyConfigInput = {
  zones: [dock],
  rules: [
    { zone: 'dock', type: 'enter' },
    { zone: 'dock', type: 'leave' },
  ],
};
// foot point 10 px/frame along y = 550: in the dock on frames 30..69, near the forklift (box x 900..1100,
// margin 50 px) from frame 75, gone after frame 100
export const person: ActorSpec = { label: 'person', actor: walk([105, 550], [1105, 550], 0, 100) };
export const forklift: ActorSpec = {
  label: 'forklift',
  classId: 1,
  actor: stand(1000, 650, 0, 200, [200, 150]),
};

/** Runs `actors` through a CameraSafety on the dock config for `frames` frames; each event is checked against its schema. */
export function run(
  opts: Partial<CameraSafetyOptions>,
  actors: ActorSpec[],
  frames: number,
  frame?: { data: Uint8Array; letterbox: Letterbox },
) {
  const safety = new CameraSafety({ camera: 'cam1', config, realtime: false, ...opts });
  const events: SafetyEventMessage[] = [];
  for (let f = 0; f < frames; f++) {
    const out = safety.process({ ...frameEvent(actors, f), ...(frame ? { frame } : {}) });
    for (const e of out.events) SafetyEventPayload.parse({ id: 'm', ...e });
    events.push(...out.events);
  }
  return { safety, events };
}

export const summary = (events: SafetyEventMessage[]) => events.map((e) => `${e.type}:${e.phase}`);

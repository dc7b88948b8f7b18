import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import { CameraStatePayload, DetectionsPayload, StatusPayload } from '../../../agent/mqtt/payloads.js';
import { detectionPayload } from '../../../agent/runtime/detection-message.js';
import type { DetectionEvent } from '../../../pipeline/camera/camera-pipeline.js';
import type { CameraState } from '../../../pipeline/camera/camera-state.js';

describe('payload schemas', () => {
  it('accept what the agent publishes', () => {
    expect(StatusPayload.parse({ state: 'online', ts: 1, version: '0.1.0' }).state).toBe('online');
    const state = { camera: 'cam1', state: 'stalled', reason: 'no frame for 10 s', since: 1, ts: 2 };
    expect(CameraStatePayload.parse(state)).toEqual(state);
    const event = {
      camera: 'cam1',
      ts: 1_700_000_000_000,
      pts: 1.23456,
      modelId: 'yolo',
      provider: 'cpu',
      srcWidth: 640,
      srcHeight: 480,
      result: {
        inferenceMs: 12.345,
        detections: [{ label: 'person', classId: 0, score: 0.91234, box: { x1: 1, y1: 2, x2: 3, y2: 4 } }],
      },
    } as unknown as DetectionEvent;
    const payload = DetectionsPayload.parse(detectionPayload(event, { id: 'abc', seq: 7 }));
    expect(payload).toMatchObject({ id: 'abc', seq: 7, pts: 1.235, detections: [{ score: 0.912 }] });
  });

  it('reject unknown states and fields', () => {
    expect(StatusPayload.safeParse({ state: 'maybe', ts: 1, version: 'x' }).success).toBe(false);
    expect(
      CameraStatePayload.safeParse({ camera: 'c', state: 'streaming', since: 1, ts: 1, extra: 1 }).success,
    ).toBe(false);
  });

  // The schema (and docs/schemas/camera-state.json) once listed fps, dropped and provider, which no state
  // message ever carried: it must describe what the agent builds, a camera's CameraState plus `ts`.
  it('camera-state describes exactly the CameraState the agent publishes, plus ts', () => {
    type Published = Omit<CameraState, never> & { ts: number };
    expectTypeOf<z.infer<typeof CameraStatePayload>>().toEqualTypeOf<{
      [K in keyof Published]: Published[K];
    }>();
    expect(Object.keys(CameraStatePayload.shape).sort()).toEqual([
      'camera',
      'reason',
      'since',
      'state',
      'ts',
    ]);
  });
});

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lastValueFrom, Subject, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../config/logger.js';
import { CameraConfig } from '../../../config/schema.js';
import type { Detector } from '../../../models/detect/detector.js';
import type { DetectionResult, InputFrame } from '../../../models/types.js';
import { cameraPipeline, type FrameDetector } from '../../../pipeline/camera/camera-pipeline.js';
import type { CameraFrame } from '../../../pipeline/camera/camera-frames.js';
import { CameraStats } from '../../../pipeline/camera/camera-stats.js';
import { CameraSafety } from '../../../pipeline/safety/camera-safety.js';
import type { TrackedDetection } from '../../../pipeline/tracking/detection-tracker.js';
import { hasShared, sharedPath } from '../../support/shared.js';
import { loadSharedDetector } from '../../support/detectors.js';

// vtest.avi's first 4 s (people walking, 10 fps), then its last frame held for 8 s: a scene gone still.
const movingFrames = 40;
const stillS = 10;

describe.skipIf(!hasShared)(
  'camera pipeline: motion gate before inference, tracker after (real model)',
  () => {
    let dir: string;
    let clip: string;
    let detector: Detector;

    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'vigil-pipeline-'));
      clip = path.join(dir, 'moving-then-still.avi');
      execFileSync('ffmpeg', [
        ...['-loglevel', 'error', '-y', '-t', '4', '-i', sharedPath('media', 'vtest.avi')],
        ...['-vf', `tpad=stop_mode=clone:stop_duration=${stillS}`, '-c:v', 'mjpeg', '-q:v', '3', clip],
      ]);
      detector = await loadSharedDetector('yolo11n-320', 'yolo11n-coco-int8-320.onnx');
    }, 60_000);

    afterAll(async () => {
      await detector?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('a still scene runs at the heartbeat, a moving one at full rate; processed frames carry track ids', async () => {
      // The real detector, noting which frames reached it.
      const inferred: number[] = [];
      const counting: FrameDetector = {
        info: detector.info,
        detect: (frame: InputFrame, key?: string): Promise<DetectionResult> => {
          inferred.push((frame as CameraFrame).frameNo);
          return detector.detect(frame, key);
        },
      };
      const camera = CameraConfig.parse({
        id: 'plaza',
        source: clip,
        model: 'det',
        realtime: false,
        motion: { enabled: true, heartbeatFps: 1, holdS: 0.5, backgroundS: 0.5 },
      });
      const stats = new CameraStats();
      const safety = new CameraSafety({
        camera: 'plaza',
        config: { tracking: camera.tracking },
        realtime: false,
      });
      const events = await lastValueFrom(
        cameraPipeline({
          camera,
          detector: counting,
          log: silentLogger,
          onState: () => {},
          stop$: new Subject(),
          stats,
          safety,
        }).pipe(toArray()),
      );

      const stillFrames = stats.framesIn - movingFrames;
      expect(stillFrames).toBeGreaterThanOrEqual(stillS * 10 - 2);
      // Every frame is accounted for: inferred, or kept back by the gate (a file read on demand drops none).
      expect(stats.dropped).toBe(0);
      expect(stats.processed + stats.gated).toBe(stats.framesIn);
      expect(events.map((e) => e.frameNo)).toEqual(inferred);
      const onMoving = inferred.filter((f) => f < movingFrames).length;
      const onStill = inferred.length - onMoving;
      expect(onMoving).toBeGreaterThanOrEqual(0.95 * movingFrames);
      // The people who stopped fade into the background (~2 × backgroundS = 1 s), then holdS (0.5 s) at full
      // rate, then one heartbeat a second: from 2 s into the still part on, only heartbeats.
      const late = inferred.filter((f) => f >= movingFrames + 20).length;
      expect(late).toBeLessThanOrEqual(Math.ceil((stillFrames - 20) / 10) + 1);
      expect(1 - onStill / stillFrames).toBeGreaterThanOrEqual(0.75);
      expect(stats.gated).toBe(stillFrames - onStill + (movingFrames - onMoving));

      // Tracking: people keep their ids while they walk, and the ones left standing keep them on heartbeats.
      const people = (e: (typeof events)[number]) =>
        (e.result.detections as TrackedDetection[]).filter((d) => d.label === 'person');
      const moving = events.filter((e) => e.frameNo < movingFrames);
      const still = events.filter((e) => e.frameNo >= movingFrames);
      const ids = (es: typeof events) => es.flatMap((e) => people(e).flatMap((d) => d.trackId ?? []));
      const lengths = new Map<number, number>();
      for (const id of ids(moving)) lengths.set(id, (lengths.get(id) ?? 0) + 1);
      expect(Math.max(...lengths.values())).toBeGreaterThanOrEqual(0.8 * moving.length);
      const stillIds = ids(still);
      expect(stillIds.length).toBeGreaterThan(still.length); // several people stand in the held frame
      const known = stillIds.filter((id) => lengths.has(id)).length;
      expect(known / stillIds.length).toBeGreaterThanOrEqual(0.8);
      for (const e of events) expect(e.safetyEvents).toEqual([]); // no zones, no forklifts: nothing to say
    }, 60_000);
  },
);

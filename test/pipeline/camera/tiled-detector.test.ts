import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lastValueFrom, Subject, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../config/logger.js';
import { CameraConfig } from '../../../config/schema.js';
import type { Detector } from '../../../models/detect/detector.js';
import type { Box } from '../../../models/types.js';
import { cameraPipeline } from '../../../pipeline/camera/camera-pipeline.js';
import { hasShared } from '../../support/shared.js';
import { iou, sceneSize, smallPeopleScene } from '../../support/tiling-scene.js';
import { loadSharedDetector } from '../../support/detectors.js';

/** A camera with `detect.tiles` through the real pipeline: ffmpeg at source resolution, tiles, merge. */
describe.skipIf(!hasShared)('a camera with tiled inference (real ffmpeg, real model)', () => {
  let dir: string;
  let clip: string;
  let detector: Detector;
  let truth: Box[];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-tiles-'));
    detector = await loadSharedDetector('v8', 'yolov8n-coco-int8-640.onnx');
    const scene = await smallPeopleScene(detector);
    truth = scene.truth;
    const png = path.join(dir, 'scene.png');
    writeFileSync(png, scene.png);
    clip = path.join(dir, 'scene.avi');
    execFileSync('ffmpeg', [
      ...['-loglevel', 'error', '-y', '-loop', '1', '-framerate', '2', '-t', '1', '-i', png],
      ...['-c:v', 'mjpeg', '-q:v', '2', clip],
    ]);
  }, 60_000);
  afterAll(async () => {
    await detector?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = (detect?: unknown) => {
    const camera = CameraConfig.parse({
      id: 'yard',
      source: clip,
      model: 'v8',
      realtime: false,
      ...(detect ? { detect } : {}),
    });
    return lastValueFrom(
      cameraPipeline({
        camera,
        detector,
        log: silentLogger,
        onState: () => {},
        stop$: new Subject(),
      }).pipe(toArray()),
    );
  };

  it('finds more of the far people with tiles, reports the passes, and keeps frames at source size', async () => {
    const plain = await run();
    const tiled = await run({ tiles: { grid: [4, 3], overlap: 0.2 } });
    expect(plain.length).toBeGreaterThanOrEqual(1);
    expect(tiled.length).toBe(plain.length); // a file read on demand drops no frame
    const found = (e: (typeof plain)[number]) =>
      truth.filter((t) => e.result.detections.some((d) => d.label === 'person' && iou(d.box, t) >= 0.5))
        .length;
    for (const [i, e] of tiled.entries()) {
      expect(found(e)).toBeGreaterThan(found(plain[i]!));
      expect(found(e)).toBeGreaterThanOrEqual(Math.ceil(0.75 * truth.length));
      expect(e.result.tiling).toMatchObject({ passes: 13 });
      expect(e.result.inferenceMs).toBeGreaterThan(plain[i]!.result.inferenceMs);
      expect(e.frame.letterbox).toMatchObject({ inputWidth: sceneSize.width, inputHeight: sceneSize.height });
      expect([e.srcWidth, e.srcHeight]).toEqual([sceneSize.width, sceneSize.height]);
    }
    expect(plain[0]!.frame.letterbox).toMatchObject({ inputWidth: 640, inputHeight: 640 });
  }, 120_000);
});

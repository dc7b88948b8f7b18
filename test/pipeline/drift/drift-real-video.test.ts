import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lastValueFrom, NEVER, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriftConfig } from '../../../config/drift-schema.js';
import { silentLogger } from '../../../config/logger.js';
import { CameraConfig, ModelConfig } from '../../../config/schema.js';
import { Detector } from '../../../models/detect/detector.js';
import { cameraPipeline } from '../../../pipeline/camera/camera-pipeline.js';
import type { DriftReference } from '../../../pipeline/drift/drift-records.js';
import {
  driftWindows,
  type DriftReport,
  type DriftWindowOptions,
} from '../../../pipeline/drift/drift-window.js';
import { ReferenceStore } from '../../../pipeline/drift/reference-store.js';
import { hasShared, sharedPath } from '../../support/shared.js';

/**
 * vtest.avi (79.5 s of a plaza) at 5 fps through ffmpeg and YOLO11n on onnxruntime, in 2-second windows
 * on the video's own clock: 20 windows per half. The first half becomes the reference automatically.
 */
const fps = 5;
const config = DriftConfig.parse({
  windowMinutes: 2 / 60,
  minFrames: 5,
  minSamples: 5,
  autoBaselineHours: 40 / 3600,
});
const key = { camera: 'plaza', modelId: 'yolo11n', configRevision: 'test' };
const verbose = Boolean(process.env.DRIFT_REPORT);

describe.skipIf(!hasShared)('drift on real video with a real detector', () => {
  let detector: Detector;
  let dir: string;
  let store: ReferenceStore;
  let firstPass: DriftReport[];

  const run = async (source: string, opts: Partial<DriftWindowOptions> = {}) => {
    const camera = CameraConfig.parse({ id: key.camera, source, model: key.modelId, realtime: false, fps });
    const events = cameraPipeline({ camera, detector, log: silentLogger, onState: () => {}, stop$: NEVER });
    return lastValueFrom(
      events.pipe(
        driftWindows({
          ...key,
          config,
          clock: (e) => e.pts * 1000,
          pixelOrder: detector.info.input.pixelOrder,
          ...opts,
        }),
        toArray(),
      ),
    );
  };

  /** A variant of the video made with ffmpeg: `args` go between the input and the output file. */
  const variant = (name: string, inputArgs: string[], filter: string[]) => {
    const file = path.join(dir, `${name}.avi`);
    execFileSync('ffmpeg', [
      '-loglevel',
      'error',
      '-y',
      ...inputArgs,
      ...filter,
      '-r',
      String(fps),
      '-c:v',
      'mjpeg',
      '-q:v',
      '3',
      file,
    ]);
    return file;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-drift-video-'));
    detector = await Detector.load(
      key.modelId,
      ModelConfig.parse({
        path: sharedPath('models', 'yolo11n-coco-int8-320.onnx'),
        providers: ['cpu'],
        workers: 1,
      }),
    );
    store = ReferenceStore.open(path.join(dir, ReferenceStore.fileName));
    firstPass = await run(sharedPath('media', 'vtest.avi'), { store });
  }, 120_000);

  afterAll(async () => {
    store?.close();
    await detector?.close();
  });

  it('stability: reference built from the first half, the second half is ok in at least 19 of 20 windows', () => {
    const starts = firstPass.map((r) => r.window.start);
    expect(starts).toEqual(Array.from({ length: 40 }, (_, i) => i * 2000));
    // the first 20 windows collect the reference; it is built when the 20th closes
    expect(firstPass.slice(0, 20).every((r) => r.status === 'no-reference')).toBe(true);
    expect(firstPass[19]!.baseline).toMatchObject({ built: true });
    expect(firstPass[19]!.reference).toMatchObject({ source: 'auto', from: 0, to: 40_000, windows: 20 });

    const second = firstPass.slice(20);
    expect(second.filter((r) => r.status === 'scored').length).toBeGreaterThanOrEqual(19);
    const ok = second.filter((r) => r.state === 'ok').length;
    if (verbose) {
      for (const r of second)
        console.log(r.window.start, r.status, r.state, r.score?.toFixed(3), r.drivers, r.moved);
    }
    expect(ok).toBeGreaterThanOrEqual(19);
    // a scored window compares every image statistic, and the detections of the plaza's people
    const names = second[0]!.scores.filter((s) => s.psi !== null).map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining(['image.brightness', 'image.sharpness', 'det.score[person]']),
    );
  });

  describe('sensitivity: alarm within 3 windows, naming what moved', () => {
    let reference: DriftReference;
    beforeAll(() => {
      reference = store.activeReference(key)!;
    });
    // [name, make the clip, an image statistic that must drive, a detection statistic that must have moved]
    const cases: [string, () => string, string, string?][] = [
      [
        'darkened (eq=brightness=-0.35)',
        () =>
          variant(
            'dark',
            ['-ss', '40', '-t', '6', '-i', sharedPath('media', 'vtest.avi')],
            ['-vf', 'eq=brightness=-0.35'],
          ),
        'image.brightness',
      ],
      [
        'blurred (gblur=sigma=6)',
        () =>
          variant(
            'blur',
            ['-ss', '40', '-t', '6', '-i', sharedPath('media', 'vtest.avi')],
            ['-vf', 'gblur=sigma=6'],
          ),
        'image.sharpness',
      ],
      [
        'another scene (bus.jpg)',
        () =>
          variant(
            'bus',
            ['-loop', '1', '-framerate', String(fps), '-t', '6', '-i', sharedPath('media', 'bus.jpg')],
            [],
          ),
        'image.castRB',
        'det.perFrame[bus]', // a label the plaza never showed
      ],
    ];
    for (const [name, make, imageStat, detStat] of cases) {
      it(name, async () => {
        const reports = await run(make(), { reference });
        expect(reports.length).toBeGreaterThanOrEqual(3);
        const firstAlarm = reports.findIndex((r) => r.state === 'alarm');
        if (verbose) {
          for (const r of reports)
            console.log(name, r.window.start, r.state, r.score?.toFixed(2), r.drivers, r.moved);
        }
        expect(firstAlarm).toBeGreaterThanOrEqual(0);
        expect(firstAlarm).toBeLessThan(3);
        const alarm = reports[firstAlarm]!;
        expect(alarm.drivers).toContain(imageStat);
        expect(alarm.drivers.every((d) => d.startsWith('image.'))).toBe(true);
        // the detections moved too (they are named, they do not drive), and only statistics that passed their test
        expect(alarm.moved.some((m) => m.startsWith('det.'))).toBe(true);
        if (detStat) expect(alarm.moved).toContain(detStat);
        const significant = new Set(alarm.scores.filter((s) => s.significant).map((s) => s.name));
        expect(alarm.moved.every((m) => significant.has(m))).toBe(true);
      });
    }
  });
});

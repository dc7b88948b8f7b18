import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Detector } from '../../../models/detect/detector.js';
import { imageToInputFrame } from '../../../models/detect/image-input.js';
import type { Box } from '../../../models/types.js';
import { DetectionTracker } from '../../../pipeline/tracking/detection-tracker.js';
import { iou } from '../../../pipeline/tracking/iou.js';
import { hasShared, sharedPath } from '../../support/shared.js';
import { loadSharedDetector } from '../../support/detectors.js';

// A constructed clip: a real person (cut from bus.jpg) walks left to right across a plain scene at
// 10 fps, passing behind a grey pillar wide enough to hide them completely for a few frames.
const W = 640;
const H = 360;
const frames = 60;
const personH = 220;
const top = 100;
const pillar = { x1: 270, x2: 410, y1: 60, y2: 345 };
const verbose = !!process.env.VIGIL_VERBOSE;

const background = Buffer.from(
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">` +
    `<rect width="${W}" height="${H}" fill="#c8c4b8"/>` +
    `<rect y="230" width="${W}" height="${H - 230}" fill="#8a8378"/>` +
    `<rect x="40" y="40" width="120" height="80" fill="#6d7f91"/>` +
    `<rect x="500" y="30" width="90" height="140" fill="#a39a82"/>` +
    `<rect x="${pillar.x1}" y="${pillar.y1}" width="${pillar.x2 - pillar.x1}" height="${pillar.y2 - pillar.y1}" fill="#808080"/>` +
    `</svg>`,
);

describe.skipIf(!hasShared)('tracking a person behind an occluder (real model, constructed clip)', () => {
  let detector: Detector;
  let person: Buffer;
  let personW: number;

  beforeAll(async () => {
    detector = await loadSharedDetector('yolo11n-320', 'yolo11n-coco-int8-320.onnx');
    // the man in the middle of bus.jpg (810×1080), cut a little wider than his box
    const crop = { left: 215, top: 395, width: 135, height: 470 };
    personW = Math.round((crop.width * personH) / crop.height);
    person = await sharp(sharedPath('media', 'bus.jpg'))
      .extract(crop)
      .resize(personW, personH)
      .png()
      .toBuffer();
  }, 120_000);

  afterAll(async () => detector?.close());

  /** Where the person is in frame f (their true box, occluded or not). */
  const truth = (f: number): Box => {
    const x = Math.round(10 + ((W - personW - 20) * f) / (frames - 1));
    return { x1: x, y1: top, x2: x + personW, y2: top + personH };
  };

  async function frame(f: number): Promise<Buffer> {
    const t = truth(f);
    // the person is drawn under the pillar: composite person, then the pillar again on top
    const pillarPng = await sharp({
      create: {
        width: pillar.x2 - pillar.x1,
        height: pillar.y2 - pillar.y1,
        channels: 3,
        background: '#808080',
      },
    })
      .png()
      .toBuffer();
    return sharp(background)
      .composite([
        { input: person, left: t.x1, top: t.y1 },
        { input: pillarPng, left: pillar.x1, top: pillar.y1 },
      ])
      .png()
      .toBuffer();
  }

  it('keeps one track id for the person before and after the pillar', async () => {
    const tracker = new DetectionTracker({}, { realtime: false });
    const ids: (number | undefined)[] = [];
    const seen: boolean[] = [];
    for (let f = 0; f < frames; f++) {
      const input = await imageToInputFrame(await frame(f), detector.info.input);
      const result = await detector.detect(input);
      const out = tracker.track({ ts: 1e12 + f * 100, pts: f / 10, result });
      const match = out.detections.find((d) => d.label === 'person' && iou(d.box, truth(f)) > 0.3);
      seen.push(!!match);
      ids.push(match?.trackId);
      if (verbose) console.log(f, truth(f).x1, match ? `${match.trackId} ${match.score.toFixed(2)}` : '-');
    }
    const hiddenFrames = seen.map((s, f) => (!s ? f : -1)).filter((f) => f >= 0);
    const before = ids.slice(0, 15).filter((id) => id !== undefined);
    const after = ids.slice(45).filter((id) => id !== undefined);
    // the clip does what it should: seen on both sides, unseen for a while behind the pillar
    expect(before.length).toBeGreaterThan(10);
    expect(after.length).toBeGreaterThan(10);
    expect(hiddenFrames.length).toBeGreaterThanOrEqual(3);
    // one identity throughout
    expect(new Set(ids.filter((id) => id !== undefined))).toEqual(new Set([before[0]]));
  });
});

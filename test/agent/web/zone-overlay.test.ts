import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { labelColour } from '../../../agent/web/annotation-svg.js';
import { RecentSafetyEvents } from '../../../agent/web/recent-safety-events.js';
import { SnapshotRenderer } from '../../../agent/web/snapshot-renderer.js';
import { cameraZones, sourceToSnapshot } from '../../../agent/web/zone-overlay.js';
import { imageToInputFrame } from '../../../models/detect/image-input.js';
import type { InputSpec, Letterbox } from '../../../models/types.js';
import type { DetectionEvent } from '../../../pipeline/camera/camera-pipeline.js';
import type { SafetyEventMessage } from '../../../pipeline/safety/event-builder.js';
import { hasShared, sharedPath } from '../../support/shared.js';
import { familyInput } from '../../../models/detect/families.js';

/** vtest.avi (768×576) letterboxed into a 640×640 input, centred: 640×480 with 80 px bars top and bottom. */
const centred: Letterbox = {
  srcWidth: 768,
  srcHeight: 576,
  inputWidth: 640,
  inputHeight: 640,
  scaledWidth: 640,
  scaledHeight: 480,
  padX: 0,
  padY: 80,
};

describe('zone overlay: source pixels → snapshot pixels through the letterbox', () => {
  it('maps onto the renderer’s picture (padding cut off) at model size', () => {
    const snap = new SnapshotRenderer().geometry(centred);
    expect(snap).toEqual({ crop: { left: 0, top: 80, width: 640, height: 480 }, width: 640, height: 480 });
    expect(sourceToSnapshot([0, 0], centred, snap)).toEqual([0, 0]);
    expect(sourceToSnapshot([384, 288], centred, snap)).toEqual([320, 240]);
    expect(sourceToSnapshot([768, 576], centred, snap)).toEqual([640, 480]);
  });

  it('follows a scaled-down picture and a padded one', () => {
    const small = new SnapshotRenderer({ maxWidth: 320 }).geometry(centred);
    expect([small.width, small.height]).toEqual([320, 240]);
    expect(sourceToSnapshot([384, 576], centred, small)).toEqual([160, 240]);
    // A picture of the whole model input, bars included: the bars shift every point down by 80.
    const whole = { crop: { left: 0, top: 0, width: 640, height: 640 }, width: 640, height: 640 };
    expect(sourceToSnapshot([0, 0], centred, whole)).toEqual([0, 80]);
    expect(sourceToSnapshot([768, 576], centred, whole)).toEqual([640, 560]);
    // Padding right and bottom (YOLOX) leaves the origin where it was.
    const topLeft = { ...centred, padY: 0 };
    expect(sourceToSnapshot([96, 72], topLeft, whole)).toEqual([80, 60]);
  });

  it('gives each zone its mapped polygon and occupancy (null without a safety chain)', () => {
    const zones = [
      {
        id: 'dock',
        name: 'Dock',
        polygon: [
          [384, 0],
          [768, 0],
          [768, 576],
        ] as [number, number][],
        confirmFrames: 2,
      },
    ];
    const snap = new SnapshotRenderer().geometry(centred);
    const [withSafety] = cameraZones(zones, [{ zone: 'dock', trackIds: [3, 7] }], { lb: centred, snap });
    expect(withSafety).toEqual({
      id: 'dock',
      name: 'Dock',
      polygon: [
        [384, 0],
        [768, 0],
        [768, 576],
      ],
      snapshotPolygon: [
        [320, 0],
        [640, 0],
        [640, 480],
      ],
      occupancy: { count: 2, trackIds: [3, 7] },
    });
    expect(cameraZones(zones, [], { lb: centred, snap })[0]!.occupancy).toEqual({ count: 0, trackIds: [] });
    const [bare] = cameraZones(zones, undefined, undefined);
    expect(bare!.snapshotPolygon).toBeNull();
    expect(bare!.occupancy).toBeNull();
  });
});

describe.skipIf(!hasShared)('zone overlay agrees with the rendered picture', () => {
  it('a source point lands on the pixel where the annotator drew the same point', async () => {
    const spec: InputSpec = { width: 320, height: 320, ...familyInput.yolov8 };
    const frame = await imageToInputFrame(sharedPath('media', 'zidane.jpg'), spec);
    const box = { x1: 400, y1: 200, x2: 800, y2: 700 };
    const event = {
      camera: 'yard',
      frameNo: 1,
      ts: 1,
      pts: 0,
      srcWidth: 1280,
      srcHeight: 720,
      modelId: 'det',
      provider: 'cpu',
      result: { detections: [{ label: 'person', classId: 0, score: 0.9, box }], inferenceMs: 1 },
      frame: { ...frame, camera: 'yard', frameNo: 1, index: 1, ts: 0, pts: 0, release: () => {} },
    } as unknown as DetectionEvent;
    const r = new SnapshotRenderer();
    const snap = (await r.snapshot(event, 'rgb'))!;
    const geo = r.geometry(frame.letterbox);
    expect([geo.width, geo.height]).toEqual([snap.width, snap.height]);
    const { data } = await sharp(snap.jpeg).raw().toBuffer({ resolveWithObject: true });
    const colour = [1, 3, 5].map((i) => parseInt(labelColour('person').slice(i, i + 2), 16));
    // The box's left edge, half way down: where the zone overlay would put the same source point.
    const [x, y] = sourceToSnapshot([box.x1, (box.y1 + box.y2) / 2], frame.letterbox, geo);
    const k = (Math.round(y) * snap.width + Math.round(x)) * 3;
    const px = [...data.subarray(k, k + 3)];
    expect(
      px.every((v, i) => Math.abs(v - colour[i]!) < 70),
      `pixel ${px} at ${x},${y}`,
    ).toBe(true);
  });
});

describe('recent safety events for the page', () => {
  const msg = (eventId: string, phase: SafetyEventMessage['phase'], ts: number): SafetyEventMessage => ({
    eventId,
    camera: 'yard',
    type: 'zone_enter',
    phase,
    ts,
    start: 1000,
    end: phase === 'end' ? ts : null,
    trackIds: [4],
    labels: ['person'],
    zone: 'dock',
    rule: 'dock-enter',
    ...(phase === 'end' ? { endReason: 'left' as const } : {}),
    boxes: [],
    frame: { width: 768, height: 576 },
    snapshot: `/api/events/${eventId}/snapshot.jpg`,
  });

  it('keeps one line per event with its latest message, newest first, bounded', () => {
    const r = new RecentSafetyEvents(2);
    r.add([msg('a', 'start', 1000), msg('b', 'start', 1100)]);
    r.add([msg('a', 'end', 1200)]);
    expect(r.list().map((e) => [e.eventId, e.phase, e.end])).toEqual([
      ['a', 'end', 1200],
      ['b', 'start', null],
    ]);
    expect(r.list()[0]).toMatchObject({
      endReason: 'left',
      zone: 'dock',
      snapshot: '/api/events/a/snapshot.jpg',
    });
    r.add([msg('c', 'start', 1300)]);
    expect(r.list().map((e) => e.eventId)).toEqual(['c', 'a']);
  });
});

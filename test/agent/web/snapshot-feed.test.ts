import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { SnapshotFeed, type SnapshotMessage } from '../../../agent/web/snapshot-feed.js';
import { SnapshotRenderer } from '../../../agent/web/snapshot-renderer.js';
import { SnapshotEvent } from '../../../agent/web/status-schema.js';
import { familyInput } from '../../../models/detect/families.js';
import type { InputSpec } from '../../../models/types.js';
import type { DetectionEvent } from '../../../pipeline/camera/camera-pipeline.js';
import { hasShared } from '../../support/shared.js';
import { zidaneEvent } from '../../support/zidane-event.js';

const spec: InputSpec = { width: 320, height: 320, ...familyInput.yolov8 };

const event = (camera: string, frameNo: number) => zidaneEvent({ spec, camera, frameNo });

/** Just what the feed reads of the agent: cameras with their latest event, and the models' pixel order. */
function fakeAgent(last: Map<string, DetectionEvent | undefined>) {
  const cameras = new Map(
    [...last.keys()].map((id) => [id, { config: { model: 'det' }, last: last.get(id) }]),
  );
  const detectors = new Map([['det', { info: { input: spec } }]]);
  return { cameras, detectors } as unknown as ConstructorParameters<typeof SnapshotFeed>[0];
}

class RecordingHub {
  size = 1;
  readonly sent: { event: string; data: string }[] = [];
  broadcast(event: string, data: string): void {
    this.sent.push({ event, data });
  }
}

describe.skipIf(!hasShared)('SnapshotFeed: snapshots pushed over the live stream', () => {
  it('sends each camera a JPEG once per new frame, and the latest to a page that connects later', async () => {
    const last = new Map<string, DetectionEvent | undefined>([
      ['yard', await event('yard', 7)],
      ['gate', undefined],
    ]);
    const agent = fakeAgent(last);
    const hub = new RecordingHub();
    const feed = new SnapshotFeed(agent, new SnapshotRenderer({ minIntervalMs: 0 }), hub);

    await feed.tick();
    expect(hub.sent.map((s) => s.event)).toEqual(['snapshot']);
    const msg: SnapshotMessage = SnapshotEvent.parse(JSON.parse(hub.sent[0]!.data));
    expect(msg).toMatchObject({ camera: 'yard', frameNo: 7, ts: 1_700_000_000_007, width: 320, height: 180 });
    const meta = await sharp(Buffer.from(msg.jpeg, 'base64')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 320, 180]);

    await feed.tick(); // the same frame: nothing new to send
    expect(hub.sent).toHaveLength(1);

    (agent.cameras.get('yard') as { last?: DetectionEvent }).last = await event('yard', 8);
    (agent.cameras.get('gate') as { last?: DetectionEvent }).last = await event('gate', 3);
    await feed.tick();
    expect(hub.sent.map((s) => (JSON.parse(s.data) as SnapshotMessage).frameNo)).toEqual([7, 8, 3]);
    expect(
      feed
        .current()
        .map((s) => JSON.parse(s.data) as SnapshotMessage)
        .map((m) => m.camera),
    ).toEqual(['yard', 'gate']);
  });

  it('renders nothing while no page is open', async () => {
    const hub = new RecordingHub();
    hub.size = 0;
    const renderer = new SnapshotRenderer({ minIntervalMs: 0 });
    const feed = new SnapshotFeed(fakeAgent(new Map([['yard', await event('yard', 1)]])), renderer, hub);
    await feed.tick();
    expect(hub.sent).toHaveLength(0);
    expect(renderer.rendered).toBe(0);
    expect(feed.current()).toEqual([]);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CameraStatePayload, DetectionsPayload, StatusPayload } from '../../agent/mqtt/payloads.js';
import { startAgent } from '../support/agent-process.js';
import { collect, startMosquitto, type Mosquitto, type Received } from '../support/mosquitto.js';
import { startRtspServer, type RtspServer } from '../support/rtsp.js';
import { hasShared, sharedPath } from '../support/shared.js';

const json = (m: Received) => JSON.parse(m.payload.toString()) as unknown;
/** A camera's detection messages, deduplicated by id as subscribers do (delivery is at least once). */
function detections(all: Received[], camera: string): DetectionsPayload[] {
  const seen = new Set<string>();
  return all
    .filter((m) => m.topic.endsWith(`/cameras/${camera}/detections`))
    .map((m) => DetectionsPayload.parse(json(m)))
    .filter((m) => !seen.has(m.id) && Boolean(seen.add(m.id)));
}

function writeConfig(cfg: object): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-e2e-'));
  const file = path.join(dir, 'vigil.yaml');
  writeFileSync(file, stringify({ dataDir: path.join(dir, 'data'), ...cfg }));
  return file;
}

/** Every message of a camera is a real detection result in source pixels, in sequence order. */
function expectWellFormed(msgs: DetectionsPayload[], width: number, height: number) {
  expect(msgs.length).toBeGreaterThan(0);
  msgs.forEach((m, i) => {
    if (i > 0) expect(m.seq).toBe(msgs[i - 1]!.seq + 1);
    expect(m.frame).toEqual({ width, height });
    for (const d of m.detections) {
      expect(d.box.x1).toBeGreaterThanOrEqual(0);
      expect(d.box.y1).toBeGreaterThanOrEqual(0);
      expect(d.box.x2).toBeLessThanOrEqual(width);
      expect(d.box.y2).toBeLessThanOrEqual(height);
      expect(d.box.x2).toBeGreaterThan(d.box.x1);
      expect(d.box.y2).toBeGreaterThan(d.box.y1);
    }
  });
  const people = msgs.flatMap((m) => m.detections.filter((d) => d.label === 'person'));
  expect(people.length).toBeGreaterThan(msgs.length); // the plaza always has several people in view
  expect(new Set(msgs.map((m) => m.id)).size).toBe(msgs.length);
}

describe.skipIf(!hasShared)('the spine end to end: real RTSP, real mosquitto, real models', () => {
  let broker: Mosquitto;
  let rtsp: RtspServer;
  beforeAll(async () => {
    [broker, rtsp] = await Promise.all([startMosquitto(), startRtspServer(sharedPath('media', 'vtest.avi'))]);
  });
  afterAll(async () => {
    await Promise.all([broker?.stop(), rtsp?.stop()]);
  });

  it('RTSP camera + yolov8n-640: person boxes in sequence, retained state and status, clean stop', async () => {
    const sub = await collect(broker.url, 'vigil/#');
    const cfg = writeConfig({
      site: 'yard',
      device: 'box1',
      mqtt: { url: broker.url },
      http: { enabled: false },
      models: { det: { path: sharedPath('models', 'yolov8n-coco-int8-640.onnx') } },
      cameras: [
        { id: 'gate', source: rtsp.url.replace('rtsp://', 'rtsp://viewer:pa55word@'), model: 'det', fps: 4 },
      ],
    });
    const agent = startAgent(['run', '--config', cfg]);
    try {
      await sub.waitFor((all) => detections(all, 'gate').length >= 12, 60_000);
      const msgs = detections(sub.messages, 'gate');
      expectWellFormed(msgs, 768, 576);
      expect(msgs[0]).toMatchObject({ camera: 'gate', model: 'det', provider: 'cpu' });
      const states = sub.messages
        .filter((m) => m.topic === 'vigil/yard/box1/cameras/gate/state')
        .map((m) => CameraStatePayload.parse(json(m)));
      expect(states.map((s) => s.state)).toContain('streaming');
      const stop = await agent.stop('SIGTERM');
      expect(stop.code).toBe(0);
      expect(stop.ms).toBeLessThan(5000);
      await sub.waitFor((all) =>
        all.some(
          (m) => m.topic === 'vigil/yard/box1/status' && StatusPayload.parse(json(m)).state === 'offline',
        ),
      );
      expect(JSON.stringify(sub.messages.map((m) => m.payload.toString()))).not.toContain('pa55word');
      expect(agent.output()).not.toContain('pa55word');
    } finally {
      await agent.stop('SIGKILL');
      await sub.close();
    }
  }, 90_000);

  it('file camera + YOLOX-nano: detections, and seq goes on across a restart', async () => {
    const sub = await collect(broker.url, 'vigil/#');
    const cfg = writeConfig({
      site: 'yard',
      device: 'box2',
      mqtt: { url: broker.url },
      http: { enabled: false },
      models: { nano: { path: sharedPath('models', 'yolox-nano-coco-416.onnx') } },
      cameras: [{ id: 'plaza', source: sharedPath('media', 'vtest.avi'), model: 'nano', fps: 5, loop: true }],
    });
    let agent = startAgent(['run', '--config', cfg]);
    try {
      await sub.waitFor((all) => detections(all, 'plaza').length >= 8, 60_000);
      expect((await agent.stop('SIGTERM')).code).toBe(0);
      const before = detections(sub.messages, 'plaza');
      expectWellFormed(before, 768, 576);
      expect(before[0]!.model).toBe('nano');

      agent = startAgent(['run', '--config', cfg]);
      await sub.waitFor((all) => detections(all, 'plaza').length >= before.length + 4, 60_000);
      const all = detections(sub.messages, 'plaza');
      expectWellFormed(all, 768, 576); // seq +1 from the last message before the restart
      expect(all.at(-1)!.seq).toBe(before[0]!.seq + all.length - 1);
    } finally {
      await agent.stop('SIGKILL');
      await sub.close();
    }
  }, 120_000);

  it('runs from quick flags alone, with no config file', async () => {
    const sub = await collect(broker.url, 'vigil/flags/#');
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-flags-'));
    const agent = startAgent([
      'run',
      '--source',
      rtsp.url,
      '--model',
      sharedPath('models', 'yolo11n-coco-int8-320.onnx'),
      '--mqtt',
      broker.url,
      '--site',
      'flags',
      '--device',
      'box3',
      '--data-dir',
      dir,
      '--http',
      '127.0.0.1:0',
    ]);
    try {
      await sub.waitFor((all) => detections(all, 'cam1').length >= 5, 60_000);
      expect(detections(sub.messages, 'cam1')[0]).toMatchObject({ camera: 'cam1', model: 'default' });
      expect(sub.messages.every((m) => m.topic.startsWith('vigil/flags/box3/'))).toBe(true);
      expect((await agent.stop('SIGINT')).code).toBe(0);
    } finally {
      await agent.stop('SIGKILL');
      await sub.close();
    }
  }, 90_000);
});

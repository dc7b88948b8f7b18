import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CameraStatePayload } from '../../agent/mqtt/payloads.js';
import { startAgent } from '../support/agent-process.js';
import { collect, startMosquitto, type Mosquitto, type Received } from '../support/mosquitto.js';
import { startRtspServer, type RtspServer } from '../support/rtsp.js';
import { hasShared, sharedPath } from '../support/shared.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const count = (all: Received[], camera: string, from = 0, to = Infinity) =>
  all.filter((m, i) => i >= from && i < to && m.topic.endsWith(`/cameras/${camera}/detections`)).length;

/** Messages per second of one camera between two instants, from the subscriber's own arrival times. */
function rate(log: { t: number; topic: string }[], camera: string, t0: number, t1: number): number {
  const n = log.filter(
    (e) => e.t >= t0 && e.t < t1 && e.topic.endsWith(`/cameras/${camera}/detections`),
  ).length;
  return n / ((t1 - t0) / 1000);
}

describe.skipIf(!hasShared)('camera faults: one camera down, the others unaffected', () => {
  let broker: Mosquitto;
  let rtsp: RtspServer;
  beforeAll(async () => {
    [broker, rtsp] = await Promise.all([startMosquitto(), startRtspServer(sharedPath('media', 'vtest.avi'))]);
  });
  afterAll(async () => {
    await Promise.all([broker?.stop(), rtsp?.stop()]);
  });

  it('RTSP server gone for 15 s: stalled, then streaming; the other camera keeps its rate within 10 %', async () => {
    const sub = await collect(broker.url, 'vigil/#');
    const arrivals: { t: number; topic: string }[] = [];
    sub.client.on('message', (topic) => arrivals.push({ t: Date.now(), topic }));
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-faults-'));
    const cfg = path.join(dir, 'vigil.yaml');
    // Both cameras well below what the box infers, so the second camera's rate is set by its fps alone.
    writeFileSync(
      cfg,
      stringify({
        site: 'yard',
        device: 'faults',
        dataDir: path.join(dir, 'data'),
        mqtt: { url: broker.url },
        http: { enabled: false },
        models: { det: { path: sharedPath('models', 'yolo11n-coco-int8-320.onnx') } },
        cameras: [
          { id: 'rtsp', source: rtsp.url, model: 'det', fps: 3, stallTimeoutS: 4 },
          { id: 'file', source: sharedPath('media', 'vtest.avi'), model: 'det', fps: 3, loop: true },
          { id: 'broken', source: '/nonexistent/clip.mp4', model: 'det' },
        ],
      }),
    );
    const agent = startAgent(['run', '--config', cfg]);
    try {
      await sub.waitFor((all) => count(all, 'rtsp') >= 10 && count(all, 'file') >= 10, 60_000);
      const baseline0 = Date.now();
      await sleep(10_000);
      const baseline = rate(arrivals, 'file', baseline0, Date.now());

      await rtsp.stop();
      const down0 = Date.now();
      await sub.waitFor((all) => lastState(all, 'rtsp') === 'stalled', 15_000);
      await sleep(Math.max(0, 15_000 - (Date.now() - down0)));
      const during = rate(arrivals, 'file', down0, Date.now());
      const mark = sub.messages.length;
      await rtsp.start();
      await sub.waitFor(
        (all) => lastState(all, 'rtsp') === 'streaming' && count(all, 'rtsp', mark) >= 3,
        45_000,
      );

      expect(during).toBeGreaterThan(baseline * 0.9);
      expect(during).toBeLessThan(baseline * 1.1);
      const broken = states(sub.messages, 'broken').at(-1)!;
      expect(broken).toMatchObject({
        state: 'failed',
        reason: 'source file not found: /nonexistent/clip.mp4',
      });
      const stalled = states(sub.messages, 'rtsp').find((s) => s.state === 'stalled')!;
      expect(stalled.reason).toBeTruthy();
      console.log(
        `file camera: ${baseline.toFixed(2)} msg/s before, ${during.toFixed(2)} msg/s during the outage`,
      );
    } finally {
      await agent.stop('SIGKILL');
      await sub.close();
    }
  }, 150_000);
});

function states(all: Received[], camera: string) {
  return all
    .filter((m) => m.topic.endsWith(`/cameras/${camera}/state`))
    .map((m) => CameraStatePayload.parse(JSON.parse(m.payload.toString())));
}
function lastState(all: Received[], camera: string) {
  return states(all, camera).at(-1)?.state;
}

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigStore } from '../../../agent/fleet/config-store.js';
import { ConfigResultPayload, FleetStatePayload } from '../../../agent/fleet/fleet-payloads.js';
import { generateFleetKey } from '../../../agent/fleet/fleet-signature.js';
import { SimHost, startSimBox } from '../../../agent/fleet/sim-host.js';
import { validateConfig } from '../../../config/load.js';
import { silentLogger } from '../../../config/logger.js';
import type { VigilConfig } from '../../../config/schema.js';
import type { DetectionEvent } from '../../../pipeline/camera/camera-pipeline.js';
import { freePort } from '../../support/free-port.js';
import { collect, startMosquitto, type Mosquitto } from '../../support/mosquitto.js';

// The light FleetHost of fleet simulations and fleet tests (agent/fleet/sim-host.ts, docs/fleet.md
// "Simulation"): synthetic cameras on timers, models that must exist as files, and messages straight to one
// MQTT client per host. Real mosquitto, real files; fake timers only where camera frame timing is counted.

const root = mkdtempSync(path.join(tmpdir(), 'vigil-sim-host-'));
const model = path.join(root, 'det.onnx');
writeFileSync(model, 'sim');
const key = generateFleetKey();

let broker: Mosquitto;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker?.stop();
  rmSync(root, { recursive: true, force: true });
});
const hosts: SimHost[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const h of hosts.splice(0)) {
    h.stopAll();
    await h.disconnect();
  }
});

function config(extra: Record<string, unknown> = {}): VigilConfig {
  return validateConfig({
    site: 'yard',
    device: 'box1',
    dataDir: path.join(root, 'data'),
    mqtt: { url: broker.url },
    http: { enabled: false },
    models: { det: { path: model } },
    cameras: [{ id: 'a', source: '/sim/a', model: 'det', fps: 20 }],
    ...extra,
  });
}
const host = (cfg = config()) => {
  const h = new SimHost(cfg, silentLogger);
  hosts.push(h);
  return h;
};
const camera = (extra: Record<string, unknown>) =>
  config({ cameras: [{ id: 'a', source: '/sim/a', model: 'det', ...extra }] }).cameras[0]!;
/** Resolves with the first `n` messages a handler is given (rejects after 20 s with what came). */
const received = (h: SimHost, filter: string, n = 1) =>
  new Promise<{ topic: string; payload: string; retain: boolean }[]>((resolve, reject) => {
    const got: { topic: string; payload: string; retain: boolean }[] = [];
    const timer = setTimeout(() => reject(new Error(`${filter}: ${got.length} of ${n} in 20 s`)), 20_000);
    const off = h.link!.subscribe(filter, (payload, msg) => {
      got.push({ topic: msg.topic, payload: payload.toString(), retain: msg.retain });
      if (got.length === n) {
        clearTimeout(timer);
        off();
        resolve(got);
      }
    });
  });

describe('SimHost cameras', () => {
  const events = (h: SimHost) => {
    const seen: DetectionEvent[] = [];
    h.detections$.subscribe((e) => seen.push(e));
    return seen;
  };

  it('a camera emits one empty detection event per frame at its fps (5 when unset), streaming from the first', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    const h = host();
    const seen = events(h);
    const t0 = Date.now();
    h.startCamera(camera({ id: 'fast', fps: 20 }));
    h.startCamera(camera({ id: 'plain' }));
    expect(h.cameras.get('fast')!.state).toEqual({ camera: 'fast', state: 'connecting', since: t0 });
    vi.advanceTimersByTime(1000);
    const fast = seen.filter((e) => e.camera === 'fast');
    expect(fast.map((e) => e.frameNo)).toEqual([...Array(20).keys()]);
    expect(fast[19]).toEqual({ camera: 'fast', frameNo: 19, ts: t0 + 1000, modelId: 'det' });
    expect(seen.filter((e) => e.camera === 'plain')).toHaveLength(5);
    expect(h.cameras.get('fast')!.state).toMatchObject({ camera: 'fast', state: 'streaming' });
  });

  it('an unreachable source never delivers; a restart replaces the timer; a stopped camera is gone', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    const h = host();
    const seen = events(h);
    h.startCamera(camera({ id: 'gone', source: 'rtsp://unreachable/x', fps: 20 }));
    h.startCamera(camera({ id: 'a', fps: 20 }));
    vi.advanceTimersByTime(500);
    expect(seen.filter((e) => e.camera === 'gone')).toEqual([]);
    expect(h.cameras.get('gone')!.state.state).toBe('connecting');
    const first = h.cameras.get('a')!.timer;
    h.startCamera(camera({ id: 'a', fps: 4 })); // the same camera again, at another rate
    expect(h.cameras.get('a')!.timer).not.toBe(first);
    expect(h.cameras.get('a')!.state.state).toBe('connecting');
    seen.length = 0;
    vi.advanceTimersByTime(1000);
    expect(seen.map((e) => e.frameNo)).toEqual([0, 1, 2, 3]); // the old timer no longer runs
    void h.stopCamera('a');
    expect([...h.cameras.keys()]).toEqual(['gone']);
    h.stopAll();
    seen.length = 0;
    vi.advanceTimersByTime(1000);
    expect([seen, h.cameras.size]).toEqual([[], 0]);
  });

  it('startAll loads each model of the enabled cameras once, then starts those cameras', async () => {
    const other = path.join(root, 'other.onnx');
    writeFileSync(other, 'other');
    const h = host(
      config({
        models: {
          det: { path: model },
          other: { path: other },
          unused: { path: path.join(root, 'missing.onnx') },
        },
        cameras: [
          { id: 'a', source: '/sim/a', model: 'det' },
          { id: 'b', source: '/sim/b', model: 'det' },
          { id: 'c', source: '/sim/c', model: 'other' },
          { id: 'off', source: '/sim/off', model: 'unused', enabled: false },
        ],
      }),
    );
    const load = vi.spyOn(h, 'loadModel');
    await h.startAll();
    expect(load.mock.calls.map(([id]) => id)).toEqual(['det', 'other']);
    expect([...h.detectors.keys()]).toEqual(['det', 'other']);
    expect([...h.cameras.keys()]).toEqual(['a', 'b', 'c']);
    await expect(h.detectors.get('det')!.detect({} as never)).rejects.toThrow(/runs no inference/);
  });

  it('a model whose file is missing fails to load, naming it', async () => {
    const h = host();
    await expect(h.loadModel('det', { path: path.join(root, 'nope.onnx') } as never)).rejects.toThrow(
      `model "det": no such file ${path.join(root, 'nope.onnx')}`,
    );
  });
});

describe('SimHost over MQTT', () => {
  it('topics root at <baseTopic>/<site>/<device>', () => {
    expect(host().topics.root).toBe('vigil/yard/box1');
    const cfg = config();
    expect(host({ ...cfg, mqtt: { ...cfg.mqtt!, baseTopic: 'acme/vigil' } }).topics.root).toBe(
      'acme/vigil/yard/box1',
    );
  });

  it('outbox.enqueue publishes the built payload with its id, retained when asked; nothing while offline', async () => {
    const h = host();
    const offline = h.outbox.enqueue({ topic: 'vigil/yard/box1/x', priority: 0, build: () => ({}) });
    expect(offline).toEqual({ id: expect.any(String), seq: null });
    await h.connect();
    const live = await collect(broker.url, 'vigil/yard/box1/#');
    try {
      const before = Date.now();
      const kept = h.outbox.enqueue({
        topic: 'vigil/yard/box1/kept',
        priority: 1,
        retain: true,
        build: (meta) => ({ ...meta, what: 'kept' }),
      });
      const passing = h.outbox.enqueue({
        topic: 'vigil/yard/box1/passing',
        priority: 0,
        build: (meta) => ({ ...meta, what: 'passing' }),
      });
      await live.waitFor((all) => all.length === 2);
      const body = JSON.parse(live.messages.find((m) => m.topic.endsWith('/kept'))!.payload.toString());
      expect(body).toMatchObject({ id: kept.id, seq: null, what: 'kept' });
      expect(body.ts).toBeGreaterThanOrEqual(before);
      expect(live.messages.map((m) => m.qos)).toEqual([1, 1]);
      expect(kept.id).not.toBe(passing.id);
      // A subscriber that comes later gets the retained one only.
      const late = await collect(broker.url, 'vigil/yard/box1/#');
      await late.waitFor((all) => all.length >= 1);
      expect(late.messages.map((m) => [m.topic, m.retain])).toEqual([['vigil/yard/box1/kept', true]]);
      await late.close();
      await h.disconnect();
      h.outbox.enqueue({ topic: 'vigil/yard/box1/after', priority: 0, build: () => ({}) });
      expect(live.messages.map((m) => m.topic)).not.toContain('vigil/yard/box1/x');
    } finally {
      await live.close();
      await mqtt.connectAsync(broker.url).then(async (c) => {
        await c.publishAsync('vigil/yard/box1/kept', '', { retain: true }); // clears it for later tests
        await c.endAsync();
      });
    }
  });

  it('link.subscribe: filters taken before connect are subscribed at connect, later ones at once', async () => {
    const pub = await mqtt.connectAsync(broker.url);
    try {
      await pub.publishAsync('vigil/fleet/north/config', 'group doc', { qos: 1, retain: true });
      await pub.publishAsync('vigil/yard/all/config', 'site doc', { qos: 1, retain: true });
      const h = host();
      const early = received(h, 'vigil/fleet/+/config');
      await h.connect();
      expect(await early).toEqual([
        { topic: 'vigil/fleet/north/config', payload: 'group doc', retain: true },
      ]);
      const later = await received(h, 'vigil/yard/#');
      expect(later).toEqual([{ topic: 'vigil/yard/all/config', payload: 'site doc', retain: true }]);

      // Unsubscribed: that handler is called no more, though another filter still brings the topic in.
      // (The host's own publish comes back after its subscription: one connection keeps packet order.)
      const dropped: string[] = [];
      h.link!.subscribe('vigil/gone/+', (p) => dropped.push(p.toString()))();
      const marker = received(h, 'vigil/gone/#');
      h.outbox.enqueue({ topic: 'vigil/gone/x', priority: 0, build: () => 'live' });
      expect(await marker).toEqual([{ topic: 'vigil/gone/x', payload: '"live"', retain: false }]);
      expect(dropped).toEqual([]);

      // Clean session: after a reconnect the retained document arrives again.
      const again = received(h, 'vigil/fleet/north/config');
      await h.disconnect();
      await h.connect();
      expect((await again)[0]).toMatchObject({ payload: 'group doc', retain: true });
    } finally {
      await pub.publishAsync('vigil/fleet/north/config', '', { retain: true });
      await pub.publishAsync('vigil/yard/all/config', '', { retain: true });
      await pub.endAsync();
    }
  });

  it('connect fails when no broker listens', async () => {
    const port = await freePort();
    const cfg = config();
    const h = host({ ...cfg, mqtt: { ...cfg.mqtt!, url: `mqtt://127.0.0.1:${port}` } });
    await expect(h.connect()).rejects.toThrow(/ECONNREFUSED/);
  }, 10_000);
});

describe('startSimBox', () => {
  it('runs a box as `vigil run` would: cameras, fleet state, documents through the link; stop ends it all', async () => {
    const sub = await collect(broker.url, 'vigil/yard/sim1/config/#');
    const box = await startSimBox(
      config({ device: 'sim1', dataDir: path.join(root, 'sim1'), fleet: { keys: [key.publicBase64] } }),
      silentLogger,
    );
    const pub = await mqtt.connectAsync(broker.url);
    let stopped = false;
    try {
      expect([...box.host.cameras.keys()]).toEqual(['a']);
      await sub.waitFor((all) => all.some((m) => m.topic.endsWith('/config/state')));
      const state = sub.messages.find((m) => m.topic.endsWith('/config/state'))!;
      expect(FleetStatePayload.parse(JSON.parse(state.payload.toString()))).toMatchObject({ revision: 0 });
      // A document on the device's own topic reaches the service through the host's link.
      // Retained: it reaches the box whether its subscription or the message gets to the broker first.
      await pub.publishAsync('vigil/yard/sim1/config/set', 'not a document', { qos: 1, retain: true });
      await sub.waitFor((all) => all.some((m) => m.topic.endsWith('/config/result')));
      const result = sub.messages.find((m) => m.topic.endsWith('/config/result'))!;
      expect(ConfigResultPayload.parse(JSON.parse(result.payload.toString())).errors[0]).toMatch(/^not-json/);
      await box.stop();
      stopped = true;
      expect(box.host.cameras.size).toBe(0);
      await expect.poll(() => broker.log()).toMatch(/Client sim-yard-sim1-\w+ disconnected\./);
    } finally {
      if (!stopped) await box.stop();
      await pub.publishAsync('vigil/yard/sim1/config/set', '', { qos: 1, retain: true });
      await pub.endAsync();
      await sub.close();
    }
  });

  it('starts from the persisted last-known-good config when it is newer than the file', async () => {
    const dataDir = path.join(root, 'sim2');
    new ConfigStore(dataDir).save({
      format: 1,
      revision: 7,
      digest: 'd7',
      target: 'device:yard/sim2',
      appliedAt: Date.now(),
      managed: { models: config().models, cameras: [camera({ id: 'z', source: '/sim/z' })] },
      document: {},
    });
    const sub = await collect(broker.url, 'vigil/yard/sim2/config/state');
    const box = await startSimBox(
      config({ device: 'sim2', dataDir, fleet: { keys: [key.publicBase64] } }),
      silentLogger,
    );
    try {
      expect([...box.host.cameras.keys()]).toEqual(['z']);
      expect(box.host.config.fleet!.revision).toBe(7);
      await sub.waitFor((all) => all.length > 0);
      expect(FleetStatePayload.parse(JSON.parse(sub.messages[0]!.payload.toString()))).toMatchObject({
        revision: 7,
      });
    } finally {
      await box.stop();
      await sub.close();
    }
  });
});

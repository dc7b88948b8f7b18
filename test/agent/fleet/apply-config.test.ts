import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../config/load.js';
import { silentLogger } from '../../../config/logger.js';
import type { CameraConfig, ModelConfig, VigilConfig, VigilConfigInput } from '../../../config/schema.js';
import { applyConfig, type Applied, type NotApplied } from '../../../agent/fleet/apply-config.js';
import type { FleetDetector } from '../../../agent/fleet/fleet-host.js';
import { SimHost } from '../../../agent/fleet/sim-host.js';
import { ModelRetry, type ModelRetryHost } from '../../../agent/runtime/model-retry.js';
import type { DetectionEvent } from '../../../pipeline/camera/camera-pipeline.js';
import { freePort } from '../../support/free-port.js';
import { startMosquitto } from '../../support/mosquitto.js';

// Moving a running box from one config to the next (docs/fleet.md "Applying", steps 2-4), on the
// project's light FleetHost (agent/fleet/sim-host.ts): real timers stand in for cameras (one detection
// event per frame at the camera's fps; a source containing `unreachable` never delivers), models are
// files that must exist. Real mosquitto and real sockets for the transport probes.

const root = mkdtempSync(path.join(tmpdir(), 'vigil-apply-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const modelA = path.join(root, 'a.onnx');
const modelB = path.join(root, 'b.onnx');
writeFileSync(modelA, 'a');
writeFileSync(modelB, 'b');

/** SimHost that names each detector it loads and records which were closed. */
class Host extends SimHost {
  readonly closed: string[] = [];
  private n = 0;
  override async loadModel(id: string, cfg: ModelConfig): Promise<FleetDetector> {
    const det = await super.loadModel(id, cfg);
    const name = `${id}#${++this.n}`;
    return Object.assign(det, {
      name,
      close: () => {
        this.closed.push(name);
        return Promise.resolve();
      },
    });
  }
}
const nameOf = (d: FleetDetector | undefined) => (d as { name?: string } | undefined)?.name;

const base: VigilConfigInput = {
  site: 'yard',
  device: 'box1',
  dataDir: root,
  http: { enabled: false },
  models: { det: { path: modelA } },
  cameras: [
    { id: 'a', source: '/sim/a', model: 'det', fps: 20 },
    { id: 'b', source: '/sim/b', model: 'det', fps: 20 },
    { id: 'r', source: '/sim/r', model: 'det', fps: 20 },
  ],
};
const cfg = (patch: (c: VigilConfigInput) => void = () => {}): VigilConfig => {
  const c = structuredClone(base);
  patch(c);
  return validateConfig(c);
};

const hosts: SimHost[] = [];
afterEach(() => {
  for (const h of hosts.splice(0)) h.stopAll();
});
async function started(config = cfg(), H: typeof Host = Host): Promise<Host> {
  const h = new H(config, silentLogger);
  hosts.push(h);
  await h.startAll();
  return h;
}
/** Each camera's timer and config: what tells a camera that kept running from one restarted. */
const snapshot = (h: SimHost) =>
  new Map([...h.cameras].map(([id, c]) => [id, { timer: c.timer, config: c.config }]));
const steps = () => {
  const seen: string[] = [];
  return { seen, onStep: (s: string) => seen.push(s) };
};
const notApplied = (r: Applied | NotApplied): NotApplied => {
  if (r.ok) throw new Error('expected a failed apply');
  return r;
};
const applied = (r: Applied | NotApplied): Applied => {
  if (!r.ok) throw new Error(`expected an apply: ${r.errors.join('; ')}`);
  return r;
};
/** Resolves once each camera delivered an event (the host's cameras really run). */
const delivers = (h: SimHost, ids: string[]) =>
  new Promise<void>((resolve) => {
    const left = new Set(ids);
    const sub = h.detections$.subscribe((e) => {
      left.delete(e.camera);
      if (!left.size) {
        sub.unsubscribe();
        resolve();
      }
    });
  });

describe('applyConfig', () => {
  it('touches only what changed: a changed camera restarts, a new one starts, a removed one stops', async () => {
    const h = await started();
    const prev = { config: h.config };
    const before = snapshot(h);
    const det = h.detectors.get('det');
    const next = cfg((c) => {
      c.cameras[1]!.fps = 10;
      c.cameras.splice(2, 1);
      c.cameras.push({ id: 'n', source: '/sim/n', model: 'det', fps: 20 });
    });
    const s = steps();
    const r = applied(
      await applyConfig(h, prev, { config: next }, { healthDeadlineMs: 3000, onStep: s.onStep }),
    );
    expect(s.seen).toEqual(['load', 'switch', 'health', 'transport']);
    expect(r.plan.changed).toEqual(['cameras.b: fps', 'cameras.n: added', 'cameras.r: removed']);
    expect(h.config).toBe(next);
    expect([...h.cameras.keys()].sort()).toEqual(['a', 'b', 'n']);
    expect(h.cameras.get('a')!.timer).toBe(before.get('a')!.timer); // never restarted
    expect(h.cameras.get('b')!.timer).not.toBe(before.get('b')!.timer);
    expect(h.cameras.get('b')!.config.fps).toBe(10);
    expect(h.detectors.get('det')).toBe(det); // an unchanged model is not reloaded
    await r.commit();
    expect(h.closed).toEqual([]);
    await delivers(h, ['a', 'b', 'n']);
  });

  it('a replaced model: loaded first, its cameras restart on it, the old one closes only at commit', async () => {
    const h = await started();
    const old = h.detectors.get('det');
    const before = snapshot(h);
    const next = cfg((c) => (c.models.det!.path = modelB));
    const r = applied(
      await applyConfig(h, { config: h.config }, { config: next }, { healthDeadlineMs: 3000 }),
    );
    expect(r.plan.changed).toContain('models.det: replaced');
    const fresh = h.detectors.get('det');
    expect(nameOf(fresh)).toBe('det#2');
    for (const id of ['a', 'b', 'r']) expect(h.cameras.get(id)!.timer).not.toBe(before.get(id)!.timer);
    expect(h.closed).toEqual([]); // the old detector stays open until the new config is persisted
    await r.commit();
    expect(h.closed).toEqual([nameOf(old)]);
  });

  it('a model nothing needs any more is unloaded, and closed at commit', async () => {
    const h = await started(cfg((c) => (c.models.big = { path: modelB })));
    h.detectors.set('big', await h.loadModel('big', h.config.models.big!));
    const next = cfg((c) => (c.cameras = c.cameras.slice(0, 1)));
    const r = applied(
      await applyConfig(h, { config: h.config }, { config: next }, { healthDeadlineMs: 3000 }),
    );
    expect(r.plan.unloadModels).toEqual(['big']);
    expect(h.detectors.has('big')).toBe(false);
    expect(h.closed).toEqual([]);
    await r.commit();
    expect(h.closed).toEqual(['big#2']);
  });

  it('a model that fails to load switches nothing, and closes what it loaded before', async () => {
    const h = await started();
    const prevConfig = h.config;
    const before = snapshot(h);
    const dets = new Map(h.detectors);
    const missing = path.join(root, 'missing.onnx');
    const next = cfg((c) => {
      c.models.aaa = { path: modelB };
      c.models.zzz = { path: missing };
      c.cameras[0]!.model = 'aaa';
      c.cameras[1]!.model = 'zzz';
    });
    const s = steps();
    const r = notApplied(
      await applyConfig(
        h,
        { config: prevConfig },
        { config: next },
        { healthDeadlineMs: 3000, onStep: s.onStep },
      ),
    );
    expect(r.errors).toEqual([`model "zzz": no such file ${missing}`]);
    expect(s.seen).toEqual(['load']);
    expect(h.closed).toEqual(['aaa#2']);
    expect(h.config).toBe(prevConfig);
    expect(snapshot(h)).toEqual(before);
    expect(h.detectors).toEqual(dets);
  });

  it('a camera that never delivers rolls everything back: cameras, detectors, config', async () => {
    const h = await started();
    const prevConfig = h.config;
    const before = snapshot(h);
    const det = h.detectors.get('det');
    const next = cfg((c) => {
      c.models.det2 = { path: modelB };
      c.cameras[1]!.fps = 10; // b restarts
      c.cameras.splice(2, 1); // r stops
      c.cameras.push({ id: 'u', source: '/sim/unreachable', model: 'det2', fps: 20 });
    });
    const s = steps();
    const t0 = Date.now();
    const r = notApplied(
      await applyConfig(
        h,
        { config: prevConfig },
        { config: next },
        { healthDeadlineMs: 1000, onStep: s.onStep },
      ),
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(r.errors).toEqual(['camera "u": no inference within 1 s (connecting)']);
    expect(r.plan.changed).toEqual([
      'models.det2: loaded',
      'cameras.b: fps',
      'cameras.u: added',
      'cameras.r: removed',
    ]);
    expect(s.seen).toEqual(['load', 'switch', 'health', 'rollback']);
    expect(h.config).toBe(prevConfig);
    expect([...h.cameras.keys()].sort()).toEqual(['a', 'b', 'r']);
    expect(h.cameras.get('a')!.timer).toBe(before.get('a')!.timer);
    for (const id of ['b', 'r']) expect(h.cameras.get(id)!.config).toBe(before.get(id)!.config);
    expect([...h.detectors.keys()]).toEqual(['det']);
    expect(h.detectors.get('det')).toBe(det);
    expect(h.closed).toEqual(['det2#2']);
    await delivers(h, ['a', 'b', 'r']); // the previous cameras really run again
  });

  it('a replaced model that fails its health check puts the old detector back, open', async () => {
    const h = await started();
    const old = h.detectors.get('det');
    const next = cfg((c) => {
      c.models.det!.path = modelB;
      c.cameras[0]!.source = '/sim/unreachable';
    });
    notApplied(await applyConfig(h, { config: h.config }, { config: next }, { healthDeadlineMs: 500 }));
    expect(h.detectors.get('det')).toBe(old);
    expect(h.closed).toEqual(['det#2']);
    expect(h.cameras.get('a')!.config.source).toBe('/sim/a');
  });

  it('results still in flight from a stopped camera do not count as its new instance being healthy', async () => {
    /** A host whose cameras, like real pipelines, deliver their last in-flight result while stopping. */
    class Draining extends Host {
      override async stopCamera(id: string): Promise<void> {
        const cam = this.cameras.get(id);
        await super.stopCamera(id);
        if (cam)
          this.detections$.next({ camera: id, modelId: cam.config.model } as unknown as DetectionEvent);
      }
    }
    const h = await started(cfg(), Draining);
    const next = cfg((c) => (c.cameras[1]!.source = '/sim/unreachable-b'));
    const r = notApplied(
      await applyConfig(h, { config: h.config }, { config: next }, { healthDeadlineMs: 600 }),
    );
    expect(r.errors).toEqual(['camera "b": no inference within 0.6 s (connecting)']);
  });

  it('Applied.rollback returns to the previous config after a healthy switch (e.g. persisting failed)', async () => {
    const h = await started();
    const prevConfig = h.config;
    const old = h.detectors.get('det');
    const next = cfg((c) => {
      c.models.det!.path = modelB;
      c.cameras.splice(2, 1);
      c.cameras.push({ id: 'n', source: '/sim/n', model: 'det', fps: 20 });
    });
    const s = steps();
    const r = applied(
      await applyConfig(
        h,
        { config: prevConfig },
        { config: next },
        { healthDeadlineMs: 3000, onStep: s.onStep },
      ),
    );
    await r.rollback();
    expect(s.seen.at(-1)).toBe('rollback');
    expect(h.config).toBe(prevConfig);
    expect([...h.cameras.keys()].sort()).toEqual(['a', 'b', 'r']);
    for (const id of ['a', 'b', 'r'])
      expect(h.cameras.get(id)!.config).toBe(prevConfig.cameras.find((c) => c.id === id));
    expect(h.detectors.get('det')).toBe(old);
    expect(h.closed).toEqual(['det#2']);
    await delivers(h, ['a', 'b', 'r']);
  });

  it('new mqtt settings are proven by a connection before the apply counts', async () => {
    const broker = await startMosquitto();
    try {
      const h = await started(cfg((c) => (c.mqtt = { url: 'mqtt://127.0.0.1:1' })));
      const next = cfg((c) => (c.mqtt = { url: broker.url }));
      const s = steps();
      const r = applied(
        await applyConfig(
          h,
          { config: h.config },
          { config: next },
          { healthDeadlineMs: 3000, onStep: s.onStep },
        ),
      );
      expect(r.plan.restartRequired).toEqual(['mqtt']);
      expect(r.plan.changed).toEqual(['mqtt: at next restart']);
      expect(s.seen).toEqual(['load', 'switch', 'health', 'transport']);
      await new Promise((res) => setTimeout(res, 100));
      expect(broker.log()).toMatch(/New client connected .* as vigil-probe-/);
    } finally {
      await broker.stop();
    }
  });

  it('mqtt settings the box could not connect with are rolled back', async () => {
    const h = await started(cfg((c) => (c.mqtt = { url: 'mqtt://127.0.0.1:1' })));
    const prevConfig = h.config;
    const dead = `mqtt://127.0.0.1:${await freePort()}`;
    const next = cfg((c) => (c.mqtt = { url: dead }));
    const r = notApplied(
      await applyConfig(h, { config: prevConfig }, { config: next }, { healthDeadlineMs: 1500 }),
    );
    expect(r.errors[0]).toMatch(new RegExp(`^new mqtt settings: cannot connect to ${dead}: `));
    expect(h.config).toBe(prevConfig);
  });

  it('a new http address that cannot be bound is rolled back; a free one is fine', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const h = await started();
      const prevConfig = h.config;
      const next = cfg((c) => (c.http = { enabled: true, host: '127.0.0.1', port }));
      const r = notApplied(
        await applyConfig(h, { config: prevConfig }, { config: next }, { healthDeadlineMs: 3000 }),
      );
      expect(r.errors[0]).toMatch(`new http settings: cannot listen on 127.0.0.1:${port}: listen EADDRINUSE`);
      expect(h.config).toBe(prevConfig);
      const free = await freePort();
      const ok = cfg((c) => (c.http = { enabled: true, host: '127.0.0.1', port: free }));
      expect(
        applied(await applyConfig(h, { config: prevConfig }, { config: ok }, { healthDeadlineMs: 3000 })).plan
          .restartRequired,
      ).toEqual(['http']);
    } finally {
      busy.close();
    }
  });

  it("the model retry's attempt in progress ends before the plan: a model it loads meanwhile is not left waiting", async () => {
    /** Host with the agent's model retry; loading `later` waits for `gate` (a slow load, in progress). */
    class RetryingHost extends Host {
      readonly modelRetry = new ModelRetry(this as unknown as ModelRetryHost, 20, 20);
      readonly isStopping = false;
      gate: Promise<void> | undefined;
      loading = false;
      override async loadModel(id: string, cfg: ModelConfig): Promise<FleetDetector> {
        if (id === 'later' && this.gate) {
          this.loading = true;
          await this.gate;
        }
        return super.loadModel(id, cfg);
      }
      /** As the agent: the camera is kept, with its config, and reported failed. */
      cameraFailed(camera: CameraConfig, reason: string): void {
        const entry = this.cameras.get(camera.id);
        const state = { camera: camera.id, state: 'failed' as const, since: Date.now(), reason };
        this.cameras.set(camera.id, { ...entry, config: camera, state });
      }
    }
    const later = path.join(root, 'later.onnx');
    const withLater = (fps: number) =>
      cfg((c) => {
        c.models.later = { path: later };
        c.cameras = [
          { id: 'a', source: '/sim/a', model: 'det', fps: 20 },
          { id: 'b', source: '/sim/b', model: 'later', fps },
        ];
      });
    const h = new RetryingHost(withLater(20), silentLogger);
    hosts.push(h);
    h.detectors.set('det', await h.loadModel('det', h.config.models.det!));
    h.startCamera(h.config.cameras[0]!);
    h.modelRetry.failed('later', `model "later": no such file ${later}`);
    expect(h.cameras.get('b')!.state.state).toBe('failed');
    // The file arrives and the retry starts loading it; a push changing b comes in meanwhile.
    writeFileSync(later, 'later');
    let open!: () => void;
    h.gate = new Promise((r) => (open = r));
    while (!h.loading) await new Promise((r) => setTimeout(r, 5));
    const next = withLater(10);
    const applying = applyConfig(h, { config: h.config }, { config: next }, { healthDeadlineMs: 3000 });
    open();
    const r = applied(await applying);
    expect([r.plan.waitModels, r.warnings, r.plan.changed]).toEqual([[], [], ['cameras.b: fps']]);
    expect(h.cameras.get('b')!.config).toBe(next.cameras[1]);
    await r.commit();
    expect(h.modelRetry.failing().size).toBe(0);
    await delivers(h, ['a', 'b']);
    expect(h.cameras.get('b')!.state.state).toBe('streaming');
  });
});

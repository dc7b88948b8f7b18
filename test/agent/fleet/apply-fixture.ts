import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { validateConfig } from '../../../config/load.js';
import { silentLogger } from '../../../config/logger.js';
import type { ModelConfig, VigilConfig, VigilConfigInput } from '../../../config/schema.js';
import type { Applied, NotApplied } from '../../../agent/fleet/apply-config.js';
import type { FleetDetector } from '../../../agent/fleet/fleet-host.js';
import { SimHost } from '../../../agent/fleet/sim-host.js';

// Moving a running box from one config to the next (docs/fleet.md "Applying", steps 2-4), on the
// project's light FleetHost (agent/fleet/sim-host.ts): real timers stand in for cameras (one detection
// event per frame at the camera's fps; a source containing `unreachable` never delivers), models are
// files that must exist. Real mosquitto and real sockets for the transport probes.

/** SimHost that names each detector it loads and records which were closed. */
export class Host extends SimHost {
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
export const nameOf = (d: FleetDetector | undefined) => (d as { name?: string } | undefined)?.name;

/**
 * A test file's set-up: a temp dir with two model files (removed after the file), a three-camera config
 * at 20 fps on model A, and hosts started from it (stopped after each test).
 */
export function applyFixture() {
  const root = mkdtempSync(path.join(tmpdir(), 'vigil-apply-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const modelA = path.join(root, 'a.onnx');
  const modelB = path.join(root, 'b.onnx');
  writeFileSync(modelA, 'a');
  writeFileSync(modelB, 'b');

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
  return { root, modelA, modelB, cfg, started, hosts };
}

/** Each camera's timer and config: what tells a camera that kept running from one restarted. */
export const snapshot = (h: SimHost) =>
  new Map([...h.cameras].map(([id, c]) => [id, { timer: c.timer, config: c.config }]));
export const steps = () => {
  const seen: string[] = [];
  return { seen, onStep: (s: string) => seen.push(s) };
};
export const notApplied = (r: Applied | NotApplied): NotApplied => {
  if (r.ok) throw new Error('expected a failed apply');
  return r;
};
export const applied = (r: Applied | NotApplied): Applied => {
  if (!r.ok) throw new Error(`expected an apply: ${r.errors.join('; ')}`);
  return r;
};
/** Resolves once each camera delivered an event (the host's cameras really run). */
export const delivers = (h: SimHost, ids: string[]) =>
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

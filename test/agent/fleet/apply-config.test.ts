import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../config/logger.js';
import type { CameraConfig, ModelConfig } from '../../../config/schema.js';
import { applyConfig } from '../../../agent/fleet/apply-config.js';
import type { FleetDetector } from '../../../agent/fleet/fleet-host.js';
import { ModelRetry, type ModelRetryHost } from '../../../agent/runtime/model-retry.js';
import {
  applied,
  applyFixture,
  delivers,
  Host,
  nameOf,
  notApplied,
  snapshot,
  steps,
} from './apply-fixture.js';

// Switching to a config (docs/fleet.md "Applying"), on the light host of apply-fixture.ts. Rolling back:
// apply-config-rollback.test.ts; proving new mqtt/http settings: apply-config-transport.test.ts.
const { root, modelB, cfg, started, hosts } = applyFixture();

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

import { describe, expect, it } from 'vitest';
import { applyConfig } from '../../../agent/fleet/apply-config.js';
import type { DetectionEvent } from '../../../pipeline/camera/camera-pipeline.js';
import { applied, applyFixture, delivers, Host, notApplied, snapshot, steps } from './apply-fixture.js';

// Rolling back to the previous config (docs/fleet.md "Applying", step 4), on the light host of apply-fixture.ts.
const { modelB, cfg, started } = applyFixture();

describe('applyConfig', () => {
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
});

import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../config/load.js';
import type { VigilConfigInput } from '../../../config/schema.js';
import { planApply } from '../../../agent/fleet/config-diff.js';

const base: VigilConfigInput = {
  site: 's',
  device: 'd',
  models: { det: { path: '/m/det.onnx' }, big: { path: '/m/big.onnx' } },
  cameras: [
    { id: 'a', source: '/v/a.mp4', model: 'det', fps: 2 },
    { id: 'b', source: '/v/b.mp4', model: 'det', fps: 2 },
    { id: 'c', source: '/v/c.mp4', model: 'big' },
  ],
};
const cfg = (patch: (c: VigilConfigInput) => void) => {
  const c = structuredClone(base);
  patch(c);
  return { config: validateConfig(c) };
};
const loaded = new Set(['det', 'big']);

describe('planApply', () => {
  it('an identical config changes nothing', () => {
    const plan = planApply(
      cfg(() => {}),
      cfg(() => {}),
      loaded,
    );
    expect(plan.changed).toEqual([]);
    expect([plan.loadModels, plan.addCameras, plan.removeCameras, plan.restartCameras]).toEqual([
      [],
      [],
      [],
      [],
    ]);
  });

  it('restarts only the camera whose settings changed, adds and removes by id', () => {
    const plan = planApply(
      cfg(() => {}),
      cfg((c) => {
        c.cameras[1]!.fps = 5;
        c.cameras.splice(2, 1);
        c.cameras.push({ id: 'e', source: '/v/e.mp4', model: 'det' });
      }),
      loaded,
    );
    expect(plan.restartCameras.map((x) => x.id)).toEqual(['b']);
    expect(plan.addCameras.map((x) => x.id)).toEqual(['e']);
    expect(plan.removeCameras).toEqual(['c']);
    expect(plan.unloadModels).toEqual(['big']);
    expect(plan.changed).toEqual([
      'models.big: unloaded',
      'cameras.b: fps',
      'cameras.e: added',
      'cameras.c: removed',
    ]);
  });

  it('a replaced model restarts exactly the cameras on it; transport changes wait for a restart', () => {
    const plan = planApply(
      cfg(() => {}),
      cfg((c) => {
        c.models.big = { path: '/m/big-v2.onnx' };
        c.mqtt = { url: 'mqtt://10.0.0.9:1883' };
      }),
      loaded,
    );
    expect(plan.loadModels).toEqual(['big']);
    expect(plan.restartCameras.map((x) => x.id)).toEqual(['c']);
    expect(plan.restartRequired).toEqual(['mqtt']);
    expect(plan.changed).toContain('mqtt: at next restart');
  });

  it('a disabled camera counts as removed', () => {
    const plan = planApply(
      cfg(() => {}),
      cfg((c) => void (c.cameras[0]!.enabled = false)),
      loaded,
    );
    expect(plan.removeCameras).toEqual(['a']);
  });
});

describe('planApply with a model failing since start-up (retried, no detector)', () => {
  const running = new Set(['det']);
  const prev = cfg(() => {});
  const failing = new Map([['big', prev.config.models.big!]]);

  it('left as it is, it does not load: its kept, changed and new cameras wait for its retry', () => {
    const plan = planApply(
      prev,
      cfg((c) => {
        c.cameras[1]!.fps = 5;
        c.cameras[2]!.fps = 1;
        c.cameras.push({ id: 'd', source: '/v/d.mp4', model: 'big' });
      }),
      running,
      failing,
    );
    expect(plan.loadModels).toEqual([]);
    expect(plan.waitModels).toEqual(['big']);
    expect(plan.restartCameras.map((x) => x.id)).toEqual(['b']);
    expect(plan.waitCameras.map((x) => x.id)).toEqual(['c', 'd']);
    expect(plan.addCameras).toEqual([]);
    expect(plan.changed).toEqual(['cameras.b: fps', 'cameras.c: fps', 'cameras.d: added']);
  });

  it('loaded by the push when its settings change, a running camera moves onto it, or it is the shadow candidate', () => {
    const pushes = {
      settings: cfg((c) => (c.models.big = { path: '/m/big-v2.onnx' })),
      moved: cfg((c) => (c.cameras[0]!.model = 'big')),
      shadow: { ...prev, shadow: { candidate: 'big', share: 0.1, iou: 0.5, reportIntervalS: 60 } },
    };
    for (const [what, next] of Object.entries(pushes)) {
      const plan = planApply(prev, next, running, failing);
      expect([what, plan.loadModels, plan.waitModels, plan.waitCameras]).toEqual([what, ['big'], [], []]);
    }
    expect(planApply(prev, pushes.settings, running, failing).restartCameras.map((x) => x.id)).toEqual(['c']);
  });

  it('no longer needed: its retry stops', () => {
    const plan = planApply(
      prev,
      cfg((c) => void (c.cameras[2]!.enabled = false)),
      running,
      failing,
    );
    expect(plan.waitModels).toEqual([]);
    expect(plan.removeCameras).toEqual(['c']);
    expect(plan.changed).toEqual(['models.big: retry stopped', 'cameras.c: removed']);
  });
});

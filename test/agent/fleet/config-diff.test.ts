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

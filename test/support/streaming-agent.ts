import { VigilConfig, type VigilConfigInput } from '../../config/schema.js';
import { sharedPath } from './shared.js';

/**
 * The config of an agent with one camera streaming: `a`, vtest.avi looped at 2 fps on the cheapest real
 * model (yolo11n-320, CPU, one worker), no status page. For tests of services that need a live camera and
 * a broker; `extra` replaces top-level sections (`mqtt` with the broker's url, …).
 */
export function streamingAgentConfig(dataDir: string, extra: Partial<VigilConfigInput> = {}): VigilConfig {
  return VigilConfig.parse({
    site: 's',
    device: 'd',
    dataDir,
    http: { enabled: false },
    models: {
      m: { path: sharedPath('models', 'yolo11n-coco-int8-320.onnx'), providers: ['cpu'], workers: 1 },
    },
    cameras: [{ id: 'a', source: sharedPath('media', 'vtest.avi'), model: 'm', fps: 2, loop: true }],
    ...extra,
  });
}

export type CameraInput = NonNullable<VigilConfigInput['cameras']>[number];

/** A camera on vtest.avi, looped at 10 fps, on streamingAgentConfig's model `m`; `extra` overrides. */
export const vtestCamera = (id: string, extra: Partial<CameraInput> = {}): CameraInput => ({
  id,
  source: sharedPath('media', 'vtest.avi'),
  model: 'm',
  fps: 10,
  loop: true,
  ...extra,
});

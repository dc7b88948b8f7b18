import { ConfigError, validateConfig } from '../../config/load.js';

/** A minimal valid config input: one camera on one model; the schema tests patch it. */
export const camera = { id: 'gate', source: 'rtsp://cam/stream', model: 'det' };
export const base = {
  site: 'yard',
  device: 'box1',
  models: { det: { path: '/m/det.onnx' } },
  cameras: [camera],
};

/** The lines `vigil check-config` would print (empty when valid). */
export function problems(input: unknown): string[] {
  try {
    validateConfig(input);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.lines;
    throw err;
  }
}
export const withCamera = (extra: Record<string, unknown>) => ({
  ...base,
  cameras: [{ ...camera, ...extra }],
});
export const withModel = (extra: Record<string, unknown>) => ({
  ...base,
  models: { det: { path: '/m/det.onnx', ...extra } },
});

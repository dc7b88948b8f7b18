import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { VigilConfig, type VigilConfigInput } from '../../../config/schema.js';
import { sharedPath } from '../../support/shared.js';

/** A valid config for the doctor tests: one camera on the shared clip, a fresh data dir. */
export function doctorConfig(over: Partial<VigilConfigInput> = {}): VigilConfig {
  return VigilConfig.parse({
    site: 'yard',
    device: 'box1',
    dataDir: mkdtempSync(path.join(tmpdir(), 'vigil-doctor-')),
    models: { det: { path: sharedPath('models', 'yolo11n-coco-int8-320.onnx') } },
    cameras: [{ id: 'cam1', source: sharedPath('media', 'vtest.avi'), model: 'det' }],
    ...over,
  });
}

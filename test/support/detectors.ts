import { ModelConfig } from '../../config/schema.js';
import { Detector } from '../../models/detect/detector.js';
import { sharedPath } from './shared.js';

/** One of the real models in ../shared/models on the CPU, one worker: what most pipeline tests run on. */
export function loadSharedDetector(id: string, file: string): Promise<Detector> {
  return Detector.load(
    id,
    ModelConfig.parse({ path: sharedPath('models', file), providers: ['cpu'], workers: 1 }),
  );
}

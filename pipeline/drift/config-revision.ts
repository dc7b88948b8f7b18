import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { CameraConfig, ModelConfig } from '../../config/schema.js';
import { redactUrl } from '../../config/redact-url.js';

/**
 * The config revision a reference belongs to: a short hash of what changes what a model sees on a
 * camera — the source (credentials left out, so rotating a password is no change), the model's
 * settings and its weights. Frame rate, timeouts and names are left out: they do not move the histograms.
 */
export function configRevision(
  camera: Pick<CameraConfig, 'source'>,
  model: ModelConfig,
  weightsDigest = '',
): string {
  const relevant = {
    source: redactUrl(camera.source),
    model: {
      path: model.path,
      family: model.family ?? null,
      inputSize: model.inputSize ?? null,
      confidence: model.confidence,
      iou: model.iou,
      classes: sortKeys(model.classes),
      labels: sortKeys(model.labels),
      onlyMapped: model.onlyMapped,
      classNames: model.classNames ?? null,
    },
    weights: weightsDigest,
  };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 12);
}

/** sha256 of a model file, or '' when it cannot be read (the revision then follows the config alone). */
export function weightsDigest(file: string): string {
  try {
    if (!statSync(file).isFile()) return '';
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return '';
  }
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

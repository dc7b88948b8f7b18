import type { ModelFamily } from '../../config/schema.js';
import { parseUltralyticsNames } from '../onnx/onnx-info.js';
import { cocoNames } from './coco-names.js';

/**
 * The model's class names: the config's, else the file's own (Ultralytics metadata), else COCO for a YOLOX
 * head of 80 classes, else `class0`, `class1`, …. Throws when names and the output's class count disagree:
 * labels would land on the wrong boxes, and an Ultralytics file whose output holds more channels than its
 * names is a pose or segmentation head, not a detector.
 */
export function resolveClassNames(opts: {
  configured?: string[];
  metadata: Record<string, string>;
  family: ModelFamily;
  /** null: the layout carries class ids, not one score per class (end-to-end exports). */
  classCount: number | null;
  /** The output's shape, for the message. */
  output: string;
}): string[] {
  const { configured, metadata, family, classCount, output } = opts;
  if (configured) {
    if (classCount !== null && configured.length !== classCount) {
      throw new Error(
        `classNames lists ${configured.length} names but output ${output} holds ${classCount} class scores`,
      );
    }
    return configured;
  }
  const own = metadata.names ? parseUltralyticsNames(metadata.names) : undefined;
  if (own) {
    if (classCount !== null && own.length !== classCount) {
      throw new Error(
        `the model names ${own.length} classes but output ${output} holds ${classCount} class scores (a pose or segmentation head is not a detector)`,
      );
    }
    return own;
  }
  if (family === 'yolox' && classCount === cocoNames.length) return [...cocoNames];
  // Unknown count and no names: classes are reported as class<N> as they come.
  return Array.from({ length: classCount ?? 0 }, (_, i) => `class${i}`);
}

import { CameraConfig } from '../../../config/schema.js';
import { familyInput } from '../../../models/detect/families.js';
import { computeLetterbox } from '../../../models/letterbox.js';
import type { InputSpec } from '../../../models/types.js';
import { planFfmpeg } from '../../../pipeline/source/ffmpeg-args.js';
import type { ProbeInfo } from '../../../pipeline/source/probe.js';
import { sourceKindOf } from '../../../pipeline/source/source-kinds.js';

// The camera, input specs and probe the ffmpeg-args*.test.ts files plan for.

export const camera = (source: string, over: Partial<CameraConfig> = {}) =>
  CameraConfig.parse({ id: 'cam', source, model: 'm', ...over });
export const v8: InputSpec = { width: 320, height: 320, ...familyInput.yolov8 };
export const yolox: InputSpec = { width: 320, height: 320, ...familyInput.yolox };
const probe: ProbeInfo = { width: 768, height: 576, codec: 'msmpeg4v3', fps: 10, duration: 79.5 };

export function planFor(source: string, over: Partial<CameraConfig> = {}, spec = v8, p: ProbeInfo = probe) {
  const c = camera(source, over);
  return planFfmpeg(c, sourceKindOf(c.source), p, computeLetterbox(p.width, p.height, spec), spec);
}

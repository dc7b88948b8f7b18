import { imageToInputFrame } from '../../models/detect/image-input.js';
import type { InputSpec } from '../../models/types.js';
import type { DetectionEvent } from '../../pipeline/camera/camera-pipeline.js';
import { sharedPath } from './shared.js';

/**
 * A processed frame as the pipeline hands it on: zidane.jpg (1280×720) letterboxed into `spec`, with the
 * given detections in source pixels (the picture is 320×180 at a 320 input: scale 0.25).
 */
export async function zidaneEvent(opts: {
  spec: InputSpec;
  camera?: string;
  frameNo: number;
  detections?: object[];
}): Promise<DetectionEvent> {
  const { spec, camera = 'yard', frameNo, detections = [] } = opts;
  const frame = await imageToInputFrame(sharedPath('media', 'zidane.jpg'), spec);
  return {
    camera,
    frameNo,
    ts: 1_700_000_000_000 + frameNo,
    pts: frameNo,
    srcWidth: 1280,
    srcHeight: 720,
    modelId: 'det',
    provider: 'cpu',
    result: { detections, inferenceMs: 1, preMs: 0, postMs: 0, queueMs: 0 },
    frame: { ...frame, camera, frameNo, index: frameNo, ts: 0, pts: 0, release: () => {}, recycle: () => {} },
  } as unknown as DetectionEvent;
}

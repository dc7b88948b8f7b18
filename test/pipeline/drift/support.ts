import type { DetectionEvent } from '../../../pipeline/camera/camera-pipeline.js';
import type { ImageStats } from '../../../pipeline/drift/image-stats.js';

/** A detection event without pixels (image statistics are passed separately in these tests). */
export function syntheticEvent(frameNo: number, people: number, score = 0.7): DetectionEvent {
  return {
    camera: 'cam1',
    frameNo,
    ts: frameNo * 100,
    pts: frameNo / 10,
    srcWidth: 768,
    srcHeight: 576,
    modelId: 'det',
    provider: 'cpu',
    result: {
      detections: Array.from({ length: people }, (_, i) => ({
        label: 'person',
        classId: 0,
        score: score + 0.05 * Math.sin(frameNo + i),
        box: { x1: 40 + 70 * i, y1: 200, x2: 80 + 70 * i, y2: 300 + (frameNo % 7) },
      })),
      inferenceMs: 10,
      preMs: 1,
      postMs: 1,
      queueMs: 0,
    },
    frame: {
      data: new Uint8Array(0),
      letterbox: {
        srcWidth: 768,
        srcHeight: 576,
        inputWidth: 320,
        inputHeight: 320,
        scaledWidth: 320,
        scaledHeight: 240,
        padX: 0,
        padY: 40,
      },
      camera: 'cam1',
      frameNo,
      index: frameNo,
      ts: frameNo * 100,
      pts: frameNo / 10,
      release: () => {},
      recycle: () => {},
    },
  };
}

export function syntheticImage(frameNo: number, brightness = 120): ImageStats {
  const w = Math.sin(frameNo * 1.3);
  return {
    brightness: brightness + 2 * w,
    contrast: 45 + w,
    sharpness: 14 + w,
    castRB: 0.02,
    castG: 0.01,
    saturated: 0.001,
    dark: 0,
    samples: 4800,
  };
}

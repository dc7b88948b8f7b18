import type { DetectionEvent } from '../../pipeline/camera/camera-pipeline.js';

const r1 = (v: number) => Math.round(v * 10) / 10;
const r3 = (v: number) => Math.round(v * 1000) / 1000;

/** The `cameras/<camera>/detections` payload (schema in agent/mqtt/payloads.ts, contract in docs/mqtt.md). */
export function detectionPayload(event: DetectionEvent, meta: { id: string; seq: number | null }) {
  return {
    id: meta.id,
    camera: event.camera,
    ts: event.ts,
    pts: Math.round(event.pts * 1000) / 1000,
    seq: meta.seq ?? 0,
    model: event.modelId,
    provider: event.provider,
    inferenceMs: r1(event.result.inferenceMs),
    frame: { width: event.srcWidth, height: event.srcHeight },
    detections: event.result.detections.map((d) => ({
      label: d.label,
      classId: d.classId,
      score: r3(d.score),
      box: { x1: r1(d.box.x1), y1: r1(d.box.y1), x2: r1(d.box.x2), y2: r1(d.box.y2) },
      // Set by the camera's tracker (pipeline/tracking) once the detection belongs to a reported track.
      ...('trackId' in d && typeof d.trackId === 'number' ? { trackId: d.trackId } : {}),
    })),
  };
}

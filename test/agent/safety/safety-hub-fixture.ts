import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, vi } from 'vitest';
import { SafetyHub } from '../../../agent/safety/safety-hub.js';
import { validateConfig } from '../../../config/load.js';
import { silentLogger } from '../../../config/logger.js';
import type { VigilConfig, VigilConfigInput } from '../../../config/schema.js';
import type { DetectorInfo } from '../../../models/types.js';
import type { CameraSafety } from '../../../pipeline/safety/camera-safety.js';
import type { SafetyEventMessage } from '../../../pipeline/safety/event-builder.js';

// What the safety-hub-*.test.ts files share: temp data dirs, hubs opened on a one-camera config, and a
// scene (synthetic pixels) in which a proximity event starts.

const dirs: string[] = [];
const hubs: SafetyHub[] = [];
/** Registers the file's hook: after each test real timers again, every hub closed, every temp dir removed. */
export function useSafetyHubs(): void {
  afterEach(() => {
    vi.useRealTimers();
    for (const h of hubs.splice(0)) h.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
}
export const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'vigil-safety-hub-'));
  dirs.push(d);
  return d;
};

export function config(
  dataDir: string,
  safety: VigilConfigInput['safety'] = {},
  camera: Record<string, unknown> = {},
): VigilConfig {
  return validateConfig({
    site: 'yard',
    device: 'box1',
    dataDir,
    models: { det: { path: path.join(dataDir, 'det.onnx') } },
    cameras: [{ id: 'dock', source: 'rtsp://cam/dock', model: 'det', ...camera }],
    safety,
  });
}
export const info = (pixelOrder: 'rgb' | 'bgr' = 'rgb') =>
  ({ input: { pixelOrder } }) as unknown as DetectorInfo;
export function opened(cfg: VigilConfig, log = silentLogger): SafetyHub {
  const hub = new SafetyHub(log);
  hubs.push(hub);
  hub.open(cfg);
  return hub;
}

// A 640×480 source letterboxed into 320×320 (the picture is 320×240 at y 40), every pixel one colour or noise.
const letterbox = {
  srcWidth: 640,
  srcHeight: 480,
  inputWidth: 320,
  inputHeight: 320,
  scaledWidth: 320,
  scaledHeight: 240,
  padX: 0,
  padY: 40,
};
const red = () => Uint8Array.from({ length: 320 * 320 * 3 }, (_, i) => (i % 3 === 0 ? 255 : 0));
export const noise = () => {
  let s = 12345;
  return Uint8Array.from({ length: 320 * 320 * 3 }, () => (s = (s * 1103515245 + 12345) & 0x7fffffff) >> 23);
};
// A person standing 20 px right of a forklift's box: inside the default proximity margin.
const detections = [
  { label: 'forklift', classId: 1, score: 0.9, box: { x1: 100, y1: 100, x2: 400, y2: 400 } },
  { label: 'person', classId: 0, score: 0.9, box: { x1: 400, y1: 300, x2: 440, y2: 400 } },
];
/** Feeds frames until the proximity event starts; returns every message and the started event's id. */
export async function runScene(safety: CameraSafety, data = red(), frames = 5) {
  const messages: SafetyEventMessage[] = [];
  for (let f = 0; f < frames; f++) {
    const out = safety.process({
      ts: 1_700_000_000_000 + f * 100,
      pts: f / 10,
      srcWidth: 640,
      srcHeight: 480,
      result: { detections },
      frame: { data, letterbox },
    });
    messages.push(...out.events);
  }
  await safety.flush();
  const start = messages.find((m) => m.phase === 'start');
  if (!start) throw new Error(`no event started: ${JSON.stringify(messages)}`);
  return { messages, eventId: start.eventId, start };
}

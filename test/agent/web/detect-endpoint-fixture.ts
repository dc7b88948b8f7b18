import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { DetectEndpoint } from '../../../agent/web/detect-endpoint.js';
import type { Detector } from '../../../models/detect/detector.js';
import { loadSharedDetector } from '../../support/detectors.js';
import { call, type Answer } from '../../support/http-call.js';
import { hasShared, sharedPath } from '../../support/shared.js';

// What detect-endpoint.test.ts and detect-endpoint-concurrency.test.ts share: a DetectEndpoint on a real
// model, under two ids, behind a real node:http server.

export const limits = { maxBytes: 400 * 1024, maxPixels: 4_000_000, uploadTimeoutMs: 5000, maxReceiving: 2 };
export const model = 'yolo11n-coco-int8-320.onnx';

export interface DetectAnswer {
  model: string;
  provider: string;
  image: { width: number; height: number };
  inferenceMs: number;
  queueMs: number;
  detections: {
    label: string;
    classId: number;
    score: number;
    box: { x1: number; y1: number; x2: number; y2: number };
  }[];
}
export const json = <T = { error: string; reason: string }>(a: Answer) =>
  JSON.parse(a.body.toString('utf8')) as T;

/** The endpoint behind a real node:http server; `entered` resolves once a request is inside handle(). */
export async function serve(endpoint: DetectEndpoint) {
  let entered: () => void = () => {};
  const server = createServer((req, res) => {
    // handle() counts the upload as being received before its first await: once it returns, it is reading.
    void endpoint.handle(req, res, new URL(req.url!, 'http://localhost'));
    entered();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const nextEntry = () => new Promise<void>((r) => (entered = r));
  return { server, base, nextEntry };
}

export const close = (server: Server | undefined) =>
  new Promise<void>((r) => (server ? server.close(() => r()) : r()));

// The endpoint of the file's tests (made by useDetectEndpoint): models det and det2, the errors it reported.
export let det: Detector;
export let det2: Detector;
let server: Server;
export let base: URL;
export let nextEntry: () => Promise<void>;
export const errors: string[] = [];
export const pic = hasShared ? readFileSync(sharedPath('media', 'zidane.jpg')) : Buffer.alloc(0);
export const post = (p: string, body: Buffer | Buffer[], headers: Record<string, string> = {}) =>
  call(base, p, { method: 'POST', body, headers });

/** Registers the describe's hooks: the models loaded and the endpoint served before its tests, closed after. */
export function useDetectEndpoint(): void {
  beforeAll(async () => {
    // The same file under two ids: two models, each with its own one-upload slot.
    [det, det2] = await Promise.all([loadSharedDetector('det', model), loadSharedDetector('det2', model)]);
    const endpoint = new DetectEndpoint(
      new Map([
        ['det', det],
        ['det2', det2],
      ]),
      limits,
      (m) => errors.push(m),
    );
    ({ server, base, nextEntry } = await serve(endpoint));
  }, 60_000);

  afterAll(async () => {
    await close(server);
    await Promise.all([det?.close(), det2?.close()]);
  });
}

import { request, type IncomingMessage } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { DetectEndpoint } from '../../../agent/web/detect-endpoint.js';
import type { Detector } from '../../../models/detect/detector.js';
import { call, type Answer } from '../../support/http-call.js';
import { hasShared } from '../../support/shared.js';
import {
  base,
  close,
  errors,
  det,
  det2,
  json,
  limits,
  nextEntry,
  pic,
  post,
  serve,
  useDetectEndpoint,
  type DetectAnswer,
} from './detect-endpoint-fixture.js';

// How many uploads the endpoint takes at once: one being processed per model, maxReceiving being received.

/** `det` with every detect() held until release(): an upload that keeps its model's slot while processed. */
function heldDetector(det: Detector) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  const detector = Object.create(det) as Detector;
  detector.detect = async (frame, key) => {
    entered();
    await gate;
    return det.detect(frame, key);
  };
  return { detector, inside, release };
}

/** A POST whose body is sent in two parts: `rest()` sends the second; `answer` is the response. */
function slowUpload(base: URL, path: string, body: Buffer, first: number) {
  const req = request({
    host: base.hostname,
    port: base.port,
    path,
    method: 'POST',
    headers: { 'Content-Length': String(body.length) },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
  });
  req.write(body.subarray(0, first));
  return { answer, rest: () => req.end(body.subarray(first)) };
}

describe.skipIf(!hasShared)('DetectEndpoint: POST /api/detect on a real model', () => {
  useDetectEndpoint();
  // No test of this file may leave an error the endpoint reported (each checks its own answers).
  afterAll(() => expect(errors).toEqual([]));

  it('one upload per model at a time: a second on the same model gets 429 while the first is processed', async () => {
    const held = heldDetector(det);
    const endpoint = new DetectEndpoint(
      new Map([
        ['det', held.detector],
        ['det2', det2],
      ]),
      limits,
    );
    const s = await serve(endpoint);
    try {
      const first = call(s.base, '/api/detect', { method: 'POST', body: pic });
      await held.inside; // its body is read and det's slot taken
      const busy = await call(s.base, '/api/detect', { method: 'POST', body: pic });
      expect(busy.status).toBe(429);
      expect(busy.headers['retry-after']).toBe('1');
      expect(json(busy)).toEqual({
        error: 'busy',
        reason: 'an upload is already being processed on model "det"; try again shortly',
      });
      const other = await call(s.base, '/api/detect?model=det2', { method: 'POST', body: pic });
      expect(other.status).toBe(200);
      held.release();
      const done = await first;
      expect(done.status).toBe(200);
      expect(json<DetectAnswer>(done).model).toBe('det');
      // Done: the slot is free again.
      expect((await call(s.base, '/api/detect', { method: 'POST', body: pic })).status).toBe(200);
    } finally {
      await close(s.server);
    }
  });

  it('an upload still arriving holds no model: the next one on that model is processed meanwhile', async () => {
    const entered = nextEntry();
    const slow = slowUpload(base, '/api/detect', pic, 1000);
    await entered;
    // Before the fix the slow upload held det's slot until its body came: this got 429.
    const meanwhile = await post('/api/detect', pic);
    expect(meanwhile.status).toBe(200);
    slow.rest();
    const late = await slow.answer;
    expect(late.status).toBe(200);
    expect(json<DetectAnswer>(late).model).toBe('det');
  });

  it('at most maxReceiving uploads are received at once: one more gets 429 and its connection is closed', async () => {
    expect(limits.maxReceiving).toBe(2);
    const slow = [];
    // One per model: once received, each has its model to itself.
    for (const p of ['/api/detect', '/api/detect?model=det2']) {
      const entered = nextEntry();
      slow.push(slowUpload(base, p, pic, 1000));
      await entered;
    }
    const more = await post('/api/detect', pic);
    expect(more.status).toBe(429);
    expect(more.headers.connection).toBe('close');
    expect(json(more).reason).toBe('too many uploads being received at once; try again shortly');
    for (const u of slow) u.rest();
    expect((await Promise.all(slow.map((u) => u.answer))).map((a) => a.status)).toEqual([200, 200]);
    // Received: the count is down again.
    expect((await post('/api/detect?model=det2', pic)).status).toBe(200);
  });
});

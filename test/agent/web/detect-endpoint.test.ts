import { readFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DetectEndpoint } from '../../../agent/web/detect-endpoint.js';
import type { Detector } from '../../../models/detect/detector.js';
import { loadSharedDetector } from '../../support/detectors.js';
import { call, type Answer } from '../../support/http-call.js';
import { hasShared, sharedPath } from '../../support/shared.js';

const limits = { maxBytes: 400 * 1024, maxPixels: 4_000_000, uploadTimeoutMs: 5000, maxReceiving: 2 };
const model = 'yolo11n-coco-int8-320.onnx';

interface DetectAnswer {
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
const json = <T = { error: string; reason: string }>(a: Answer) => JSON.parse(a.body.toString('utf8')) as T;

/** The endpoint behind a real node:http server; `entered` resolves once a request is inside handle(). */
async function serve(endpoint: DetectEndpoint) {
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

const close = (server: Server | undefined) =>
  new Promise<void>((r) => (server ? server.close(() => r()) : r()));

describe.skipIf(!hasShared)('DetectEndpoint: POST /api/detect on a real model', () => {
  let det: Detector;
  let det2: Detector;
  let server: Server;
  let base: URL;
  let nextEntry: () => Promise<void>;
  const errors: string[] = [];
  const pic = hasShared ? readFileSync(sharedPath('media', 'zidane.jpg')) : Buffer.alloc(0);
  const post = (p: string, body: Buffer | Buffer[], headers: Record<string, string> = {}) =>
    call(base, p, { method: 'POST', body, headers });

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

  it('a picture gives its detections in source pixels, on the first model by default', async () => {
    const a = await post('/api/detect', pic);
    expect(a.status).toBe(200);
    const r = json<DetectAnswer>(a);
    expect(r).toMatchObject({ model: 'det', provider: 'cpu', image: { width: 1280, height: 720 } });
    expect(r.inferenceMs).toBeGreaterThan(0);
    const people = r.detections.filter((d) => d.label === 'person');
    expect(people.length).toBeGreaterThanOrEqual(2);
    for (const d of r.detections) {
      expect(Math.round(d.score * 1000) / 1000).toBe(d.score);
      expect(d.box.x1).toBeGreaterThanOrEqual(0);
      expect(d.box.x2).toBeLessThanOrEqual(1280);
      expect(d.box.y2).toBeLessThanOrEqual(720);
      expect(d.box.x2).toBeGreaterThan(d.box.x1);
    }
    expect(json<DetectAnswer>(await post('/api/detect?model=det2', pic)).model).toBe('det2');
  });

  it('format=jpeg: the picture annotated, at most 1280 px wide', async () => {
    // 2560×1440: a wide picture comes back scaled to 1280 wide, aspect kept.
    const wide = await sharp(pic).resize(2560, 1440).jpeg({ quality: 50 }).toBuffer();
    expect(wide.length).toBeLessThan(limits.maxBytes);
    const a = await post('/api/detect?format=jpeg', wide);
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe('image/jpeg');
    const meta = await sharp(a.body).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 1280, 720]);
    // The boxes are drawn: the answer is not the picture merely scaled.
    const plain = await sharp(wide).resize(1280, 720).raw().toBuffer();
    const drawn = await sharp(a.body).raw().toBuffer();
    let differ = 0;
    for (let i = 0; i < plain.length; i++) if (Math.abs(plain[i]! - drawn[i]!) > 80) differ++;
    expect(differ).toBeGreaterThan(1000);
  });

  it('refuses what is not an image, with a 4xx and a reason a person can act on', async () => {
    const text = await post('/api/detect', Buffer.from('hello, not a picture'));
    expect(text.status).toBe(415);
    expect(json(text)).toMatchObject({
      error: 'unsupported media type',
      reason: expect.stringMatching(/not an image/),
    });
    const empty = await post('/api/detect', Buffer.alloc(0));
    expect(empty.status).toBe(400);
    expect(json(empty).error).toBe('bad request');
    expect(json(empty).reason).toMatch(/empty body/);
    const form = await post('/api/detect', Buffer.from('--x--'), {
      'Content-Type': 'multipart/form-data; boundary=x',
    });
    expect(form.status).toBe(415);
    expect(json(form).reason).toMatch(/--data-binary/);
    const unknown = await post('/api/detect?model=nope', Buffer.from('x'));
    expect(unknown.status).toBe(404);
    // Not "unknown model": found on a real agent, ?model=bad named a configured model whose .onnx was corrupt.
    expect(json(unknown).reason).toBe('model "nope" is not loaded (loaded: det, det2)');
    // A truncated JPEG: its header reads, its pixels do not. The client's fault: 415, not a 500 of ours.
    const truncated = await post('/api/detect', pic.subarray(0, 20_000));
    expect(truncated.status).toBe(415);
    expect(json(truncated).reason).toMatch(/^not an image that can be decoded .*premature end/);
    expect(errors).toEqual([]);
    // An SVG decodes (librsvg draws it, at whatever size and cost it names): not a picture, refused.
    const svg = await post(
      '/api/detect',
      Buffer.from(
        '<svg xmlns="http://www.w3.org/2000/svg" width="7000" height="5000"><rect width="7000" height="5000"/></svg>',
      ),
    );
    expect(svg.status).toBe(415);
    expect(json(svg).reason).toBe('svg is not accepted: send a JPEG, PNG, WebP, GIF or TIFF');
    const format = await post('/api/detect?format=png', Buffer.from('x'));
    expect(format.status).toBe(400);
    expect(json(format).reason).toMatch(/json or jpeg/);
  });

  it('refuses oversize uploads, by length, while reading, and by decoded pixels; the slot is freed after', async () => {
    const big = readFileSync(sharedPath('media', 'bus.jpg')); // 476 KiB against a 400 KiB limit
    const declared = await post('/api/detect', big);
    expect(declared.status).toBe(413);
    expect(json(declared)).toMatchObject({
      error: 'payload too large',
      reason: expect.stringMatching(/larger than 400 KiB/),
    });
    // Answered before the body is read: the connection is closed rather than the upload swallowed.
    expect(declared.headers.connection).toBe('close');
    const chunked = await post('/api/detect', [big.subarray(0, 200_000), big.subarray(200_000)], {
      'Transfer-Encoding': 'chunked',
    });
    expect(chunked.status).toBe(413);
    // A small file that decodes to a huge picture: 3000×2000 of one colour is a few KiB of PNG.
    const huge = await sharp({
      create: { width: 3000, height: 2000, channels: 3, background: { r: 9, g: 9, b: 9 } },
    })
      .png()
      .toBuffer();
    expect(huge.length).toBeLessThan(limits.maxBytes);
    const pixels = await post('/api/detect', huge);
    expect(pixels.status).toBe(413);
    expect(json(pixels).reason).toBe('image of 3000×2000 is over 4 megapixels');
    // A header claiming 60000×60000 (beyond sharp's own 268 MP guard, which made this a 415 before):
    // still a 413 that says how big.
    const small = await sharp({
      create: { width: 64, height: 48, channels: 3, background: { r: 9, g: 9, b: 9 } },
    })
      .jpeg()
      .toBuffer();
    const sof = small.indexOf(Buffer.from([0xff, 0xc0]));
    const bomb = Buffer.from(small);
    bomb.writeUInt16BE(60000, sof + 5);
    bomb.writeUInt16BE(60000, sof + 7);
    const lying = await post('/api/detect', bomb);
    expect(lying.status).toBe(413);
    expect(json(lying).reason).toBe('image of 60000×60000 is over 4 megapixels');
    // None of the refusals kept the model's slot.
    expect((await post('/api/detect', pic)).status).toBe(200);
  });

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

  it('a detection that fails answers 500 and is reported through onError', async () => {
    const broken = await loadSharedDetector('broken', model);
    await broken.close(); // its workers are gone: detect() rejects
    const seen: string[] = [];
    const endpoint = new DetectEndpoint(new Map([['broken', broken]]), limits, (m) => seen.push(m));
    const s = await serve(endpoint);
    try {
      const a = await call(s.base, '/api/detect', { method: 'POST', body: pic });
      expect(a.status).toBe(500);
      expect(json(a).reason).toMatch(/^detection failed: /);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatch(/^detect API: /);
    } finally {
      await close(s.server);
    }
    expect(errors).toEqual([]);
  });
});

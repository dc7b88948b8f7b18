import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DetectEndpoint } from '../../../agent/web/detect-endpoint.js';
import { loadSharedDetector } from '../../support/detectors.js';
import { call } from '../../support/http-call.js';
import { hasShared, sharedPath } from '../../support/shared.js';
import {
  close,
  errors,
  json,
  limits,
  model,
  pic,
  post,
  serve,
  useDetectEndpoint,
  type DetectAnswer,
} from './detect-endpoint-fixture.js';

// How many uploads are taken at once (per model, and being received) is in detect-endpoint-concurrency.test.ts.

describe.skipIf(!hasShared)('DetectEndpoint: POST /api/detect on a real model', () => {
  useDetectEndpoint();

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

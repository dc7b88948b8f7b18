import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it, vi } from 'vitest';
import { StatusPayload } from '../../../agent/web/status-schema.js';
import { call } from '../../support/http-call.js';
import { parsePrometheusText, sampleValue } from '../../support/prometheus-text.js';
import { hasShared, sharedPath } from '../../support/shared.js';
import { agent, auth, base, json, useWebServiceAgent } from './web-service-fixture.js';

// What the API answers; what it refuses and keeps hidden (auth, headers, secrets, paths) is in
// web-service-security.test.ts.

type Metrics = ReturnType<typeof parsePrometheusText>;

describe.skipIf(!hasShared)('status page API in process: a real agent on vtest.avi, auth on', () => {
  useWebServiceAgent();

  it('/api/status matches its zod schema (strict) and the served JSON Schema; sources redacted', async () => {
    const a = await call(base, '/api/status', { headers: auth });
    const status = StatusPayload.parse(json(a));
    const yard = status.cameras.find((c) => c.id === 'yard')!;
    expect(yard.state.state).toBe('streaming');
    expect(yard.frames.processed).toBeGreaterThan(0);
    expect(yard.snapshot?.url).toMatch(/^\/api\/cameras\/yard\/snapshot\.jpg/);
    expect(status.cameras.find((c) => c.id === 'gate')!.source).toBe('rtsp://***@127.0.0.1:9/stream');
    expect(status.mqtt.url).toBe('mqtt://127.0.0.1:9');
    const dock = status.cameras.find((c) => c.id === 'dock')!;
    expect(dock.state.state).toBe('failed');
    expect(status.errors).toContainEqual(
      expect.objectContaining({ source: 'camera', camera: 'dock', at: dock.state.since }),
    );
    expect(status.errors.find((e) => e.camera === 'dock')!.message).toMatch(/source file not found/);
    const schema = json(await call(base, '/api/status/schema.json'));
    expect(schema).toMatchObject({ type: 'object', additionalProperties: false });
    expect(Object.keys(schema.properties as object).sort()).toEqual(Object.keys(StatusPayload.shape).sort());
  });

  it('/metrics parses as Prometheus text and its counters move while the agent runs', async () => {
    const scrape = async () =>
      parsePrometheusText((await call(base, '/metrics', { headers: auth })).body.toString());
    const processed = (f: Metrics) =>
      sampleValue(f, 'vigil_camera_processed_frames_total', { camera: 'yard' })!;
    const count = (f: Metrics) =>
      sampleValue(f, 'vigil_inference_seconds_count', { camera: 'yard', model: 'det' })!;
    const a = await scrape();
    const b = await vi.waitFor(
      async () => {
        const later = await scrape(); // as many scrapes as a slow machine needs for both to move
        expect(processed(later)).toBeGreaterThan(processed(a));
        expect(count(later)).toBeGreaterThan(count(a));
        return later;
      },
      { timeout: 30_000, interval: 200 },
    );
    for (const name of [
      'vigil_camera_frames_total',
      'vigil_camera_processed_frames_total',
      'vigil_inference_seconds',
      'vigil_outbox_rows',
      'vigil_mqtt_connected',
      'vigil_model_info',
      'vigil_http_requests_total',
      'vigil_mqtt_publish_latency_seconds',
    ])
      expect(b.has(name), name).toBe(true);
    expect(sampleValue(b, 'vigil_camera_state', { camera: 'yard', state: 'streaming' })).toBe(1);
    expect(sampleValue(b, 'vigil_model_info', { model: 'det', family: 'yolov8', provider: 'cpu' })).toBe(1);
    expect(b.get('vigil_inference_seconds')!.type).toBe('histogram');
  });

  it('/api/cameras/:id/snapshot.jpg is a JPEG of the latest frame; unknown cameras 404', async () => {
    const a = await call(base, '/api/cameras/yard/snapshot.jpg', { headers: auth });
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe('image/jpeg');
    const meta = await sharp(a.body).metadata();
    expect(meta.format).toBe('jpeg');
    // The pixels the model saw: vtest.avi (768×576) letterboxed into 320×320 is 320×240.
    expect([meta.width, meta.height]).toEqual([320, 240]);
    expect(Number(a.headers['x-frame-no'])).toBeGreaterThan(0);
    expect((await call(base, '/api/cameras/nope/snapshot.jpg', { headers: auth })).status).toBe(404);
  });

  it('/healthz is alive; /readyz says which camera keeps it from ready', async () => {
    expect(json(await call(base, '/healthz'))).toMatchObject({ status: 'ok' });
    const r = await call(base, '/readyz');
    expect(r.status).toBe(503);
    expect(json(r)).toMatchObject({ ready: false, models: ['det'], cameras: { yard: 'streaming' } });
  });

  it('POST /api/detect: a picture → detections, or the annotated JPEG; refusals say why', async () => {
    const pic = readFileSync(sharedPath('media', 'zidane.jpg'));
    const a = await call(base, '/api/detect', { method: 'POST', headers: auth, body: pic });
    expect(a.status).toBe(200);
    const r = json(a) as { detections: { label: string; score: number }[]; image: unknown; model: string };
    expect(r.model).toBe('det');
    expect(r.image).toEqual({ width: 1280, height: 720 });
    expect(r.detections.filter((d) => d.label === 'person').length).toBeGreaterThanOrEqual(2);

    const j = await call(base, '/api/detect?format=jpeg', { method: 'POST', headers: auth, body: pic });
    expect(j.headers['content-type']).toBe('image/jpeg');
    expect((await sharp(j.body).metadata()).width).toBe(1280);

    const text = await call(base, '/api/detect', {
      method: 'POST',
      headers: auth,
      body: Buffer.from('hello'),
    });
    expect(text.status).toBe(415);
    expect(json(text).reason).toMatch(/not an image/);

    const empty = await call(base, '/api/detect', { method: 'POST', headers: auth, body: Buffer.alloc(0) });
    expect(empty.status).toBe(400);

    // 487 KiB against a 256 KiB limit: refused from Content-Length, before the body is read.
    const big = readFileSync(sharedPath('media', 'bus.jpg'));
    const over = await call(base, '/api/detect', { method: 'POST', headers: auth, body: big });
    expect(over.status).toBe(413);
    expect(json(over).reason).toMatch(/larger than 256 KiB/);
    // The same without a length (chunked): counted while reading.
    const chunked = await call(base, '/api/detect', {
      method: 'POST',
      headers: { ...auth, 'Transfer-Encoding': 'chunked' },
      body: [big.subarray(0, 200_000), big.subarray(200_000)],
    });
    expect(chunked.status).toBe(413);

    const form = await call(base, '/api/detect', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'multipart/form-data; boundary=x' },
      body: Buffer.from('--x--'),
    });
    expect(form.status).toBe(415);
    expect(
      (await call(base, '/api/detect?model=nope', { method: 'POST', headers: auth, body: pic })).status,
    ).toBe(404);
    expect(
      (await call(base, '/api/detect?format=png', { method: 'POST', headers: auth, body: pic })).status,
    ).toBe(400);
  });

  it('POST /api/detect takes one upload per model at a time (the rest 429), and the camera keeps going', async () => {
    const img = readFileSync(sharedPath('media', 'zidane.jpg'));
    const processed = () => agent.cameras.get('yard')!.stats.snapshot().processed;
    const before = processed();
    const answers = await Promise.all(
      Array.from({ length: 4 }, () =>
        call(base, '/api/detect', { method: 'POST', headers: auth, body: img }),
      ),
    );
    const codes = answers.map((a) => a.status).sort();
    expect(codes.filter((c) => c === 200).length).toBeGreaterThanOrEqual(1);
    expect(codes.every((c) => c === 200 || c === 429)).toBe(true);
    expect(codes).toContain(429);
    await vi.waitFor(() => expect(processed()).toBeGreaterThan(before), 30_000);
  });
});

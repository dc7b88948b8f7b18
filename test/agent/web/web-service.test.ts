import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../config/logger.js';
import { VigilConfig } from '../../../config/schema.js';
import { Agent } from '../../../agent/runtime/agent.js';
import { StatusPayload } from '../../../agent/web/status-schema.js';
import { WebService } from '../../../agent/web/web-service.js';
import { call, type Answer } from '../../support/http-call.js';
import { parsePrometheusText, sampleValue } from '../../support/prometheus-text.js';
import { hasShared, sharedPath } from '../../support/shared.js';

// Secrets placed in the config: none may ever appear in a page, an asset or an API answer.
const token = 'tok-5ecret-0123456789abcdef';
const camPassword = 'camPa55word-zz';
const mqttPassword = 'mqttPa55word-yy';
const secrets = [token, camPassword, mqttPassword];

const auth = { Authorization: `Bearer ${token}` };
type Metrics = ReturnType<typeof parsePrometheusText>;
const json = (a: Answer) => JSON.parse(a.body.toString('utf8')) as Record<string, unknown>;

describe.skipIf(!hasShared)('status page API in process: a real agent on vtest.avi, auth on', () => {
  let agent: Agent;
  let web: WebService;
  let base: URL;

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-web-'));
    const config = VigilConfig.parse({
      site: 'yard',
      device: 'web-test',
      dataDir: path.join(dir, 'data'),
      // Nothing listens on port 9: the link keeps retrying, which is fine here.
      mqtt: { url: 'mqtt://127.0.0.1:9', username: 'vigil', password: mqttPassword },
      http: { host: '127.0.0.1', port: 0, auth: { token } },
      models: { det: { path: sharedPath('models', 'yolo11n-coco-int8-320.onnx'), workers: 1 } },
      cameras: [
        { id: 'yard', source: sharedPath('media', 'vtest.avi'), model: 'det', fps: 5, loop: true },
        { id: 'gate', source: `rtsp://admin:${camPassword}@127.0.0.1:9/stream`, model: 'det' },
        // Fails at once, before the web service starts: its error must still be listed.
        { id: 'dock', source: path.join(dir, 'no-such-clip.mp4'), model: 'det' },
      ],
    });
    web = new WebService(config.http, {
      log: createLogger({ level: 'error' }),
      detectLimits: { maxBytes: 256 * 1024, maxPixels: 4_000_000 },
    });
    agent = new Agent(config, { log: createLogger({ level: 'error' }), version: 'test', services: [web] });
    await agent.start();
    base = new URL(`http://127.0.0.1:${web.address!.port}`);
    // Wait for processed frames so snapshots and counters exist.
    await vi.waitFor(() => expect(agent.cameras.get('yard')?.last).toBeDefined(), 50_000);
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
  });

  it('every answer carries the CSP and security headers, errors and refusals too', async () => {
    for (const [p, code] of [
      ['/', 200],
      ['/assets/app.js', 200],
      ['/api/status', 401],
      ['/nothing', 404],
      ['/healthz', 200],
    ] as const) {
      const a = await call(base, p);
      expect(a.status, p).toBe(code);
      const csp = String(a.headers['content-security-policy']);
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(a.headers['x-content-type-options']).toBe('nosniff');
      expect(a.headers['x-frame-options']).toBe('DENY');
      expect(a.headers['referrer-policy']).toBe('no-referrer');
    }
  });

  it('auth on: data routes answer 401 with a reason; probes, the shell and the login check stay open', async () => {
    for (const p of ['/api/status', '/metrics', '/api/events', '/api/cameras/yard/snapshot.jpg']) {
      const a = await call(base, p);
      expect(a.status, p).toBe(401);
      expect(a.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(json(a).reason).toMatch(/log in/);
    }
    expect((await call(base, '/api/detect', { method: 'POST', body: Buffer.from('x') })).status).toBe(401);
    expect(
      (await call(base, '/api/status', { headers: { Authorization: 'Bearer wrong-token-123456' } })).status,
    ).toBe(401);
    for (const p of ['/healthz', '/readyz', '/', '/api/auth'])
      expect((await call(base, p)).status, p).not.toBe(401);
    expect(json(await call(base, '/api/auth'))).toEqual({
      required: true,
      methods: ['token'],
      authenticated: false,
    });
    // The page's own login: a session cookie that then opens the API.
    const login = await call(base, '/api/login', {
      method: 'POST',
      body: Buffer.from(JSON.stringify({ token })),
    });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    expect(String(login.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    expect((await call(base, '/api/status', { headers: { Cookie: cookie } })).status).toBe(200);
    const wrong = await call(base, '/api/login', { method: 'POST', body: Buffer.from('{"token":"nope"}') });
    expect(wrong.status).toBe(401);
  });

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

  it('no credential appears in any page, asset or API answer', async () => {
    const paths = [
      '/',
      ...[
        'app.js',
        'dom.js',
        'tiles.js',
        'panels.js',
        'pm25-chart.js',
        'login.js',
        'try-image.js',
        'style.css',
      ].map((n) => `/assets/${n}`),
      '/api/status',
      '/api/status/schema.json',
      '/metrics',
      '/readyz',
      '/healthz',
      '/api/auth',
    ];
    for (const p of paths) {
      const text = (await call(base, p, { headers: auth })).body.toString('utf8');
      for (const s of secrets) expect(text.includes(s), `${s} in ${p}`).toBe(false);
    }
  });

  it('no path traversal: encoded, doubled and absolute tricks all answer 404 with no file content', async () => {
    const tries = [
      '/assets/../web-service.ts',
      '/assets/..%2fweb-service.ts',
      '/assets/%2e%2e%2f%2e%2e%2fpackage.json',
      '/assets/..%5c..%5cpackage.json',
      '/assets/%252e%252e%252fpackage.json',
      '/assets/app.js%00.ts',
      '/assets//etc/passwd',
      '/../../package.json',
      '/assets/....//....//package.json',
      '/api/cameras/..%2f..%2fpackage.json/snapshot.jpg',
      '/assets/%2fetc%2fpasswd',
      '/assets/index.html/../../web-service.ts',
    ];
    for (const p of tries) {
      const a = await call(base, p, { headers: auth });
      expect([400, 404], p).toContain(a.status);
      const text = a.body.toString('utf8');
      expect(text, p).not.toMatch(/"name": "vigil"|root:x:0|import \{|WebService/);
    }
  });

  it('nothing changes config: writes on the API are refused', async () => {
    for (const [method, p] of [
      ['POST', '/api/status'],
      ['PUT', '/api/status'],
      ['DELETE', '/api/cameras/yard/snapshot.jpg'],
      ['POST', '/api/config'],
      ['PUT', '/api/config'],
    ] as const) {
      const a = await call(base, p, { method, headers: auth, body: Buffer.from('{}') });
      expect([404, 405], `${method} ${p}`).toContain(a.status);
    }
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

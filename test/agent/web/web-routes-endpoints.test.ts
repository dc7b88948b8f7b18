import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfig } from '../../../config/schema.js';
import type { Agent } from '../../../agent/runtime/agent.js';
import { StatusPayload, statusJsonSchema } from '../../../agent/web/status-schema.js';
import type { WebService } from '../../../agent/web/web-service.js';
import { readiness } from '../../../agent/web/web-routes.js';
import { Detector } from '../../../models/detect/detector.js';
import { CameraStats } from '../../../pipeline/camera/camera-stats.js';
import { call, type Answer } from '../../support/http-call.js';
import { repoRoot } from '../../support/shared.js';
import { bearer, json, startRoutes } from './web-routes-fixture.js';

// What each endpoint of docs/http.md answers, on the real route table of web-routes-fixture.ts: probes,
// metrics, status and its schema, the event stream, snapshots, detect and the page shell. Who may call
// them, sessions and unknown routes: web-routes-access.test.ts.

/** A text/event-stream answer up to its first `status` event, then the connection is dropped. */
function firstEvent(base: URL, p: string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: Answer['headers']; text: string }>((resolve, reject) => {
    const req = request({ host: base.hostname, port: base.port, path: p, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
        if (/event: status\ndata: .*\n\n/.test(text)) {
          resolve({ status: res.statusCode!, headers: res.headers, text });
          req.destroy();
        }
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end();
  });
}
describe('web routes on a real server: every endpoint of docs/http.md', () => {
  let agent: Agent;
  let web: WebService;
  let base: URL;
  let detector: Detector | undefined;

  beforeAll(async () => {
    ({ agent, web, base } = await startRoutes());
  }, 30_000);

  afterAll(async () => {
    await web?.stop();
    await detector?.close();
  });

  it('/readyz: 503 with the cameras and models until every enabled camera streams on a loaded model', async () => {
    let a = await call(base, '/readyz');
    expect(a.status).toBe(503);
    expect(a.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(a.headers['cache-control']).toBe('no-store');
    expect(json(a)).toEqual({ ready: false, cameras: { gate: 'not started' }, models: [] });

    const cfg = agent.config.cameras[0]!;
    const streaming = () =>
      agent.cameras.set('gate', {
        config: cfg,
        stats: new CameraStats(),
        state: { camera: 'gate', state: 'streaming', since: Date.now() },
      });
    streaming();
    // Streaming, but its model is not loaded: not ready.
    a = await call(base, '/readyz');
    expect(a.status).toBe(503);
    expect(json(a)).toEqual({ ready: false, cameras: { gate: 'streaming' }, models: [] });

    detector = await Detector.load('det', ModelConfig.parse(agent.config.models.det));
    agent.detectors.set('det', detector);
    a = await call(base, '/readyz');
    expect(a.status).toBe(200);
    expect(json(a)).toEqual({ ready: true, cameras: { gate: 'streaming' }, models: ['det'] });

    // A stall makes it unready again; the disabled camera never counts.
    agent.cameras.set('gate', {
      ...agent.cameras.get('gate')!,
      state: { camera: 'gate', state: 'stalled', reason: 'no frame for 10 s', since: Date.now() },
    });
    a = await call(base, '/readyz');
    expect(a.status).toBe(503);
    expect(json(a)).toMatchObject({ ready: false, cameras: { gate: 'stalled' } });
    streaming();
    expect(readiness(agent).ready).toBe(true);
  }, 30_000);

  it('/healthz: 200 {"status":"ok","uptimeS"} with no credentials, and HEAD answers the headers alone', async () => {
    const a = await call(base, '/healthz');
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(a.headers['cache-control']).toBe('no-store');
    const body = json(a);
    expect(Object.keys(body).sort()).toEqual(['status', 'uptimeS']);
    expect(body.status).toBe('ok');
    expect(body.uptimeS).toBe(Math.round((Date.now() - agent.startedAt) / 1000));

    const head = await call(base, '/healthz', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(head.headers['content-length']).toBe(a.headers['content-length']);
  });

  it('the page shell and its assets: HTML, versioned URLs cached for a year, the shell revalidated', async () => {
    const shell = await call(base, '/');
    expect(shell.headers['content-type']).toMatch(/^text\/html/);
    expect(shell.headers['cache-control']).toBe('no-cache');
    const url = /\/assets\/app\.js\?v=[0-9a-f]+/.exec(shell.body.toString('utf8'))?.[0];
    expect(url).toBeDefined();
    const js = await call(base, url!);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const nope = await call(base, '/assets/nope.js');
    expect(nope.status).toBe(404);
    expect(json(nope)).toEqual({ error: 'not found', reason: 'no asset nope.js' });
  });

  it('/metrics: Prometheus text 0.0.4, never cached', async () => {
    const a = await call(base, '/metrics', { headers: bearer });
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(a.headers['cache-control']).toBe('no-store');
    expect(a.body.toString('utf8')).toContain('vigil_build_info{');
    const head = await call(base, '/metrics', { method: 'HEAD', headers: bearer });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
  });

  it('/api/status: the status document, valid against the zod schema, JSON, never cached', async () => {
    const a = await call(base, '/api/status', { headers: bearer });
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(a.headers['cache-control']).toBe('no-store');
    const doc = StatusPayload.parse(json(a));
    expect(doc).toMatchObject({ schema: 1, site: 'yard', device: 'routes-test', version: 'test' });
    expect(doc.cameras.map((c) => c.id)).toEqual(['gate', 'off']);
    // Every field it sends is one the documented example shows (docs/http.md).
    const md = readFileSync(path.join(repoRoot, 'docs', 'http.md'), 'utf8');
    const example = JSON.parse(
      /```json\n([\s\S]*?)\n```/.exec(md.slice(md.indexOf('## `/api/status`')))![1]!,
    ) as StatusPayload;
    for (const k of Object.keys(doc)) expect(example, k).toHaveProperty(k);
    for (const k of Object.keys(doc.cameras[0]!)) expect(example.cameras[0], k).toHaveProperty(k);
    for (const k of Object.keys(doc.health)) expect(example.health, k).toHaveProperty(k);
  });

  it('/api/status/schema.json: the JSON Schema generated from the zod schema, open, revalidated', async () => {
    const a = await call(base, '/api/status/schema.json');
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(a.headers['cache-control']).toBe('no-cache');
    const schema = json(a);
    expect(schema).toEqual(JSON.parse(JSON.stringify(statusJsonSchema())));
    // Strict like the zod object: every field of StatusPayload, the optional ones not required.
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties as object).sort()).toEqual(Object.keys(StatusPayload.shape).sort());
    const optional = Object.entries(StatusPayload.shape)
      .filter(([, s]) => s.safeParse(undefined).success)
      .map(([k]) => k);
    expect(optional).toEqual(['fleet']);
    expect([...(schema.required as string[])].sort()).toEqual(
      Object.keys(StatusPayload.shape)
        .filter((k) => !optional.includes(k))
        .sort(),
    );
  });

  it('/api/events: text/event-stream, the status document first', async () => {
    const e = await firstEvent(base, '/api/events', bearer);
    expect(e.status).toBe(200);
    expect(e.headers['content-type']).toMatch(/^text\/event-stream/);
    const m = /^event: status\ndata: (.*)\n\n/m.exec(e.text);
    expect(m, e.text.slice(0, 200)).not.toBeNull();
    expect(StatusPayload.parse(JSON.parse(m![1]!)).site).toBe('yard');
  });

  it('/api/cameras/<id>/snapshot.jpg: 404 for an unknown camera, 503 with Retry-After before a frame', async () => {
    const unknown = await call(base, '/api/cameras/nope/snapshot.jpg', { headers: bearer });
    expect(unknown.status).toBe(404);
    expect(json(unknown)).toEqual({ error: 'not found', reason: 'no camera "nope"' });
    const none = await call(base, '/api/cameras/gate/snapshot.jpg', { headers: bearer });
    expect(none.status).toBe(503);
    expect(none.headers['retry-after']).toBe('1');
    expect(json(none)).toEqual({ error: 'service unavailable', reason: 'no processed frame yet' });
    // Found on a real agent: a camera whose source file was missing answered "no processed frame yet"
    // with Retry-After: 1, and a disabled one "no camera": neither says what is wrong.
    const gate = agent.cameras.get('gate')!;
    agent.cameras.set('gate', {
      ...gate,
      state: { camera: 'gate', state: 'failed', reason: 'source file not found', since: Date.now() },
    });
    const failed = await call(base, '/api/cameras/gate/snapshot.jpg', { headers: bearer });
    agent.cameras.set('gate', gate);
    expect(failed.status).toBe(503);
    expect(failed.headers['retry-after']).toBeUndefined();
    expect(json(failed).reason).toBe('camera "gate" is failed, no frame to show (why: /api/status)');
    const off = await call(base, '/api/cameras/off/snapshot.jpg', { headers: bearer });
    expect(off.status).toBe(404);
    expect(json(off).reason).toBe('camera "off" is disabled');
    const event = await call(base, '/api/events/abc/snapshot.jpg', { headers: bearer });
    expect(event.status).toBe(404);
  });

  it('POST /api/detect: an empty body is 400; an unknown format is 400', async () => {
    const empty = await call(base, '/api/detect', { method: 'POST', headers: bearer, body: Buffer.alloc(0) });
    expect(empty.status).toBe(400);
    expect(json(empty).error).toBe('bad request');
    const fmt = await call(base, '/api/detect?format=xml', {
      method: 'POST',
      headers: bearer,
      body: Buffer.from([1, 2, 3]),
    });
    expect(fmt.status).toBe(400);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebService } from '../../../agent/web/web-service.js';
import { call } from '../../support/http-call.js';
import { bearer, json, startRoutes, token } from './web-routes-fixture.js';

// Who may call what on the real route table of web-routes-fixture.ts: open and gated routes, the session
// cookie flow, unknown paths and methods. What each endpoint answers: web-routes-endpoints.test.ts.

describe('web routes on a real server: every endpoint of docs/http.md', () => {
  let web: WebService;
  let base: URL;

  beforeAll(async () => {
    ({ web, base } = await startRoutes());
  }, 30_000);

  afterAll(async () => {
    await web?.stop();
  });

  it('open routes answer without credentials; every other route is 401 with WWW-Authenticate: Bearer', async () => {
    const open: [string, string, number][] = [
      ['GET', '/', 200],
      ['GET', '/assets/app.js', 200],
      ['GET', '/healthz', 200],
      ['GET', '/api/status/schema.json', 200],
      ['GET', '/api/auth', 200],
      ['POST', '/api/logout', 200],
    ];
    for (const [method, p, code] of open) {
      const a = await call(base, p, { method });
      expect(a.status, `${method} ${p}`).toBe(code);
      expect(a.headers['www-authenticate'], p).toBeUndefined();
    }
    expect((await call(base, '/readyz')).status).not.toBe(401);
    // POST /api/login is open: a wrong token is refused as a login (401 without a Bearer challenge).
    const login = await call(base, '/api/login', { method: 'POST', body: Buffer.from('{"token":"nope"}') });
    expect(login.status).toBe(401);
    expect(login.headers['www-authenticate']).toBeUndefined();

    const gated: [string, string][] = [
      ['GET', '/metrics'],
      ['GET', '/api/status'],
      ['GET', '/api/events'],
      ['GET', '/api/cameras/gate/snapshot.jpg'],
      ['GET', '/api/events/abc/snapshot.jpg'],
      ['POST', '/api/detect'],
    ];
    for (const [method, p] of gated) {
      const a = await call(base, p, { method, ...(method === 'POST' ? { body: Buffer.alloc(0) } : {}) });
      expect(a.status, `${method} ${p}`).toBe(401);
      expect(a.headers['www-authenticate'], p).toBe('Bearer realm="vigil"');
      expect(json(a)).toMatchObject({ error: 'unauthorized' });
      const wrong = await call(base, p, {
        method,
        headers: { Authorization: 'Bearer not-the-token-at-all' },
      });
      expect(wrong.status, `${method} ${p} wrong token`).toBe(401);
    }
  });

  it('/api/auth, /api/login and /api/logout: the session cookie flow', async () => {
    const before = json(await call(base, '/api/auth'));
    expect(before).toEqual({ required: true, methods: ['token'], authenticated: false });
    expect(json(await call(base, '/api/auth', { headers: bearer })).authenticated).toBe(true);

    const bad = await call(base, '/api/login', { method: 'POST', body: Buffer.from('not json') });
    expect(bad.status).toBe(400);
    const big = await call(base, '/api/login', {
      method: 'POST',
      body: Buffer.from(JSON.stringify({ token: 'x'.repeat(5000) })),
    });
    expect(big.status).toBe(413);

    const login = await call(base, '/api/login', {
      method: 'POST',
      body: Buffer.from(JSON.stringify({ token })),
    });
    expect(login.status).toBe(200);
    expect(json(login)).toEqual({ ok: true });
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const pair = cookie.split(';')[0]!;
    expect((await call(base, '/api/status', { headers: { Cookie: pair } })).status).toBe(200);
    expect(json(await call(base, '/api/auth', { headers: { Cookie: pair } })).authenticated).toBe(true);

    const out = await call(base, '/api/logout', { method: 'POST', headers: { Cookie: pair } });
    expect(out.status).toBe(200);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    expect((await call(base, '/api/status', { headers: { Cookie: pair } })).status).toBe(401);
  });

  it('anything else is 404; a known path with another method is 405 with Allow', async () => {
    const none = await call(base, '/api/nothing', { headers: bearer });
    expect(none.status).toBe(404);
    expect(json(none).error).toBe('not found');
    for (const [method, p, allow] of [
      ['POST', '/api/status', 'GET, HEAD'],
      ['POST', '/healthz', 'GET, HEAD'],
      ['DELETE', '/metrics', 'GET, HEAD'],
      ['GET', '/api/detect', 'POST'],
      ['GET', '/api/login', 'POST'],
      ['PUT', '/api/logout', 'POST'],
    ] as const) {
      const a = await call(base, p, { method, headers: bearer });
      expect(a.status, `${method} ${p}`).toBe(405);
      expect(a.headers.allow, `${method} ${p}`).toBe(allow);
    }
  });
});

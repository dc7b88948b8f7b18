import { describe, expect, it } from 'vitest';
import { assetNames } from '../../../agent/web/static-assets.js';
import { call } from '../../support/http-call.js';
import { hasShared } from '../../support/shared.js';
import { auth, base, json, secrets, token, useWebServiceAgent } from './web-service-fixture.js';

// What the web service refuses and keeps hidden: headers, auth, secrets, paths, writes.

describe.skipIf(!hasShared)('status page API in process: a real agent on vtest.avi, auth on', () => {
  useWebServiceAgent();

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

  it('no credential appears in any page, asset or API answer', async () => {
    const paths = [
      '/',
      ...assetNames.map((n) => `/assets/${n}`),
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
});

import { afterEach, describe, expect, it } from 'vitest';
import { HttpAuth, sessionCookie } from '../../../agent/web/auth.js';
import { hashPassword } from '../../../agent/web/password-hash.js';
import { bearer, closeServer, expectSecurityHeaders, json, start, token } from './web-server-fixture.js';

// Routing and the auth gate. What the HTTP parser refuses: http-server-parser.test.ts; handler and server
// errors, request reports, listen and close: http-server-errors.test.ts.
afterEach(closeServer);

describe('WebServer: routes, errors and the auth gate', () => {
  it('serves a matching route with its decoded parameters and query', async () => {
    const { get } = await start(new HttpAuth({ token }));
    const a = await get('/things/a%20b%2Fc%C2%B5?q=1', { headers: bearer });
    expect(a.status).toBe(200);
    expect(json(a)).toEqual({ params: ['a b/cµ'], q: '1' });
    expectSecurityHeaders(a);
    const made = await get('/things/x', { method: 'POST', headers: bearer });
    expect(made.status).toBe(201);
  });

  it('answers 404 with the path as reason, and security headers', async () => {
    const { get } = await start(new HttpAuth({ token }));
    const a = await get('/nope');
    expect(a.status).toBe(404);
    expect(json(a)).toEqual({ error: 'not found', reason: 'nothing at /nope' });
    expectSecurityHeaders(a);
    // A long path is cut in the reason.
    const long = await get(`/${'x'.repeat(500)}`);
    expect(json(long).reason).toBe(`nothing at /${'x'.repeat(199)}`);
    // A path that only starts like a route is not that route.
    expect((await get('/healthz/more')).status).toBe(404);
    expect((await get('/things/a/b', { headers: bearer })).status).toBe(404);
  });

  it('answers 405 with Allow when the path exists for other methods only', async () => {
    const { get } = await start(new HttpAuth({ token }));
    const a = await get('/login');
    expect(a.status).toBe(405);
    expect(a.headers.allow).toBe('POST');
    expect(json(a)).toEqual({ error: 'method not allowed', reason: 'use POST' });
    expectSecurityHeaders(a);
    const b = await get('/things/1', { method: 'DELETE', headers: bearer });
    expect(b.status).toBe(405);
    expect(b.headers.allow).toBe('GET, HEAD, POST');
    // HEAD is served wherever GET is, so Allow names it (found with curl -X POST /metrics: "Allow: GET").
    const c = await get('/healthz', { method: 'POST' });
    expect(c.status).toBe(405);
    expect(c.headers.allow).toBe('GET, HEAD');
    expect(json(c)).toEqual({ error: 'method not allowed', reason: 'use GET, HEAD' });
    expect((await get('/healthz', { method: 'HEAD' })).status).toBe(200);
  });

  it('answers 400 for a target that is not a path, or malformed percent-encoding in a parameter', async () => {
    const { get } = await start(new HttpAuth({ token }));
    const a = await get('/things/%E0%A4%A', { headers: bearer });
    expect(a.status).toBe(400);
    expect(json(a)).toEqual({ error: 'bad request', reason: 'malformed URL encoding' });
    expectSecurityHeaders(a);
    // Only origin-form targets: an absolute URL (proxy form) is refused.
    const b = await get('http://localhost/healthz');
    expect(b.status).toBe(400);
    expect(json(b)).toEqual({ error: 'bad request', reason: 'malformed URL' });
    expectSecurityHeaders(b);
  });

  it('reads "//host/path" as a path, never as an authority that would route it as /path', async () => {
    const { get } = await start(new HttpAuth({ token }));
    const a = await get('//evil.example/healthz');
    expect(a.status).toBe(404);
    expect(json(a)).toEqual({ error: 'not found', reason: 'nothing at //evil.example/healthz' });
    expect((await get('//')).status).toBe(404);
    expect((await get('/healthz')).status).toBe(200);
  });

  it('routes the path as sent: dot segments, encoded or not, and backslashes never reach another route', async () => {
    // Found against a real agent: "/assets/..\\api\\status" answered the status (the URL parser reads "\\"
    // as "/" and resolves ".."), while a proxy gating /api/ sees a path under /assets/.
    const { get } = await start(new HttpAuth({ token }));
    for (const path of [
      '/healthz/../things/1',
      '/healthz/..\\things\\1',
      '/healthz\\..\\things/1',
      '/healthz/%2e%2e/things/1',
      '/healthz/.%2E/things/1',
      '/x/../things/1',
      '/./things/1',
      '/things/./1',
      '/things/1/.',
    ]) {
      const a = await get(path, { headers: bearer });
      expect(a.status, path).toBe(404);
      expect(json(a), path).toEqual({ error: 'not found', reason: `nothing at ${path}` });
    }
    // The query still reaches the route, and a "?" or "#" ends the path.
    expect(json(await get('/things/1?q=/../x', { headers: bearer }))).toEqual({ params: ['1'], q: '/../x' });
    expect((await get('/healthz?/../things/1')).status).toBe(200);
  });

  it('answers HEAD like GET, without the body', async () => {
    const { get } = await start(new HttpAuth({ token }));
    const a = await get('/healthz', { method: 'HEAD' });
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(a.headers['content-length']).toBe(String('{"status":"ok"}'.length));
    expect(a.body).toHaveLength(0);
    expectSecurityHeaders(a);
    // Protected for HEAD as for GET.
    expect((await get('/things/1', { method: 'HEAD' })).status).toBe(401);
  });

  it('lets open routes through and asks for credentials on the others', async () => {
    const auth = new HttpAuth({ token });
    const { get } = await start(auth);
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/login', { method: 'POST' })).status).toBe(200);
    const refused: Record<string, string>[] = [
      {},
      { Authorization: 'Bearer wrong' },
      { Cookie: `${sessionCookie}=forged` },
    ];
    for (const headers of refused) {
      const a = await get('/things/1', { headers });
      expect(a.status).toBe(401);
      expect(a.headers['www-authenticate']).toBe('Bearer realm="vigil"');
      expect(json(a)).toMatchObject({ error: 'unauthorized', reason: expect.stringContaining('log in') });
      expectSecurityHeaders(a);
    }
    expect((await get('/things/1', { method: 'POST' })).status).toBe(401);
    expect((await get('/things/1', { headers: bearer })).status).toBe(200);
    const login = await auth.login({ token });
    if (!('session' in login)) throw new Error('login refused');
    const cookie = { Cookie: `${sessionCookie}=${login.session}` };
    expect((await get('/things/1', { headers: cookie })).status).toBe(200);
  });

  it('serves every route when no auth is configured', async () => {
    const { get } = await start(new HttpAuth(undefined));
    expect((await get('/things/1')).status).toBe(200);
  });

  it('answers 429 with Retry-After while scrypt verifications are all taken', async () => {
    // Slow enough (tens of ms) that both slots are surely still held when the request arrives.
    const passwordHash = await hashPassword('pw', { N: 2 ** 16, r: 8, p: 1 });
    const auth = new HttpAuth({ user: 'ops', passwordHash });
    const { get } = await start(auth);
    const basic = { Authorization: `Basic ${Buffer.from('ops:pw').toString('base64')}` };
    const held = [auth.login({ user: 'ops', password: 'a' }), auth.login({ user: 'ops', password: 'b' })];
    const a = await get('/things/1', { headers: basic });
    await Promise.all(held);
    expect(a.status).toBe(429);
    expect(a.headers['retry-after']).toBe('1');
    expect(json(a).error).toBe('busy');
    expectSecurityHeaders(a);
    expect((await get('/things/1', { headers: basic })).status).toBe(200);
  });
});

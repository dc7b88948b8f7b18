import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../config/logger.js';
import { HttpAuth } from '../../../agent/web/auth.js';
import { WebServer } from '../../../agent/web/http-server.js';
import {
  bearer,
  closeServer,
  expectSecurityHeaders,
  json,
  routes,
  server,
  start,
  token,
} from './web-server-fixture.js';

afterEach(closeServer);

describe('WebServer: routes, errors and the auth gate', () => {
  it('answers 500 as JSON when a handler throws, logs it, and keeps serving', async () => {
    const { get, logged, requests } = await start(new HttpAuth({ token }));
    const a = await get('/boom', { headers: bearer });
    expect(a.status).toBe(500);
    expect(json(a)).toEqual({ error: 'internal server error', reason: 'kaput' });
    expectSecurityHeaders(a);
    expect(logged.some((l) => l.includes('http request failed') && l.includes('route=/boom'))).toBe(true);

    const b = await get('/boom-async');
    expect(b.status).toBe(500);
    expect(json(b)).toEqual({ error: 'internal server error', reason: 'not an Error' });

    // Headers already out: the connection is cut rather than a second answer appended.
    await expect(get('/half')).rejects.toThrow();
    expect(logged.some((l) => l.includes('route=/half'))).toBe(true);
    expect((await get('/healthz')).status).toBe(200);
    // Every one is counted, the cut-off one too (its answer never finishes). A count lands when the answer
    // is flushed, which can come a moment after the client has read it.
    await vi.waitFor(() => expect(requests.length).toBeGreaterThanOrEqual(4), 20_000);
    expect(requests).toEqual([
      ['/boom', 500],
      ['/boom-async', 500],
      ['/half', 500],
      ['/healthz', 200],
    ]);
  });

  it('reports each request’s route name and status code', async () => {
    const { get, requests } = await start(new HttpAuth({ token }));
    await get('/healthz');
    await get('/things/1');
    await get('/things/1', { headers: bearer });
    await get('/nope');
    await get('/login');
    await vi.waitFor(() => expect(requests.length).toBeGreaterThanOrEqual(5), 20_000);
    expect(requests).toEqual([
      ['/healthz', 200],
      ['/things/:id', 401],
      ['/things/:id', 200],
      ['unknown', 404],
      ['unknown', 405],
    ]);
  });

  it('listens on the port asked for, and stops for good on close', async () => {
    const { base, get } = await start(new HttpAuth(undefined));
    expect(Number(base.port)).toBeGreaterThan(0);
    await server!.close();
    await server!.close();
    await expect(get('/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('an error the server emits after listening (EMFILE on accept) is logged and reported, never thrown', async () => {
    const failures: string[] = [];
    const { get, logged } = await start(new HttpAuth(undefined), { onFailure: (r) => failures.push(r) });
    // How Node reports an accept that failed: an 'error' on the listening server. With no listener left,
    // emit() would throw it (in the agent: an uncaught exception, the end of the process).
    const accept = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' });
    expect(() => server!['server']!.emit('error', accept)).not.toThrow();
    expect(failures).toEqual(['http server: accept EMFILE']);
    expect(logged.map((l) => l.slice(25))).toEqual([
      'ERROR http server failed reason="accept EMFILE" code=EMFILE',
    ]);
    // Reporting is the owner's business (the web service is restarted); the server itself is left as is.
    expect((await get('/healthz')).status).toBe(200);
  });

  it('without onFailure an error after listening is still logged, and never thrown', async () => {
    const { get, logged } = await start(new HttpAuth(undefined));
    expect(() => server!['server']!.emit('error', new Error('boom'))).not.toThrow();
    expect(logged.some((l) => l.includes('http server failed') && l.includes('reason=boom'))).toBe(true);
    expect((await get('/healthz')).status).toBe(200);
  });

  it('a port already taken fails listen() and reports nothing', async () => {
    const first = await start(new HttpAuth(undefined));
    const failures: string[] = [];
    const second = new WebServer({
      host: '127.0.0.1',
      port: Number(first.base.port),
      routes,
      auth: new HttpAuth(undefined),
      log: createLogger({ level: 'error', write: () => {} }),
      onFailure: (r) => failures.push(r),
    });
    await expect(second.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await second.close();
    expect(failures).toEqual([]);
  });
});

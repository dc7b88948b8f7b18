import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BodyTimeout,
  BodyTooLarge,
  formatBytes,
  readBody,
  securityHeaders,
  send,
  sendError,
  sendJson,
} from '../../../agent/web/http-util.js';
import { call } from '../../support/http-call.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

let server: Server | undefined;
afterEach(async () => {
  const s = server;
  server = undefined;
  if (!s) return;
  s.closeAllConnections();
  await new Promise((r) => s.close(r));
});

async function serve(handler: Handler): Promise<URL> {
  server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

/** A server whose handler reads the body with `limit`; what readBody gave (or threw) is resolved. */
async function reader(limit: number, timeoutMs?: number) {
  let settle!: (v: { body?: Buffer; err?: unknown }) => void;
  const outcome = new Promise<{ body?: Buffer; err?: unknown }>((r) => (settle = r));
  const base = await serve(async (req, res) => {
    try {
      const body = await readBody(req, res, limit, timeoutMs);
      settle({ body });
      sendJson(res, 200, { n: body.length });
    } catch (err) {
      settle({ err });
      if (err instanceof BodyTooLarge) sendError(res, 413, err.message, { Connection: 'close' });
    }
  });
  return { base, outcome };
}

describe('readBody', () => {
  it('reads a body in chunks up to the limit exactly', async () => {
    const { base, outcome } = await reader(1024);
    const parts = [Buffer.alloc(500, 1), Buffer.alloc(524, 2)];
    const a = await call(base, '/', {
      method: 'POST',
      body: parts,
      headers: { 'Transfer-Encoding': 'chunked' },
    });
    expect(a.status).toBe(200);
    expect((await outcome).body).toEqual(Buffer.concat(parts));
  });

  it('an empty body is an empty buffer', async () => {
    const { base, outcome } = await reader(1024);
    await call(base, '/', { method: 'POST', body: Buffer.alloc(0) });
    expect((await outcome).body).toEqual(Buffer.alloc(0));
  });

  it('refuses a declared Content-Length over the limit at once, without waiting for the body', async () => {
    const { base, outcome } = await reader(2048);
    // The body is never finished: only the declared length can refuse it.
    const req = request({
      host: base.hostname,
      port: base.port,
      method: 'POST',
      path: '/',
      headers: { 'Content-Length': '2049' },
    });
    req.on('error', () => {});
    const answer = new Promise<number>((r) => req.on('response', (res) => r(res.statusCode!)));
    req.write(Buffer.alloc(10));
    const { err, body } = await outcome;
    expect(body).toBeUndefined();
    expect(err).toBeInstanceOf(BodyTooLarge);
    expect((err as BodyTooLarge).limit).toBe(2048);
    expect((err as Error).message).toBe('the upload is larger than 2 KiB');
    expect(await answer).toBe(413);
    req.destroy();
  });

  it('refuses a streamed body once it passes the limit, without buffering the rest', async () => {
    const { base, outcome } = await reader(1000);
    const parts = [
      Buffer.alloc(600),
      Buffer.alloc(600),
      ...Array.from({ length: 20 }, () => Buffer.alloc(600)),
    ];
    const a = await call(base, '/', {
      method: 'POST',
      headers: { 'Transfer-Encoding': 'chunked' },
      body: parts,
    }).catch((e: unknown) => e);
    const { err, body } = await outcome;
    expect(body).toBeUndefined();
    expect(err).toBeInstanceOf(BodyTooLarge);
    expect((err as Error).message).toBe('the upload is larger than 1 KiB');
    if (!(a instanceof Error)) expect((a as { status: number }).status).toBe(413);
  });

  it('one byte over the limit is refused', async () => {
    const { base, outcome } = await reader(1000);
    await call(base, '/', {
      method: 'POST',
      headers: { 'Transfer-Encoding': 'chunked' },
      body: [Buffer.alloc(1000), Buffer.alloc(1)],
    }).catch(() => undefined);
    expect((await outcome).err).toBeInstanceOf(BodyTooLarge);
  });

  it('rejects when the client goes away mid-body', async () => {
    const { base, outcome } = await reader(1 << 20);
    const req = request({
      host: base.hostname,
      port: base.port,
      method: 'POST',
      path: '/',
      headers: { 'Content-Length': '5000' },
    });
    req.on('error', () => {});
    req.write(Buffer.alloc(100));
    await new Promise((r) => setTimeout(r, 50));
    req.destroy();
    const { err, body } = await outcome;
    expect(body).toBeUndefined();
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(BodyTooLarge);
    expect((err as Error).message).toBe('the client went away');
  });

  it('rejects with BodyTimeout when the body does not arrive whole within the time given', async () => {
    const { base, outcome } = await reader(1 << 20, 300);
    const req = request({
      host: base.hostname,
      port: base.port,
      method: 'POST',
      path: '/',
      headers: { 'Content-Length': '5000' },
    });
    req.on('error', () => {});
    req.write(Buffer.alloc(2500)); // half, then nothing: a stalled client
    const t0 = Date.now();
    const { err, body } = await outcome;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(body).toBeUndefined();
    expect(err).toBeInstanceOf(BodyTimeout);
    expect((err as Error).message).toBe('the upload did not arrive whole within 0.3 s');
    req.destroy();
  });
});

describe('send, sendJson, sendError', () => {
  it('send: the type, the length in bytes, extra headers; HEAD gets the headers alone', async () => {
    const base = await serve((_req, res) =>
      send(res, 201, 'héllo ✓', 'text/plain; charset=utf-8', { 'X-A': '1' }),
    );
    const a = await call(base, '/');
    expect(a.status).toBe(201);
    expect(a.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(a.headers['content-length']).toBe(String(Buffer.byteLength('héllo ✓')));
    expect(a.headers['x-a']).toBe('1');
    expect(a.body.toString('utf8')).toBe('héllo ✓');
    const head = await call(base, '/', { method: 'HEAD' });
    expect(head.status).toBe(201);
    expect(head.headers['content-length']).toBe(a.headers['content-length']);
    expect(head.body.length).toBe(0);
  });

  it('send: a Buffer body goes out as is', async () => {
    const bytes = Buffer.from([0xff, 0xd8, 0x00, 0xff]);
    const base = await serve((_req, res) => send(res, 200, bytes, 'image/jpeg'));
    const a = await call(base, '/');
    expect(a.body).toEqual(bytes);
    expect(a.headers['content-length']).toBe('4');
  });

  it('send after the headers went out only ends the answer', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('partial');
      send(res, 500, 'late', 'text/plain');
    });
    const a = await call(base, '/');
    expect(a.status).toBe(200);
    expect(a.body.toString()).toBe('partial');
  });

  it('sendJson: JSON, never cached unless the caller says otherwise', async () => {
    const base = await serve((req, res) =>
      req.url === '/cached'
        ? sendJson(res, 200, { a: 1 }, { 'Cache-Control': 'no-cache' })
        : sendJson(res, 200, { a: 'é' }),
    );
    const a = await call(base, '/');
    expect(a.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(a.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(a.body.toString('utf8'))).toEqual({ a: 'é' });
    expect((await call(base, '/cached')).headers['cache-control']).toBe('no-cache');
  });

  it('sendError: {error, reason} with the error named by the code, and extra headers', async () => {
    const base = await serve((req, res) =>
      sendError(res, Number(req.url!.slice(1)), `reason ${req.url!}`, { 'Retry-After': '3' }),
    );
    for (const [code, error] of [
      [400, 'bad request'],
      [401, 'unauthorized'],
      [404, 'not found'],
      [405, 'method not allowed'],
      [413, 'payload too large'],
      [415, 'unsupported media type'],
      [429, 'busy'],
      [500, 'internal server error'],
      [503, 'service unavailable'],
      [599, 'error'], // a code without a name
    ] as const) {
      const a = await call(base, `/${code}`);
      expect(a.status).toBe(code);
      expect(a.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(a.headers['cache-control']).toBe('no-store');
      expect(a.headers['retry-after']).toBe('3');
      expect(JSON.parse(a.body.toString('utf8'))).toEqual({ error, reason: `reason /${code}` });
    }
  });
});

describe('securityHeaders and formatBytes', () => {
  it('the CSP holds every directive docs/http.md lists, nothing inline, never framed', () => {
    const csp = securityHeaders['Content-Security-Policy']!;
    for (const d of [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data: blob:",
      "connect-src 'self'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ])
      expect(csp.split('; ')).toContain(d);
    expect(csp).not.toMatch(/unsafe/);
    expect(securityHeaders).toMatchObject({
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
    });
    expect(securityHeaders['Permissions-Policy']).toContain('camera=()');
  });

  it('formatBytes: MiB from 1 MiB up, to a tenth; KiB below', () => {
    expect(formatBytes(8 * 1024 * 1024)).toBe('8 MiB');
    expect(formatBytes(1.25 * 1024 * 1024)).toBe('1.3 MiB');
    expect(formatBytes(1024 * 1024 - 1)).toBe('1024 KiB');
    expect(formatBytes(4096)).toBe('4 KiB');
  });
});

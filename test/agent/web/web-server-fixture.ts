import { expect } from 'vitest';
import { createLogger } from '../../../config/logger.js';
import type { HttpAuth } from '../../../agent/web/auth.js';
import { WebServer, type Route, type WebServerOptions } from '../../../agent/web/http-server.js';
import { securityHeaders, sendJson } from '../../../agent/web/http-util.js';
import { call, type Answer } from '../../support/http-call.js';

// The WebServer the http-server*.test.ts files share: a small route table, one server at a time.

export const token = 'tok-0123456789abcdef-xyz';
export const bearer = { Authorization: `Bearer ${token}` };

export const routes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/healthz$/,
    name: '/healthz',
    open: true,
    handle: ({ res }) => sendJson(res, 200, { status: 'ok' }),
  },
  {
    method: 'GET',
    pattern: /^\/things\/([^/]+)$/,
    name: '/things/:id',
    handle: ({ res, params, url }) => sendJson(res, 200, { params, q: url.searchParams.get('q') }),
  },
  {
    method: 'POST',
    pattern: /^\/things\/([^/]+)$/,
    name: 'POST /things/:id',
    handle: ({ res }) => sendJson(res, 201, { made: true }),
  },
  {
    method: 'POST',
    pattern: /^\/login$/,
    name: '/login',
    open: true,
    handle: ({ res }) => sendJson(res, 200, { ok: true }),
  },
  {
    method: 'GET',
    pattern: /^\/boom$/,
    name: '/boom',
    handle: () => {
      throw new Error('kaput');
    },
  },
  {
    method: 'GET',
    pattern: /^\/boom-async$/,
    name: '/boom-async',
    open: true,
    handle: async () => {
      await new Promise((r) => setTimeout(r, 1));
      throw 'not an Error';
    },
  },
  {
    method: 'GET',
    pattern: /^\/half$/,
    name: '/half',
    open: true,
    handle: ({ res }) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('partial');
      throw new Error('failed mid-answer');
    },
  },
];

/** The server `start` made last (tests reach into it); `closeServer` after each test. */
export let server: WebServer | undefined;
export async function closeServer(): Promise<void> {
  await server?.close();
  server = undefined;
}

export async function start(auth: HttpAuth, extra: Partial<WebServerOptions> = {}) {
  const logged: string[] = [];
  const requests: [string, number][] = [];
  const s = new WebServer({
    host: '127.0.0.1',
    port: 0,
    routes,
    auth,
    log: createLogger({ level: 'error', write: (line) => logged.push(line) }),
    onRequest: (route, code) => requests.push([route, code]),
    ...extra,
  });
  server = s;
  const { port } = await s.listen();
  const base = new URL(`http://127.0.0.1:${port}`);
  const get = (path: string, opts: Parameters<typeof call>[2] = {}) => call(base, path, opts);
  return { base, get, logged, requests };
}

export const json = (a: Answer) => JSON.parse(a.body.toString()) as Record<string, unknown>;

export function expectSecurityHeaders(a: Answer): void {
  for (const [k, v] of Object.entries(securityHeaders)) expect(a.headers[k.toLowerCase()], k).toBe(v);
}

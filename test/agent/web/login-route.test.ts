import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../config/logger.js';
import { HttpAuth } from '../../../agent/web/auth.js';
import { WebServer } from '../../../agent/web/http-server.js';
import { SseHub } from '../../../agent/web/sse-hub.js';
import { webRoutes, type WebRouteDeps } from '../../../agent/web/web-routes.js';
import { call } from '../../support/http-call.js';

const token = 'tok-0123456789abcdef-xyz';

let server: WebServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The agent's own `POST /api/login` route, as web-routes.ts builds it, on a real server. */
async function serveLogin(loginTimeoutMs: number): Promise<URL> {
  const auth = new HttpAuth({ token });
  // The login route reads only `auth`, `events` (a session it pushes out ends its streams) and its
  // timeout; nothing else of the agent is needed.
  const deps = { auth, events: new SseHub(), loginTimeoutMs } as Partial<WebRouteDeps> as WebRouteDeps;
  const routes = webRoutes(deps).filter((r) => r.name === '/api/login');
  server = new WebServer({ host: '127.0.0.1', port: 0, routes, auth, log: silentLogger });
  const { port } = await server.listen();
  return new URL(`http://127.0.0.1:${port}`);
}

/** Sends the bytes, then reads until the server closes. */
function exchange(base: URL, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(base.port), base.hostname, () => socket.write(bytes));
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
  });
}

describe('POST /api/login: an open route that reads a body', () => {
  it('logs in with the token and refuses a wrong one', async () => {
    const base = await serveLogin(10_000);
    const ok = await call(base, '/api/login', {
      method: 'POST',
      body: Buffer.from(JSON.stringify({ token })),
    });
    expect(ok.status).toBe(200);
    expect(String(ok.headers['set-cookie'])).toMatch(/^vigil_session=.+; HttpOnly; SameSite=Strict/);
    const no = await call(base, '/api/login', { method: 'POST', body: Buffer.from('{"token":"nope"}') });
    expect(no.status).toBe(401);
  });

  it('answers 408 and closes when the body does not arrive whole in time', async () => {
    // Found against a real agent: 2000 logins that announced 4000 bytes and sent one a few seconds held
    // their sockets for 60 s (Node's requestTimeout), on a route open to anyone. The answer comes after
    // the 100 ms limit; without one it would take 60 s, past this test's 15 s timeout.
    const base = await serveLogin(100);
    const text = await exchange(
      base,
      'POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{',
    );
    expect(text.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
    expect(text).toMatch(/\r\nConnection: close\r\n/i);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: 'request timeout' });
  }, 15_000);
});

import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpAuth } from '../../../agent/web/auth.js';
import type { Route } from '../../../agent/web/http-server.js';
import { BodyTooLarge, readBody, sendError, sendJson } from '../../../agent/web/http-util.js';
import { bearer, closeServer, routes, start, token } from './web-server-fixture.js';

// `Expect: 100-continue`, which curl sends for an upload over 1 MiB (a phone's photo to /api/detect). Found
// with curl against a real agent: Node answered "100 Continue" before the route or the auth gate had looked
// at the request, so curl sent 1.4–2.7 MB of a 9 MB upload before its 401 or 413 came.
afterEach(closeServer);

/** An open route that reads its body (at most 1 KiB), as /api/detect and /api/login do. */
const upload: Route = {
  method: 'POST',
  pattern: /^\/upload$/,
  name: '/upload',
  open: true,
  handle: async ({ req, res }) => {
    try {
      const body = await readBody(req, res, 1024);
      sendJson(res, 200, { n: body.length });
    } catch (err) {
      if (!(err instanceof BodyTooLarge)) throw err;
      sendError(res, 413, err.message, { Connection: 'close' });
      res.once('finish', () => req.destroy());
    }
  },
};

/**
 * Sends a request's head with `Expect: 100-continue` and waits for the first answer's head; with `body`,
 * sends it after a "100 Continue" and waits for the final answer. Resolves every status line seen, and
 * whether the server closed the connection.
 */
function expectContinue(port: number, head: string, body?: Buffer) {
  return new Promise<{ statuses: string[]; closed: boolean }>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let sent = false;
    const statuses = () => [...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => m[1]!);
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const seen = statuses();
      if (seen[0] === '100' && body && !sent) {
        sent = true;
        socket.write(body);
      }
      const final = seen.find((s) => s !== '100');
      // A final answer is whole once its JSON body is in.
      if (final && /\r\n\r\n\{.*\}$/s.test(text)) setTimeout(() => finish(false), 50);
    });
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ statuses: statuses(), closed });
    };
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', reject);
    socket.write(`${head}Host: x\r\nExpect: 100-continue\r\n\r\n`);
  });
}

describe('WebServer: Expect: 100-continue', () => {
  it('refuses before the body is sent: 413 by Content-Length, 401, 404, 405; the connection closes', async () => {
    const { base } = await start(new HttpAuth({ token }), { routes: [...routes, upload] });
    const port = Number(base.port);
    const cases: [string, string][] = [
      ['POST /upload HTTP/1.1\r\nContent-Length: 9437184\r\n', '413'],
      ['POST /things/1 HTTP/1.1\r\nContent-Length: 3000000\r\n', '401'],
      ['POST /nothing HTTP/1.1\r\nContent-Length: 3000000\r\n', '404'],
      ['PUT /upload HTTP/1.1\r\nContent-Length: 3000000\r\n', '405'],
    ];
    for (const [head, status] of cases) {
      const a = await expectContinue(port, head);
      expect(a.statuses, head).toEqual([status]);
      // The client may still send the body it was not asked for: the connection cannot be reused.
      expect(a.closed, head).toBe(true);
    }
  });

  it('says "100 Continue" once a route reads the body, then answers it', async () => {
    const { base } = await start(new HttpAuth({ token }), { routes: [...routes, upload] });
    const port = Number(base.port);
    const open = await expectContinue(
      port,
      'POST /upload HTTP/1.1\r\nContent-Length: 300\r\n',
      Buffer.alloc(300, 7),
    );
    expect(open.statuses).toEqual(['100', '200']);
    // A route behind the auth gate that never reads its body answers at once, with no 100.
    const protectedRoute = await expectContinue(
      port,
      `POST /things/1 HTTP/1.1\r\nAuthorization: ${bearer.Authorization}\r\nContent-Length: 5\r\n`,
    );
    expect(protectedRoute.statuses).toEqual(['201']);
  });
});

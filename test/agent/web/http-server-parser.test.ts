import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpAuth } from '../../../agent/web/auth.js';
import { securityHeaders } from '../../../agent/web/http-util.js';
import { call } from '../../support/http-call.js';
import { closeServer, start, token } from './web-server-fixture.js';

afterEach(closeServer);

/** Sends raw bytes and reads until the server closes: what Node's parser refuses never reaches a route. */
function rawExchange(base: URL, bytes: string): Promise<{ head: string[]; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(base.port), base.hostname, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      resolve({ head: text.slice(0, end).split('\r\n'), body: text.slice(end + 4) });
    });
  });
}

describe('WebServer: routes, errors and the auth gate', () => {
  it('answers what the HTTP parser refuses as JSON with the security headers, then closes', async () => {
    // Found against a real agent: an oversized cookie or URL got Node's bare "431" with no headers at all.
    const { base } = await start(new HttpAuth({ token }));
    const cases: [string, number, string][] = [
      [
        `GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: ${'a'.repeat(20_000)}\r\n\r\n`,
        431,
        'request header fields too large',
      ],
      [`GET /${'x'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431, 'request header fields too large'],
      ['GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n', 400, 'bad request'],
      ['BREW /healthz HTCPCP/1.0\r\n\r\n', 400, 'bad request'],
    ];
    for (const [bytes, code, error] of cases) {
      const { head, body } = await rawExchange(base, bytes);
      expect(head[0]).toBe(`HTTP/1.1 ${code} ${error.replace(/\b\w/g, (c) => c.toUpperCase())}`);
      const headers = new Map(
        head.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 2)]),
      );
      for (const [k, v] of Object.entries(securityHeaders)) expect(headers.get(k.toLowerCase()), k).toBe(v);
      expect(headers.get('connection')).toBe('close');
      expect(Number(headers.get('content-length'))).toBe(Buffer.byteLength(body));
      expect(JSON.parse(body)).toMatchObject({ error });
    }
    // The server serves on.
    expect((await call(base, '/healthz')).status).toBe(200);
  });

  it('answers 408 and closes when the headers do not arrive within headersTimeout, not 30 s later', async () => {
    // Found against a real agent: a client trickling headers was cut at 39 s against the 10 s limit, since
    // Node checks its timeouts every 30 s unless told otherwise. With a 50 ms limit the answer comes at the
    // next check, about a second on; unchecked it takes 30 s, past this test's 15 s timeout.
    const { base } = await start(new HttpAuth({ token }), { headersTimeoutMs: 50 });
    const { head, body } = await rawExchange(base, 'GET /healthz HTTP/1.1\r\nHost: x\r\n');
    expect(head[0]).toBe('HTTP/1.1 408 Request Timeout');
    expect(JSON.parse(body)).toMatchObject({ error: 'request timeout' });
  }, 15_000);
});

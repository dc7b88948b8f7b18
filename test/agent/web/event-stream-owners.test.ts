import { mkdtempSync, rmSync } from 'node:fs';
import { request, type ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HttpConfig } from '../../../config/schema.js';
import { Agent } from '../../../agent/runtime/agent.js';
import { WebService } from '../../../agent/web/web-service.js';
import { call } from '../../support/http-call.js';
import { idleAgentConfig } from '../../support/idle-agent.js';
import { logLines } from '../../support/log-lines.js';
import { parsePrometheusText, sampleValue } from '../../support/prometheus-text.js';

// /api/events on a real WebService in front of a real idle agent, over real HTTP: who may hold a stream,
// and for how long.

const token = 'tok-streams-0123456789abcdef';
const bearer = { Authorization: `Bearer ${token}` };
const patient = { timeout: 20_000, interval: 20 };

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function startWeb(http: Partial<HttpConfig>) {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-streams-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = idleAgentConfig(dir, { http: { host: '127.0.0.1', port: 0, ...http } });
  const { log, lines } = logLines('debug');
  const web = new WebService(cfg.http, { log, tickMs: 100 });
  const agent = new Agent(cfg, { log, version: '0.0.0', services: [web] });
  await agent.start();
  cleanup.push(() => agent.stop(1000));
  return { base: new URL(`http://127.0.0.1:${web.address!.port}`), lines };
}

interface Stream {
  status: number;
  /** `status` events heard so far. */
  statuses: () => number;
  ended: () => boolean;
  body: () => string;
  req: ClientRequest;
}

/** Opens /api/events and counts what it hears; closed by the test's cleanup. */
function openStream(base: URL, headers: Record<string, string>, localAddress = '127.0.0.1'): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: base.hostname, port: base.port, path: '/api/events', headers, localAddress },
      (res) => {
        let text = '';
        let ended = false;
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => (ended = true));
        resolve({
          status: res.statusCode!,
          statuses: () => text.split('event: status\n').length - 1,
          ended: () => ended,
          body: () => text,
          req,
        });
      },
    );
    req.on('error', reject);
    cleanup.push(() => void req.destroy());
    req.end();
  });
}

async function login(base: URL): Promise<Record<string, string>> {
  const r = await call(base, '/api/login', { method: 'POST', body: Buffer.from(JSON.stringify({ token })) });
  expect(r.status).toBe(200);
  return { Cookie: String(r.headers['set-cookie']).split(';')[0]! };
}

/** Waits until `s` has heard `more` status events beyond what it has now. */
async function hears(s: Stream, more = 2): Promise<void> {
  const from = s.statuses();
  await vi.waitFor(() => expect(s.statuses()).toBeGreaterThanOrEqual(from + more), patient);
}

describe('/api/events with auth on: a stream lasts as long as what let it in', () => {
  it('ends with its session on logout and eviction; a token stream and another session stay', async () => {
    const { base } = await startWeb({ auth: { token } });
    const a = await login(base);
    const b = await login(base);
    const [onA, onB, onToken] = await Promise.all([
      openStream(base, a),
      openStream(base, b),
      openStream(base, bearer),
    ]);
    expect([onA.status, onB.status, onToken.status]).toEqual([200, 200, 200]);
    await hears(onA);

    expect((await call(base, '/api/logout', { method: 'POST', headers: a })).status).toBe(200);
    await vi.waitFor(() => expect(onA.ended()).toBe(true), patient);
    const heardA = onA.statuses();
    await Promise.all([hears(onB), hears(onToken)]);
    expect(onA.statuses()).toBe(heardA);
    // The page's reconnect with the old cookie is refused: it then asks for a login.
    expect((await openStream(base, a)).status).toBe(401);

    // 200 sessions at most: the 200th login after b (b plus 199 fill the table) pushes b out.
    for (let i = 0; i < 199; i++) await login(base);
    expect(onB.ended()).toBe(false);
    await login(base);
    await vi.waitFor(() => expect(onB.ended()).toBe(true), patient);
    await hears(onToken);
    expect(onToken.ended()).toBe(false);
  });

  it('ends with its session when the session expires (12 h on the monotonic clock)', async () => {
    const { base } = await startWeb({ auth: { token } });
    vi.useFakeTimers({ toFake: ['performance'] });
    const c = await login(base);
    const [onC, onToken] = await Promise.all([openStream(base, c), openStream(base, bearer)]);
    await hears(onC);
    vi.advanceTimersByTime(12 * 3600_000 - 1000);
    await hears(onC);
    vi.advanceTimersByTime(1000);
    await vi.waitFor(() => expect(onC.ended()).toBe(true), patient);
    await hears(onToken);
    expect(onToken.ended()).toBe(false);
  });
});

describe('/api/events: one address cannot take every stream', () => {
  it('with auth off, refuses an address its 9th stream (503, as when full) while another gets in', async () => {
    const { base, lines } = await startWeb({});
    const mine = await Promise.all(Array.from({ length: 8 }, () => openStream(base, {})));
    expect(mine.map((s) => s.status)).toEqual(Array(8).fill(200));
    const ninth = await openStream(base, {});
    expect(ninth.status).toBe(503);
    await vi.waitFor(() => expect(ninth.ended()).toBe(true), patient);
    expect(JSON.parse(ninth.body())).toEqual({
      error: 'service unavailable',
      reason: '8 live pages open from this address; close one',
    });
    const other = await openStream(base, {}, '127.0.0.2');
    expect(other.status).toBe(200);
    await hears(other);
    const refused = lines.filter((l) => l.msg === 'event stream refused: address holds its share');
    expect(refused).toEqual([expect.objectContaining({ level: 'debug', address: '127.0.0.1', max: 8 })]);
    const metrics = parsePrometheusText((await call(base, '/metrics')).body.toString());
    expect(sampleValue(metrics, 'vigil_http_requests_total', { route: '/api/events', code: '503' })).toBe(1);
    expect(sampleValue(metrics, 'vigil_http_event_streams')).toBe(9);

    // A page that leaves gives its address its place back.
    mine[0]!.req.destroy();
    await vi.waitFor(async () => expect((await openStream(base, {})).status).toBe(200), patient);
  });

  it('with auth on, counts no address: only credential holders get a stream, and a proxy is one address', async () => {
    const { base } = await startWeb({ auth: { token } });
    const streams = await Promise.all(Array.from({ length: 12 }, () => openStream(base, bearer)));
    expect(streams.map((s) => s.status)).toEqual(Array(12).fill(200));
  });
});

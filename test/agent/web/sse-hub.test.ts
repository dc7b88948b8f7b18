import { ServerResponse, createServer, get, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SseHub, type StreamOwner } from '../../../agent/web/sse-hub.js';

/**
 * A real HTTP server whose every request becomes an event-stream client of `hub` (or a 503 with the
 * refusal as its body), owned as `owner` makes of the request.
 */
async function serve(
  hub: SseHub,
  first: { event: string; data: string }[],
  owner: (req: IncomingMessage) => StreamOwner = () => ({}),
): Promise<Server> {
  const server = createServer((req, res) => {
    const added = hub.add(res, first, owner(req));
    if (added !== 'added') res.writeHead(503).end(added);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return server;
}

/** Opens a stream and collects its events as they arrive. */
async function open(
  server: Server,
  path = '/',
  localAddress = '127.0.0.1',
): Promise<{ res: IncomingMessage; events: { event: string; data: string }[]; body: () => string }> {
  const { port } = server.address() as AddressInfo;
  const res = await new Promise<IncomingMessage>((r) =>
    get({ host: '127.0.0.1', port, path, localAddress }, r),
  );
  const events: { event: string; data: string }[] = [];
  let text = '';
  let buf = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buf += chunk;
    text += chunk;
    let end: number;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data !== undefined) events.push({ event, data });
    }
  });
  return { res, events, body: () => text };
}

const until = (ok: () => boolean) =>
  vi.waitFor(() => expect(ok()).toBe(true), { timeout: 20_000, interval: 10 });

describe('SseHub: the pages’ live event stream', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
  });

  it('sends a new client its first events at once, then every broadcast, to every client', async () => {
    const hub = new SseHub(2);
    server = await serve(hub, [
      { event: 'status', data: '{"n":1}' },
      { event: 'snapshot', data: '{"camera":"yard"}' },
    ]);
    const a = await open(server);
    const b = await open(server);
    expect(a.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    await until(() => hub.size === 2 && b.events.length === 2);
    hub.broadcast('status', '{"n":2,"text":"µg/m³"}');
    await until(() => a.events.length === 3 && b.events.length === 3);
    for (const c of [a, b])
      expect(c.events).toEqual([
        { event: 'status', data: '{"n":1}' },
        { event: 'snapshot', data: '{"camera":"yard"}' },
        { event: 'status', data: '{"n":2,"text":"µg/m³"}' },
      ]);

    // Full: the third page is refused (the route answers 503), and a page that leaves frees its place.
    const c = await open(server);
    expect(c.res.statusCode).toBe(503);
    a.res.destroy();
    await until(() => hub.size === 1);
    expect(hub.size).toBe(1);
  });

  it('batch: what a tick broadcasts reaches each client in one write, and is never held past its limit', async () => {
    const hub = new SseHub();
    server = await serve(hub, []);
    const a = await open(server);
    await until(() => hub.size === 1);
    // Every write to a response from here on is the hub's (the stream's headers are out).
    const write = vi.spyOn(ServerResponse.prototype, 'write');
    const writes = () => write.mock.calls.length;
    await hub.batch(async () => {
      hub.broadcast('status', '{"n":1}');
      await new Promise((r) => setTimeout(r, 20)); // a snapshot render
      hub.broadcast('snapshot', '{"camera":"yard"}');
    });
    await until(() => a.events.length === 2);
    expect(writes()).toBe(1);
    expect(a.events.map((e) => e.event)).toEqual(['status', 'snapshot']);

    // A render that hangs: the status goes out after maxHoldMs, the late snapshot on its own.
    let finish!: () => void;
    const hung = hub.batch(async () => {
      hub.broadcast('status', '{"n":2}');
      await new Promise<void>((r) => (finish = r));
      hub.broadcast('snapshot', '{"camera":"yard","late":true}');
    }, 50);
    await until(() => a.events.length === 3);
    expect(a.events[2]).toEqual({ event: 'status', data: '{"n":2}' });
    finish();
    await hung;
    await until(() => a.events.length === 4);
    expect(writes()).toBe(3);
    write.mockRestore();
  });

  it('refuses an address holding its share while others still get in, under the same total', async () => {
    const hub = new SseHub(4, 2);
    server = await serve(hub, [], (req) => ({ address: req.socket.remoteAddress }));
    const mine = [await open(server), await open(server)];
    const third = await open(server);
    expect(third.res.statusCode).toBe(503);
    await until(() => third.body() === 'address full');
    // Another address (Linux answers all of 127/8 on loopback) still gets in, until the total is reached.
    const other = [await open(server, '/', '127.0.0.2'), await open(server, '/', '127.0.0.2')];
    expect(other.map((o) => o.res.statusCode)).toEqual([200, 200]);
    const fifth = await open(server, '/', '127.0.0.3');
    await until(() => fifth.body() === 'full');
    // A stream that leaves gives its address its place back.
    mine[0]!.res.destroy();
    await until(() => hub.size === 3);
    expect((await open(server)).res.statusCode).toBe(200);
  });

  it('ends a stream once its owner is no longer allowed, and writes nothing more to it', async () => {
    const hub = new SseHub();
    const revoked = new Set<string>();
    server = await serve(hub, [], (req) => ({ allowed: () => !revoked.has(req.url!) }));
    const a = await open(server, '/a');
    const b = await open(server, '/b');
    const free = await open(server, '/free');
    await until(() => hub.size === 3);
    let aEnded = false;
    a.res.on('end', () => (aEnded = true));
    revoked.add('/a');
    // Found at the next write (a session that expired on its own), before any data goes out.
    hub.broadcast('status', '{"n":1}');
    await until(() => aEnded && b.events.length === 1 && free.events.length === 1);
    expect(a.events).toEqual([]);
    // Or at once, when the caller knows it ended (a logout).
    revoked.add('/b');
    expect(hub.endRevoked()).toBe(1);
    await until(() => b.res.complete && hub.size === 1);
    hub.broadcast('status', '{"n":2}');
    await until(() => free.events.length === 2);
    expect(b.events).toHaveLength(1);
  });
});

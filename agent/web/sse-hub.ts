import type { ServerResponse } from 'node:http';

/** A client this far behind (a phone that went to sleep on a slow link) is dropped; it reconnects. */
const maxBufferedBytes = 1024 * 1024;

/**
 * Streams one address may hold while the total is not reached. A browser opens at most 6 HTTP/1.1
 * connections to one host (Chromium, Firefox), all its tabs together, so one person never needs more; 8
 * leaves room for a second device behind the same NAT, and it takes 8 addresses to fill the 64.
 */
export const maxStreamsPerAddress = 8;

/** Who holds a stream, as far as the hub limits and ends it. */
export interface StreamOwner {
  /** The client's address, counted against maxStreamsPerAddress; absent: not counted. */
  address?: string;
  /** Asked before every write: false once what let the stream in has ended (a session logged out). */
  allowed?: () => boolean;
}

/** `full`: all streams taken; `address full`: this address holds its share (the caller answers 503). */
export type AddResult = 'added' | 'full' | 'address full';

/**
 * The page's live feed: Server-Sent Events to every open page. One payload is serialised once per tick
 * and written to all clients, so ten viewers cost one status build.
 */
export class SseHub {
  private readonly clients = new Map<ServerResponse, StreamOwner>();
  /** Broadcasts held back by batch(). */
  private pending: Buffer[] | undefined;

  constructor(
    private readonly maxClients = 64,
    private readonly maxPerAddress = maxStreamsPerAddress,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Takes over the response and sends it `first` at once, unless a limit is reached. */
  add(
    res: ServerResponse,
    first: { event: string; data: string }[] = [],
    owner: StreamOwner = {},
  ): AddResult {
    const headers = {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
    };
    // HEAD: the headers alone, now. Writes to a HEAD answer send nothing, not even its headers, so a
    // registered one would never answer and would hold a client slot and its connection for good.
    if (res.req.method === 'HEAD') {
      res.writeHead(200, headers).end();
      return 'added';
    }
    if (this.clients.size >= this.maxClients) return 'full';
    if (owner.address !== undefined && this.countFrom(owner.address) >= this.maxPerAddress)
      return 'address full';
    res.writeHead(200, { ...headers, Connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    for (const f of first) res.write(frame(f.event, f.data));
    this.clients.set(res, owner);
    res.once('close', () => this.clients.delete(res));
    return 'added';
  }

  /** Ends every stream whose owner is no longer allowed (its session ended); how many. */
  endRevoked(): number {
    let ended = 0;
    for (const [res, owner] of this.clients) {
      if (owner.allowed?.() !== false) continue;
      this.clients.delete(res);
      res.end();
      ended++;
    }
    return ended;
  }

  broadcast(event: string, data: string): void {
    // Encoded once for every client (a snapshot event is ~30 KB of text).
    const text = Buffer.from(frame(event, data));
    if (this.pending) this.pending.push(text);
    else this.writeAll(text);
  }

  /**
   * Runs `fill`, holding back what it broadcasts until it is done, then writes all of it to each client at
   * once: a tick's status and snapshots (rendered asynchronously) cost each page one write and one wake-up,
   * not one per event (measured: 0.5 ms of main-thread CPU a second less for 10 pages and two events).
   * Nothing is held longer than `maxHoldMs`, however long `fill` takes (a render that hangs).
   */
  async batch(fill: () => Promise<void>, maxHoldMs = 250): Promise<void> {
    if (this.pending) return fill();
    const pending: Buffer[] = (this.pending = []);
    const release = () => {
      if (this.pending !== pending) return;
      this.pending = undefined;
      if (pending.length) this.writeAll(pending.length === 1 ? pending[0]! : Buffer.concat(pending));
    };
    const timer = setTimeout(release, maxHoldMs);
    try {
      await fill();
    } finally {
      clearTimeout(timer);
      release();
    }
  }

  private writeAll(text: Buffer): void {
    // A session that expired since the last write hears nothing more: checked here, where data would go.
    this.endRevoked();
    for (const res of this.clients.keys()) {
      if (res.writableLength > maxBufferedBytes) {
        this.clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(text);
    }
  }

  private countFrom(address: string): number {
    let n = 0;
    for (const owner of this.clients.values()) if (owner.address === address) n++;
    return n;
  }

  closeAll(): void {
    for (const res of this.clients.keys()) res.end();
    this.clients.clear();
  }
}

/** `data` is JSON (no raw newlines), so one data line is enough. */
const frame = (event: string, data: string) => `event: ${event}\ndata: ${data}\n\n`;

/**
 * The loads of `npm run bench:web`, run in a child process so that their own CPU is not counted against the
 * agent:
 *   node --import tsx scripts/lib/web-load.ts clients URL N [scrape]   N open pages (and /metrics scrapers)
 *   node --import tsx scripts/lib/web-load.ts burn MS                  the control: MS ms of CPU a second
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { get, type IncomingMessage } from 'node:http';
import { parseArgs } from 'node:util';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type WebLoad =
  { kind: 'clients'; url: string; clients: number; scrape: boolean } | { kind: 'burn'; msPerS: number };

/** Starts this load in a child process (with an IPC channel: the clients say `ready` once loaded). */
export function startWebLoad(load: WebLoad): ChildProcess {
  const self = ['--import', 'tsx', import.meta.filename];
  const args =
    load.kind === 'clients'
      ? [...self, 'clients', load.url, String(load.clients), ...(load.scrape ? ['scrape'] : [])]
      : [...self, 'burn', String(load.msPerS)];
  return spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

if (process.argv[1] === import.meta.filename) {
  const { positionals } = parseArgs({ allowPositionals: true });
  const [kind, ...rest] = positionals;
  if (kind === 'burn') await burn(Number(rest[0]));
  else if (kind === 'clients') await runClients(rest[0]!, Number(rest[1]), rest[2] === 'scrape');
  else throw new Error(`web-load: unknown load "${kind}"`);
}

/** The control load: busy for `msPerS` of every second, in 100 ms slots, until SIGTERM. */
async function burn(msPerS: number): Promise<void> {
  process.once('SIGTERM', () => process.exit(0));
  for (;;) {
    const end = performance.now() + msPerS / 10;
    while (performance.now() < end);
    await sleep(Math.max(0, 100 - msPerS / 10));
  }
}

/**
 * N clients, each an open page: the shell and assets once, then the live stream, which carries the status
 * and the snapshots (as the page takes them: tiles.js shows the pushed JPEG); with `scrape`, each also
 * scrapes /metrics at 1 Hz. Until SIGTERM.
 */
async function runClients(url: string, n: number, scrape: boolean): Promise<void> {
  let stop = false;
  process.once('SIGTERM', () => (stop = true));
  let loaded = 0;
  const client = async (i: number) => {
    const page = await (await fetch(`${url}/`)).text();
    for (const m of page.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g))
      await (await fetch(`${url}${m[1]}`)).arrayBuffer();
    const events = await openEvents(url, i);
    if (++loaded === n) process.send?.('ready');
    events.setEncoding('utf8');
    void (async () => {
      let buf = '';
      for await (const value of events as AsyncIterable<string>) {
        buf += value;
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const data = /^data: (.*)$/m.exec(block)?.[1];
          // Parsed as the page parses it (the picture itself would go to an <img>).
          if (data) JSON.parse(data);
        }
      }
    })().catch(() => {});
    while (!stop) {
      const tick = sleep(1000);
      if (scrape) await (await fetch(`${url}/metrics`)).text();
      await tick;
    }
    events.destroy();
  };
  await Promise.all(Array.from({ length: n }, (_, i) => client(i)));
  process.exit(0);
}

/**
 * The live stream of page `i`. The agent allows 8 streams per address with auth off, so on loopback each
 * page comes from its own 127.0.0.x, as pages on different devices would; a refused stream fails the run
 * rather than measure fewer pages than it says.
 */
function openEvents(url: string, i: number): Promise<IncomingMessage> {
  const target = new URL('/api/events', url);
  const localAddress =
    target.hostname === '127.0.0.1' ? `127.0.${(i >> 8) & 255}.${(i & 255) + 2}` : undefined;
  return new Promise((resolve, reject) => {
    get(target, { localAddress }, (res) => {
      if (res.statusCode === 200) return resolve(res);
      res.resume();
      reject(new Error(`web-load: page ${i} got ${res.statusCode} from /api/events`));
    }).on('error', reject);
  });
}

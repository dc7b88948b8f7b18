import net from 'node:net';
import { networkInterfaces } from 'node:os';

/** This machine's first IPv4 address that is not loopback: a "remote" host that is still this box. */
export function lanAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

export interface WireTap {
  host: string;
  port: number;
  /** Every byte clients sent through the tap so far, as an eavesdropper on the network would see it. */
  sent(): Buffer;
  close(): Promise<void>;
}

/**
 * A TCP relay on `host` (a LAN address) to a local port, recording what clients send: a broker on
 * 127.0.0.1 reached as a remote one, with the bytes on the wire to look at.
 */
export async function startWireTap(host: string, targetPort: number): Promise<WireTap> {
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (d: Buffer) => chunks.push(Buffer.from(d)));
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  return {
    host,
    port: (server.address() as net.AddressInfo).port,
    sent: () => Buffer.concat(chunks),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

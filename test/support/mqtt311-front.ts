import net from 'node:net';

/** A 3.1.1-only broker in front of a real one: see mqtt311Front. */
export interface Mqtt311Front {
  url: string;
  /** MQTT 5 CONNECTs refused so far. */
  readonly refusedV5: number;
  close(): Promise<void>;
}

/**
 * A front on a free port that answers an MQTT 5 CONNECT with return code 1 (unacceptable protocol
 * version), as a 3.1.1 broker does, and passes any other connection through to `brokerPort`. A client
 * that falls back to 3.1.1 then talks to the real broker behind it, which treats it as a 3.1.1 client.
 */
export async function mqtt311Front(brokerPort: number): Promise<Mqtt311Front> {
  let refusedV5 = 0;
  const open = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    open.add(sock);
    sock.on('close', () => open.delete(sock));
    sock.on('error', () => {});
    sock.once('data', (first) => {
      let i = 1;
      while (first[i]! & 0x80) i++; // the remaining length
      if (first[i + 1 + 6] === 5) {
        refusedV5++;
        sock.end(Buffer.from([0x20, 0x02, 0x00, 0x01]));
        return;
      }
      const up = net.connect(brokerPort, '127.0.0.1', () => {
        up.write(first);
        sock.pipe(up).pipe(sock);
      });
      // A broker that ends the connection ends the client's too (pipe); one that resets it, likewise.
      up.on('error', () => sock.destroy());
      sock.on('close', () => up.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    get refusedV5() {
      return refusedV5;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of open) s.destroy();
        server.close(() => r());
      }),
  };
}

import { createRequire } from 'node:module';

/** The part of mqtt-packet used here: its packet writer. */
interface PacketWriter {
  (packet: object, stream: { write(chunk: unknown): boolean }, opts?: object): boolean;
}

/** mqtt-packet caches the encoded remaining length of every packet length below this. */
const cachedLengths = 16384;
let filled = false;

/**
 * Fills mqtt-packet's cache of encoded packet lengths all at once. It keeps a 1–4 byte Buffer per distinct
 * length, allocated from Node's 8 KiB Buffer pool when a length is first sent, and each kept slice pins its
 * whole pool block (mqttjs/mqtt-packet#163): over days of detections of varying size that pinned a block per
 * new length (a real agent: 110 → 240 blocks over 30 camera restarts), up to 16 384 × 8 KiB = 128 MiB.
 * Filled in one loop at start, the entries lie side by side in about 16 blocks, and nothing is added later.
 * The same module instance as mqtt's (resolved from it), so its cache is the one the link writes with.
 */
export function fillPacketLengthCache(): void {
  if (filled) return;
  filled = true;
  const fromMqtt = createRequire(createRequire(import.meta.url).resolve('mqtt'));
  const writeToStream = fromMqtt('mqtt-packet').writeToStream as PacketWriter;
  const sink = { write: () => true };
  const payload = Buffer.alloc(cachedLengths);
  // A one-byte topic takes 3 bytes (length + name): payloads 0… give remaining lengths 3…16 383.
  for (let n = 0; n + 3 < cachedLengths; n++)
    writeToStream({ cmd: 'publish', topic: 't', payload: payload.subarray(0, n), qos: 0 }, sink);
}

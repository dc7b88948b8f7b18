import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { fillPacketLengthCache } from '../../../agent/mqtt/packet-length-cache.js';

// mqtt's own packet writer (the instance the link sends with), in this test file's fresh process.
const fromMqtt = createRequire(createRequire(import.meta.url).resolve('mqtt'));
const { writeToStream } = fromMqtt('mqtt-packet') as {
  writeToStream: (packet: object, stream: { write(chunk: unknown): boolean }) => boolean;
};

describe('mqtt-packet length cache', () => {
  // Each cached length is a slice of Node's Buffer pool that pins its whole 8 KiB block for good: lengths first
  // seen days apart, with other allocations between them, pinned one block each (mqttjs/mqtt-packet#163).
  it('filled at start, every length the link sends lies in a handful of pool blocks', () => {
    fillPacketLengthCache();
    const blocks = new Set<ArrayBufferLike>();
    const lengths = Array.from({ length: 2000 }, (_, i) => 40 + i * 8);
    for (const n of lengths) {
      Buffer.allocUnsafe(400); // the rest of the agent, using the pool between two messages
      const chunks: Buffer[] = [];
      writeToStream(
        { cmd: 'publish', topic: 'vigil/s/d/cameras/a/detections', payload: Buffer.alloc(n), qos: 0 },
        { write: (c) => (chunks.push(c as Buffer), true) },
      );
      blocks.add(chunks[1]!.buffer); // after the fixed header: the encoded remaining length
    }
    // 16 384 cached lengths, 8 bytes apart in 8 KiB blocks: 16 blocks (unfilled: one per ~20 lengths here).
    expect(blocks.size).toBeLessThanOrEqual(17);
  });
});

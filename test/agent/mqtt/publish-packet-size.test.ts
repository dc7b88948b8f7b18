// mqtt-packet is the serializer mqtt.js writes every packet with: its output is exactly what goes on the wire.
import { generate, type IPublishPacket } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { publishPacketBytes } from '../../../agent/mqtt/publish-packet-size.js';

type Properties = NonNullable<IPublishPacket['properties']>;

function onTheWire(topic: string, payload: Buffer, properties: Properties | undefined, version: 4 | 5) {
  const packet: IPublishPacket = {
    cmd: 'publish',
    qos: 1,
    dup: false,
    retain: false,
    messageId: 4242,
    topic,
    payload,
    ...(version === 5 && properties ? { properties } : {}),
  };
  return generate(packet, { protocolVersion: version }).length;
}

const full: Properties = {
  payloadFormatIndicator: true,
  contentType: 'application/json',
  messageExpiryInterval: 3600,
  correlationData: Buffer.alloc(37, 1),
  responseTopic: 'vigil/répond',
  userProperties: { requester: 'opérateur', tags: ['a', 'ünïcode'] },
};

describe('publishPacketBytes: the PUBLISH packet as the broker counts it', () => {
  it('matches the bytes mqtt.js puts on the wire, across the remaining-length size steps', () => {
    // Payload sizes around the points where the remaining length needs one more byte (127, 16 383, 2 097 151).
    const sizes = [0, 1, 60, 100, 127, 128, 16_300, 16_384, 2_097_000, 2_097_200];
    for (const version of [4, 5] as const) {
      for (const properties of [undefined, {}, { contentType: 'application/json' }, full]) {
        for (const topic of ['t', 'vigil/site/box/cameras/yard/detections', 'vigil/ünïcödé/主题']) {
          for (const n of sizes) {
            const expected = onTheWire(topic, Buffer.alloc(n), properties, version);
            expect(publishPacketBytes(topic, n, properties, version), `v${version} ${topic} ${n}`).toBe(
              expected,
            );
          }
        }
      }
    }
  });

  it('is exact on both sides of every step of the remaining length (128, 16 384, 2 097 152 bytes)', () => {
    const big = Buffer.alloc(2_097_200);
    const topic = 'vigil/ünïcödé/主题';
    for (const version of [4, 5] as const) {
      for (const step of [128, 16_384, 2_097_152]) {
        // Topic, packet id and properties take under 150 bytes, so the sweep crosses the step.
        for (let n = Math.max(0, step - 150); n <= step + 2; n++) {
          const expected = onTheWire(topic, big.subarray(0, n), full, version);
          expect(publishPacketBytes(topic, n, full, version), `v${version} ${n}`).toBe(expected);
        }
      }
    }
  });

  it('counts a property list longer than 127 bytes with a two-byte length', () => {
    const long: Properties = { correlationData: Buffer.alloc(200, 2) };
    expect(publishPacketBytes('t', 10, long, 5)).toBe(onTheWire('t', Buffer.alloc(10), long, 5));
  });

  it('ignores properties on MQTT 3.1.1, which has none', () => {
    expect(publishPacketBytes('t', 10, full, 4)).toBe(publishPacketBytes('t', 10, undefined, 4));
    expect(publishPacketBytes('t', 10, full, 4)).toBe(onTheWire('t', Buffer.alloc(10), undefined, 4));
  });
});

import type { IClientPublishOptions } from 'mqtt';

type PublishProperties = NonNullable<IClientPublishOptions['properties']>;

/** Bytes of an MQTT variable byte integer (remaining length, property length). */
const varintBytes = (n: number) => (n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4);
const utf8 = (s: string) => 2 + Buffer.byteLength(s);

/** Bytes of the MQTT 5 properties of a PUBLISH, without their length field. */
function propertiesBytes(p: PublishProperties): number {
  let n = 0;
  if (p.payloadFormatIndicator !== undefined) n += 1 + 1;
  if (p.messageExpiryInterval !== undefined) n += 1 + 4;
  if (p.topicAlias !== undefined) n += 1 + 2;
  if (p.responseTopic !== undefined) n += 1 + utf8(p.responseTopic);
  if (p.correlationData !== undefined) n += 1 + 2 + p.correlationData.length;
  if (p.contentType !== undefined) n += 1 + utf8(p.contentType);
  for (const [k, v] of Object.entries(p.userProperties ?? {}))
    for (const value of Array.isArray(v) ? v : [v]) n += 1 + utf8(k) + utf8(String(value));
  return n;
}

/**
 * The size of the QoS 1 PUBLISH packet that carries a message, as the broker counts it against its maximum
 * packet size (MQTT 5 §3.3): fixed header, topic, packet id, properties (MQTT 5 only) and payload. A message
 * the broker would find too large makes it close the connection, and the message would come back on every
 * reconnect; measured exactly, it is refused once instead.
 */
export function publishPacketBytes(
  topic: string,
  payloadBytes: number,
  properties: PublishProperties | undefined,
  protocolVersion: number,
): number {
  let remaining = utf8(topic) + 2 + payloadBytes;
  if (protocolVersion === 5) {
    const props = properties ? propertiesBytes(properties) : 0;
    remaining += varintBytes(props) + props;
  }
  return 1 + varintBytes(remaining) + remaining;
}

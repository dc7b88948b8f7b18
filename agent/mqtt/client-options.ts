import type { IClientOptions, IClientPublishOptions } from 'mqtt';
import type { MqttConfig } from '../../config/schema.js';
import type { OutboxRow } from '../outbox/outbox.js';
import { readTlsFile } from './tls-errors.js';

/** MQTT protocol levels: 5, or 3.1.1 (level 4) with a broker that refuses 5. */
export type ProtocolLevel = 4 | 5;

/** MQTT 5 properties of everything Vigil publishes. */
export const jsonProperties: IClientPublishOptions['properties'] = {
  contentType: 'application/json',
  payloadFormatIndicator: true,
};

/**
 * The largest packet the broker may send us (MQTT 5 Maximum Packet Size): larger ones it drops. Requests
 * are refused above 64 KiB with an error response; this leaves room to say so for most oversized ones.
 */
export const inboundMaxBytes = 256 * 1024;

/**
 * mqtt.js options for one connection attempt. Reconnects (with backoff) and queueing belong to the
 * link and its outbox, so mqtt.js is told to do neither. TLS files are read on every attempt, so a
 * renewed certificate is picked up without a restart (and a missing one is a connect error, retried).
 */
export function clientOptions(
  cfg: MqttConfig,
  clientId: string,
  will: { topic: string; payload: Buffer },
  protocol: ProtocolLevel = 5,
): IClientOptions {
  const tls = cfg.tls;
  return {
    clientId,
    username: cfg.username,
    password: cfg.password,
    keepalive: cfg.keepaliveS,
    protocolVersion: protocol,
    clean: true,
    reconnectPeriod: 0,
    queueQoSZero: false,
    resubscribe: false,
    connectTimeout: 10_000,
    will: { ...will, qos: 1, retain: true, ...(protocol === 5 && { properties: jsonProperties }) },
    ...(protocol === 5 && { properties: { maximumPacketSize: inboundMaxBytes } }),
    ...(tls && {
      ca: readTlsFile(cfg, 'ca'),
      cert: readTlsFile(cfg, 'cert'),
      key: readTlsFile(cfg, 'key'),
      rejectUnauthorized: tls.rejectUnauthorized,
    }),
  };
}

/**
 * MQTT 5 properties of one outbox row: JSON (unless empty), the expiry left, and what the row carries (correlation data).
 * `now` is on the outbox's clock (Outbox.clock()), as `expiresAt` is.
 */
export function rowProperties(row: OutboxRow, now: number): IClientPublishOptions['properties'] {
  // An empty payload (a retained message cleared) is no JSON: it says nothing of its content.
  const props: IClientPublishOptions['properties'] = row.payload.length ? { ...jsonProperties } : {};
  if (row.expiresAt !== null)
    props.messageExpiryInterval = Math.max(1, Math.ceil((row.expiresAt - now) / 1000));
  if (row.properties?.correlationData) props.correlationData = row.properties.correlationData;
  if (row.properties?.userProperties) props.userProperties = row.properties.userProperties;
  return props;
}

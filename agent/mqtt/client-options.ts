import { readFileSync } from 'node:fs';
import type { IClientOptions, IClientPublishOptions } from 'mqtt';
import type { MqttConfig } from '../../config/schema.js';

/** MQTT 5 properties of everything Vigil publishes. */
export const jsonProperties: IClientPublishOptions['properties'] = {
  contentType: 'application/json',
  payloadFormatIndicator: true,
};

/**
 * mqtt.js options for one connection attempt. Reconnects (with backoff) and queueing belong to the
 * link and its outbox, so mqtt.js is told to do neither. TLS files are read on every attempt, so a
 * renewed certificate is picked up without a restart (and a missing one is a connect error, retried).
 */
export function clientOptions(
  cfg: MqttConfig,
  clientId: string,
  will: { topic: string; payload: Buffer },
): IClientOptions {
  const tls = cfg.tls;
  const read = (file: string | undefined) => (file ? readFileSync(file) : undefined);
  return {
    clientId,
    username: cfg.username,
    password: cfg.password,
    keepalive: cfg.keepaliveS,
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 0,
    queueQoSZero: false,
    resubscribe: false,
    connectTimeout: 10_000,
    will: { ...will, qos: 1, retain: true, properties: jsonProperties },
    ...(tls && {
      ca: read(tls.ca),
      cert: read(tls.cert),
      key: read(tls.key),
      rejectUnauthorized: tls.rejectUnauthorized,
    }),
  };
}

import net from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import type { HttpConfig, MqttConfig } from '../../config/schema.js';
import { redactUrl } from '../../config/redact-url.js';
import { clientOptions } from '../mqtt/client-options.js';
import { describeTlsError } from '../mqtt/tls-errors.js';

/**
 * New MQTT settings only take effect at the next start, so before they are persisted the box proves it
 * could use them: one connection with the new URL, credentials and TLS files, then a clean disconnect.
 * A box must never persist settings that would cut it off from the fleet.
 */
export async function probeMqtt(cfg: MqttConfig, timeoutMs: number): Promise<void> {
  // Said in config/result (retained at the broker) and the push table: the URL's credentials are not.
  const failed = (err: Error) =>
    new Error(
      `new mqtt settings: cannot connect to ${redactUrl(cfg.url)}: ${describeTlsError(err, cfg).message}`,
    );
  let client: MqttClient;
  try {
    const opts = clientOptions(cfg, `vigil-probe-${Math.random().toString(16).slice(2, 10)}`, {
      topic: 'x',
      payload: Buffer.alloc(0),
    });
    delete opts.will;
    opts.connectTimeout = timeoutMs;
    client = mqtt.connect(cfg.url, opts);
  } catch (err) {
    throw failed(err as Error); // a TLS file that cannot be read, a key not of the certificate
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no CONNACK within ${timeoutMs} ms`)), timeoutMs);
      client.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      client.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  } catch (err) {
    throw failed(err as Error);
  } finally {
    client.end(true);
  }
}

/** A new HTTP address must be free to bind (a port the agent already uses is not probed). */
export async function probeHttp(cfg: HttpConfig, current: HttpConfig): Promise<void> {
  if (!cfg.enabled || (current.enabled && cfg.host === current.host && cfg.port === current.port)) return;
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err) =>
      reject(new Error(`new http settings: cannot listen on ${cfg.host}:${cfg.port}: ${err.message}`)),
    );
    server.listen(cfg.port, cfg.host, () => server.close(() => resolve()));
  });
}

import net from 'node:net';
import mqtt from 'mqtt';
import type { HttpConfig, MqttConfig } from '../../config/schema.js';
import { clientOptions } from '../mqtt/client-options.js';

/**
 * New MQTT settings only take effect at the next start, so before they are persisted the box proves it
 * could use them: one connection with the new URL, credentials and TLS files, then a clean disconnect.
 * A box must never persist settings that would cut it off from the fleet.
 */
export async function probeMqtt(cfg: MqttConfig, timeoutMs: number): Promise<void> {
  const opts = clientOptions(cfg, `vigil-probe-${Math.random().toString(16).slice(2, 10)}`, {
    topic: 'x',
    payload: Buffer.alloc(0),
  });
  delete opts.will;
  opts.connectTimeout = timeoutMs;
  const client = mqtt.connect(cfg.url, opts);
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
    throw new Error(`new mqtt settings: cannot connect to ${cfg.url}: ${(err as Error).message}`);
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

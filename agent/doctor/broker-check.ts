import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import type { IClientOptions } from 'mqtt';
import { z } from 'zod';
import { type MqttConfig, type VigilConfig } from '../../config/schema.js';
import { redactUrl } from '../../config/redact-url.js';
import { clientOptions } from '../mqtt/client-options.js';
import { describeTlsError } from '../mqtt/tls-errors.js';
import { topics } from '../mqtt/topics.js';
import { result, type CheckResult } from './check.js';

/** What the doctor publishes (not retained) to prove the ACL lets this device write under its tree. */
export const doctorTopic = (cfg: VigilConfig) =>
  `${topics(cfg.mqtt?.baseTopic ?? 'vigil', cfg.site, cfg.device).root}/doctor`;

/** The payload of `<root>/doctor` (docs/mqtt.md): a probe, nothing to act on. */
export const DoctorProbePayload = z.strictObject({
  doctor: z.literal(true),
  ts: z.number().int().nonnegative(),
});
export type DoctorProbePayload = z.infer<typeof DoctorProbePayload>;

function connectError(cfg: MqttConfig, err: Error): string {
  const code = (err as { code?: unknown }).code;
  if (code === 'ECONNREFUSED') return `${err.message} (is the broker running?)`;
  // A refused CONNECT: mqtt.js reports the CONNACK reason (135 Not authorized, 134 Bad user name or password).
  if (typeof code === 'number')
    return `${err.message.replace(/^Connection refused: /, 'refused: ')} (reason code ${code}: check username/password)`;
  return describeTlsError(err, cfg).message;
}

/** The user of `mqtts://user:pw@host` (mqtt.js logs in with it), not its password. */
function userInUrl(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).username) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Connects with the agent's own settings (URL, credentials, TLS files) but a client id of its own, so a
 * running agent is not kicked off, then publishes one QoS 1 message: a broker that accepts the login
 * but refuses the topic (ACL) answers the PUBACK with a reason code, which is a failure too.
 */
export async function checkBroker(cfg: VigilConfig, timeoutMs = 3000): Promise<CheckResult> {
  const mq = cfg.mqtt;
  if (!mq)
    return result('broker', undefined, 'skip', 'no broker configured: results would stay in the outbox');
  const subject = redactUrl(mq.url);
  let options: IClientOptions;
  try {
    const { will: _will, ...rest } = clientOptions(mq, `vigil-doctor-${randomUUID().slice(0, 8)}`, {
      topic: doctorTopic(cfg),
      payload: Buffer.alloc(0),
    });
    options = { ...rest, connectTimeout: timeoutMs };
  } catch (err) {
    return result('broker', subject, 'fail', describeTlsError(err as Error, mq).message);
  }
  const user = mq.username ?? userInUrl(mq.url);
  const who = user ? `as ${user}` : 'anonymously';
  const t0 = performance.now();
  let client: mqtt.MqttClient;
  try {
    client = mqtt.connect(mq.url, options);
  } catch (err) {
    // A key that is not the certificate's is refused as the TLS context is built, before any socket.
    return result('broker', subject, 'fail', describeTlsError(err as Error, mq).message);
  }
  // Our listeners only: mqtt.js keeps its own on `close` (it clears the CONNACK timer there).
  const listeners: { event: 'error' | 'close' | 'connect'; fn: (...args: never[]) => void }[] = [];
  const on = (event: 'error' | 'close' | 'connect', fn: (...args: never[]) => void) => {
    listeners.push({ event, fn });
    client.once(event, fn as never);
  };
  try {
    return await new Promise<CheckResult>((resolve) => {
      const timer = setTimeout(
        () => resolve(result('broker', subject, 'fail', `no answer within ${timeoutMs} ms`)),
        timeoutMs + 500,
      );
      const done = (r: CheckResult) => {
        clearTimeout(timer);
        resolve(r);
      };
      on('error', (err: Error) => done(result('broker', subject, 'fail', connectError(mq, err))));
      on('close', () =>
        done(result('broker', subject, 'fail', 'connection closed before the broker answered')),
      );
      on('connect', () => {
        const topic = doctorTopic(cfg);
        const probe: DoctorProbePayload = { doctor: true, ts: Date.now() };
        const payload = JSON.stringify(probe);
        client.publish(topic, payload, { qos: 1, retain: false }, (err) => {
          const ms = Math.round(performance.now() - t0);
          if (err)
            done(
              result(
                'broker',
                subject,
                'fail',
                `connected ${who}, but publishing to ${topic} was refused: ${err.message}`,
              ),
            );
          else
            done(result('broker', subject, 'pass', `connected ${who} and published to ${topic} in ${ms} ms`));
        });
      });
    });
  } finally {
    for (const { event, fn } of listeners) client.removeListener(event, fn as never);
    client.on('error', () => {}); // a late socket error after the verdict must not throw
    await new Promise<void>((r) => client.end(true, {}, () => r()));
  }
}

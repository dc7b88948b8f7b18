import { z } from 'zod';

/**
 * The first levels of a topic tree (`vigil`, `acme/vigil`): none empty or holding a wildcard or NUL, which
 * the agent cannot publish under (agent/mqtt/topics.ts refuses them at start, after check-config said ok).
 */
const TopicRoot = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    if (!value) return; // min(1) says so
    const bad = value.split('/').find((level) => !level || /[+#\0]/.test(level));
    if (bad !== undefined)
      ctx.addIssue({
        code: 'custom',
        message:
          bad === ''
            ? 'topic levels must not be empty (no leading, trailing or double "/")'
            : `topic level "${bad}" holds an MQTT wildcard or NUL`,
      });
  });

export const MqttConfig = z
  .strictObject({
    url: z
      .string()
      .regex(
        /^(mqtts?|wss?|tcp|ssl):\/\//,
        'expected mqtt://, mqtts://, ws:// or wss:// and the broker (mqtt://host:1883)',
      ),
    username: z.string().optional(),
    password: z.string().optional(),
    clientId: z.string().optional(),
    /** Topic root: topics are <baseTopic>/<site>/<device>/… */
    baseTopic: TopicRoot.default('vigil'),
    keepaliveS: z.number().int().positive().default(30),
    /** Reconnect backoff ceiling: attempts double from 0.5 s up to this (with jitter). */
    reconnectMaxS: z.number().positive().max(3600).default(30),
    /** QoS 1 messages awaiting PUBACK at once. */
    inflightWindow: z.number().int().positive().max(1000).default(32),
    /** The broker's packet size limit, for brokers that do not announce one (MQTT 3.1.1); the smaller wins. */
    maxPacketBytes: z.number().int().min(1024).max(268_435_460).optional(),
    /** Period of the retained `health` message. */
    healthIntervalS: z.number().positive().default(30),
    /** Home Assistant MQTT discovery (sensors for counts, PM2.5 and availability). */
    homeAssistant: z
      .strictObject({
        enabled: z.boolean().default(false),
        prefix: TopicRoot.default('homeassistant'),
      })
      .prefault({}),
    tls: z
      .strictObject({
        ca: z.string().optional(),
        cert: z.string().optional(),
        key: z.string().optional(),
        rejectUnauthorized: z.boolean().default(true),
      })
      .optional(),
  })
  .superRefine((m, ctx) => {
    // mqtt.js ignores TLS settings on a plain URL: the CONNECT, password included, would go out in clear.
    if (m.tls && !/^(mqtts|wss|ssl):\/\//.test(m.url))
      ctx.addIssue({
        code: 'custom',
        path: ['tls'],
        message: `set, but mqtt.url is ${m.url.split(':')[0]}:// (no TLS): use mqtts:// (or wss://), or remove tls`,
      });
  });
export type MqttConfig = z.infer<typeof MqttConfig>;

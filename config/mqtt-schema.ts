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
      )
      .describe(
        'The broker: mqtt://, mqtts://, ws:// or wss:// and host (mqtt://host:1883); tcp:// and ssl:// are taken as mqtt:// and mqtts://.',
      ),
    username: z.string().optional().describe('Broker user name.'),
    password: z
      .string()
      .optional()
      .describe(
        'Broker password; use ${VAR}. Over mqtt:// or ws:// to a host other than loopback it goes in clear (warned).',
      ),
    clientId: z.string().optional().describe('MQTT client id. Default: vigil-<site>-<device>.'),
    baseTopic: TopicRoot.default('vigil').describe(
      'Topic root: topics are <baseTopic>/<site>/<device>/…; its levels (acme/vigil) neither empty nor holding + or #. Default: vigil.',
    ),
    keepaliveS: z.number().int().positive().default(30).describe('MQTT keepalive, seconds. Default: 30.'),
    reconnectMaxS: z
      .number()
      .positive()
      .max(3600)
      .default(30)
      .describe(
        'Reconnect backoff ceiling, seconds: attempts double from 0.5 s up to this (with jitter). Default: 30.',
      ),
    inflightWindow: z
      .number()
      .int()
      .positive()
      .max(1000)
      .default(32)
      .describe(
        "QoS 1 messages awaiting PUBACK at once; at most an MQTT 5 broker's Receive Maximum − 1. Default: 32.",
      ),
    maxPacketBytes: z
      .number()
      .int()
      .min(1024)
      .max(268_435_460)
      .optional()
      .describe(
        "The broker's packet size limit, for brokers that do not announce one (MQTT 3.1.1); the smaller wins.",
      ),
    healthIntervalS: z
      .number()
      .positive()
      .default(30)
      .describe('Period of the retained health message, seconds. Default: 30.'),
    homeAssistant: z
      .strictObject({
        enabled: z
          .boolean()
          .default(false)
          .describe('Publish Home Assistant MQTT discovery (availability, counts, PM2.5). Default: false.'),
        prefix: TopicRoot.default('homeassistant').describe(
          'Discovery topic prefix; levels as baseTopic. Default: homeassistant.',
        ),
      })
      .prefault({})
      .describe('Home Assistant MQTT discovery (sensors for counts, PM2.5 and availability).'),
    tls: z
      .strictObject({
        ca: z
          .string()
          .optional()
          .describe('CA certificate file the broker is checked against; relative to the config file.'),
        cert: z.string().optional().describe('Client certificate file; relative to the config file.'),
        key: z
          .string()
          .optional()
          .describe("The client certificate's key file; relative to the config file."),
        rejectUnauthorized: z
          .boolean()
          .default(true)
          .describe(
            'false accepts any broker certificate: warned unless the broker is on this box. Default: true.',
          ),
      })
      .optional()
      .describe(
        'TLS files and checks; needs an mqtts:// or wss:// URL (with a plain one it is a config error).',
      ),
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

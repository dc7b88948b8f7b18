import { z } from 'zod';
import { defaultPm25Levels, Pm25Levels } from './pm25-levels-schema.js';

/** Status page login (docs/http.md): a bearer token, a user with a scrypt password hash, or both. */
export const HttpAuthConfig = z
  .strictObject({
    token: z
      .string()
      .min(16, 'an HTTP token needs at least 16 characters')
      .optional()
      .describe(
        'Bearer token, at least 16 characters: long and random (openssl rand -hex 24), usually ${VIGIL_HTTP_TOKEN} from the environment.',
      ),
    user: z.string().min(1).optional().describe('Basic login user name; goes with passwordHash.'),
    passwordHash: z
      .string()
      .regex(/^scrypt:\d+:\d+:\d+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/, 'expected scrypt:N:r:p:salt:key')
      .optional()
      .describe(
        "The user's password as scrypt:N:r:p:<salt base64>:<key base64>, as vigil hash-password makes it; goes with user.",
      ),
  })
  .refine((a) => Boolean(a.user) === Boolean(a.passwordHash), 'user and passwordHash go together')
  .refine((a) => a.token || a.user, 'give a token, or a user and passwordHash');
export type HttpAuthConfig = z.infer<typeof HttpAuthConfig>;

export const HttpConfig = z.strictObject({
  enabled: z.boolean().default(true).describe('false: no server, no port. Default: true.'),
  /** Not empty: Node takes "" as every address, IPv6 too, the opposite of what a blank meant. */
  host: z
    .string()
    .min(1)
    .default('0.0.0.0')
    .describe(
      'Address the status page listens on, not empty; 127.0.0.1 keeps the page on the box. Default: 0.0.0.0.',
    ),
  port: z
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(8080)
    .describe('TCP port of the status page. Default: 8080.'),
  /** At most 60: Node ends any request at 60 s. */
  uploadTimeoutS: z
    .number()
    .positive()
    .max(60)
    .default(10)
    .describe(
      'An upload to /api/detect must arrive whole within this many seconds (≤ 60), or it gets 408. Default: 10.',
    ),
  auth: HttpAuthConfig.optional().describe(
    'Status page login: a token, and/or a user with passwordHash. Absent: the page and API are open to the local network (health probes always are); warned on a host other than loopback (plain HTTP).',
  ),
  pm25Levels: Pm25Levels.default(defaultPm25Levels).describe(
    'What the page calls a PM2.5 estimate: 2 to 12 levels from clean to bad, each {name, upTo, tone}. Default: the US EPA AQI categories (2024).',
  ),
});
export type HttpConfig = z.infer<typeof HttpConfig>;

import { z } from 'zod';
import { FleetConfig } from './fleet-schema.js';
import { DriftConfig } from './drift-schema.js';
import { cameraSafetyIssues, SafetyConfig } from './safety-schema.js';
import { MqttConfig } from './mqtt-schema.js';
import { HttpConfig } from './http-schema.js';
import { ModelConfig } from './model-schema.js';
import { CameraConfig } from './camera-schema.js';

export { MqttConfig } from './mqtt-schema.js';
export * from './camera-schema.js';
export * from './http-schema.js';
export * from './model-schema.js';

export const OutboxConfig = z.strictObject({
  maxRows: z
    .number()
    .int()
    .positive()
    .default(200_000)
    .describe('Messages kept at most; the oldest routine ones are dropped first. Default: 200000.'),
  maxBytes: z
    .number()
    .int()
    .positive()
    .default(512 * 1024 * 1024)
    .describe(
      'Bytes of messages kept at most; the oldest routine ones are dropped first. Default: 536870912 (512 MiB).',
    ),
  maxAgeHours: z
    .number()
    .positive()
    .default(72)
    .describe('Messages older than this many hours are dropped, whatever their priority. Default: 72.'),
  /** docs/adr/0007-outbox-free-space-margin.md */
  minFreeMiB: z
    .number()
    .nonnegative()
    .default(64)
    .describe(
      "Free space (MiB) to leave on the outbox's disk: below it the database file stops growing, new messages take the place of the oldest. 0: off. Default: 64.",
    ),
  /** docs/adr/0003-outbox-synchronous.md */
  synchronous: z
    .enum(['OFF', 'NORMAL', 'FULL', 'EXTRA'])
    .default('FULL')
    .describe('SQLite durability: FULL survives a power cut, NORMAL only a crash. Default: FULL.'),
  drainRatePerS: z
    .number()
    .positive()
    .default(100)
    .describe(
      'After a (re)connect, messages older than the connection go out at most this many per second; newer ones at once. Default: 100.',
    ),
});
export type OutboxConfig = z.infer<typeof OutboxConfig>;

export const VigilConfig = z
  .strictObject({
    site: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'site ids use letters, digits, _ and -')
      .describe('Site id, part of every topic: letters, digits, _ and -, up to 64 characters.'),
    device: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'device ids use letters, digits, _ and -')
      .describe("This box's id, part of every topic: letters, digits, _ and -, up to 64 characters."),
    /** Not empty: an unset `${VAR:-}` would put the outbox in whatever directory vigil started in. */
    dataDir: z
      .string()
      .min(1)
      .default('./data')
      .describe(
        'Outbox database and other state, relative to the config file; one agent per data dir. Default: ./data under the directory vigil runs in.',
      ),
    logLevel: z
      .enum(['debug', 'info', 'warn', 'error'])
      .default('info')
      .describe('Log level. Default: info.'),
    mqtt: MqttConfig.optional().describe(
      'The broker. Absent: results stay in the outbox until one is configured.',
    ),
    outbox: OutboxConfig.prefault({}).describe('Bounds of the store-and-forward buffer (outbox) in dataDir.'),
    http: HttpConfig.prefault({}).describe('The status page and its API.'),
    models: z
      .record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), ModelConfig)
      .describe('Detectors by id (letters, digits, _, . and -); cameras name one in model.'),
    cameras: z.array(CameraConfig).min(1).describe('The cameras, at least one.'),
    fleet: FleetConfig.optional().describe(
      "Signed config pushes over MQTT: who may change this box's config, and how carefully. Absent: off.",
    ),
    safety: SafetyConfig.optional().describe('Event snapshots; defaults apply when absent.'),
    drift: DriftConfig.optional().describe(
      'Drift statistics per camera and model. Absent: off; drift: {} turns it on with the defaults.',
    ),
  })
  .superRefine((cfg, ctx) => {
    for (const issue of crossReferenceIssues(cfg)) ctx.addIssue({ code: 'custom', ...issue });
  });

/**
 * Checks that span fields (camera ids unique, cameras name defined models). Written against a loose shape
 * so the loader can also run it on input that failed the schema, and report every problem at once.
 */
export function crossReferenceIssues(cfg: {
  models?: unknown;
  cameras?: unknown;
}): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const models = cfg.models && typeof cfg.models === 'object' ? Object.keys(cfg.models) : [];
  const cameras = Array.isArray(cfg.cameras) ? (cfg.cameras as unknown[]) : [];
  const seen = new Set<unknown>();
  cameras.forEach((camera, i) => {
    if (!camera || typeof camera !== 'object') return;
    const { id, model } = camera as { id?: unknown; model?: unknown };
    if (seen.has(id))
      issues.push({ path: ['cameras', i, 'id'], message: `duplicate camera id "${String(id)}"` });
    seen.add(id);
    for (const issue of cameraSafetyIssues(camera))
      issues.push({ path: ['cameras', i, ...issue.path], message: issue.message });
    if (typeof model === 'string' && !models.includes(model)) {
      issues.push({
        path: ['cameras', i, 'model'],
        message: `unknown model "${model}" (defined: ${models.join(', ') || 'none'})`,
      });
    }
  });
  return issues;
}
export type VigilConfig = z.infer<typeof VigilConfig>;
/** The config as written in a file, before defaults are applied. */
export type VigilConfigInput = z.input<typeof VigilConfig>;

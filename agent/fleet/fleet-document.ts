import path from 'node:path';
import { z } from 'zod';
import { FleetGroupName } from '../../config/fleet-schema.js';
import {
  CameraConfig,
  crossReferenceIssues,
  HttpConfig,
  ModelConfig,
  MqttConfig,
  OutboxConfig,
} from '../../config/schema.js';

/**
 * The signed fleet config document (docs/fleet.md). What is signed is the canonical JSON (canonical-json.ts)
 * of `{revision, target, config, issuedAt}` exactly as they appear in the document; `keyId` and `signature`
 * travel beside them.
 */

const Id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const ModelId = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/);
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');

/** `group:<name>`, `site:<site>` or `device:<site>/<device>`. */
export const FleetTarget = z
  .string()
  .regex(
    /^(group:[A-Za-z0-9_-]{1,64}|site:[A-Za-z0-9_-]{1,64}|device:[A-Za-z0-9_-]{1,64}\/[A-Za-z0-9_-]{1,64})$/,
    {
      message: 'expected group:<name>, site:<site> or device:<site>/<device>',
    },
  );
export type FleetTarget = z.infer<typeof FleetTarget>;

export type ParsedTarget =
  | { kind: 'group'; group: string }
  | { kind: 'site'; site: string }
  | { kind: 'device'; site: string; device: string };

export function parseTarget(target: FleetTarget): ParsedTarget {
  const [kind, rest = ''] = target.split(/:(.*)/s) as [string, string];
  if (kind === 'group') return { kind, group: FleetGroupName.parse(rest) };
  if (kind === 'site') return { kind, site: Id.parse(rest) };
  const [site = '', device = ''] = rest.split('/');
  return { kind: 'device', site: Id.parse(site), device: Id.parse(device) };
}

export interface BoxIdentity {
  site: string;
  device: string;
  groups: readonly string[];
}

export function targetMatches(target: FleetTarget, box: BoxIdentity): boolean {
  const t = parseTarget(target);
  if (t.kind === 'group') return box.groups.includes(t.group);
  if (t.kind === 'site') return t.site === box.site;
  return t.site === box.site && t.device === box.device;
}

/**
 * A model in a fleet document: a file already on the box (`path`, absolute), or one the box downloads
 * (`url` + `sha256`, or a `manifest` id) into `<dataDir>/models/` and verifies before loading. Other fields
 * as in `models.<id>`.
 */
export const FleetModelConfig = ModelConfig.omit({ path: true })
  .extend({
    path: z
      .string()
      .min(1)
      .refine(
        (p) => path.isAbsolute(p),
        'a model path in a fleet document must be absolute (a path on the box)',
      )
      .optional(),
    url: z
      .string()
      .regex(/^https?:\/\/\S+$/, 'expected an http(s) URL')
      .optional(),
    sha256: Sha256.optional(),
    /** An id in the box's model manifest (models/manifest.json): its url and sha256 are used. */
    manifest: ModelId.optional(),
  })
  .superRefine((m, ctx) => {
    if ([m.path, m.url, m.manifest].filter(Boolean).length !== 1) {
      ctx.addIssue({ code: 'custom', message: 'give one of path, url (with sha256) or manifest' });
    }
    if (m.url && !m.sha256)
      ctx.addIssue({ code: 'custom', message: 'a model url needs its sha256', path: ['sha256'] });
  });
export type FleetModelConfig = z.infer<typeof FleetModelConfig>;

/** A candidate model run in shadow beside the current one on a share of frames (shadow-trial.ts). */
export const ShadowConfig = z.strictObject({
  /** A key of `models`: the candidate. */
  candidate: ModelId,
  /** Cameras it shadows (default: every enabled camera). */
  cameras: z.array(Id).min(1).optional(),
  /** Share of each camera's processed frames also given to the candidate. */
  share: z.number().gt(0).max(1).default(0.1),
  /** Boxes of the same label overlapping at least this much agree. */
  iou: z.number().gt(0).max(1).default(0.5),
  /** Period of the retained agreement report. */
  reportIntervalS: z.number().min(1).max(86_400).default(60),
});
export type ShadowConfig = z.infer<typeof ShadowConfig>;

/**
 * The config body: `models` and `cameras` replace the box's; `mqtt`, `http`, `outbox` and `logLevel`, when
 * present, replace the box's section (they take effect at the next restart, see docs/fleet.md); `shadow`
 * runs a trial while present. Identity (`site`, `device`, `dataDir`, `fleet`) is the box's own, never pushed.
 */
export const FleetBody = z
  .strictObject({
    models: z.record(ModelId, FleetModelConfig),
    cameras: z.array(CameraConfig).min(1),
    shadow: ShadowConfig.optional(),
    mqtt: MqttConfig.optional(),
    http: HttpConfig.optional(),
    outbox: OutboxConfig.optional(),
    logLevel: z.enum(['debug', 'info', 'warn', 'error']).optional(),
  })
  .superRefine((body, ctx) => {
    for (const issue of crossReferenceIssues(body)) ctx.addIssue({ code: 'custom', ...issue });
    const { shadow } = body;
    if (!shadow) return;
    if (!body.models[shadow.candidate]) {
      ctx.addIssue({
        code: 'custom',
        path: ['shadow', 'candidate'],
        message: `unknown model "${shadow.candidate}"`,
      });
    }
    const ids = new Set(body.cameras.map((c) => c.id));
    for (const [i, id] of (shadow.cameras ?? []).entries()) {
      if (!ids.has(id))
        ctx.addIssue({ code: 'custom', path: ['shadow', 'cameras', i], message: `unknown camera "${id}"` });
    }
  });
export type FleetBody = z.infer<typeof FleetBody>;
export type FleetBodyInput = z.input<typeof FleetBody>;

/** The fields that are signed, in the document as received. */
export const signedFields = ['revision', 'target', 'config', 'issuedAt'] as const;

export const FleetDocument = z.strictObject({
  /** Rises with every document the fleet issues; a box refuses any revision not above its current one. */
  revision: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  target: FleetTarget,
  config: FleetBody,
  /** ISO 8601, when it was signed (informational: replay protection is the revision). */
  issuedAt: z.iso.datetime({ offset: true }),
  /** fleetKeyId() of the signing key. */
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  /** Ed25519 signature (base64, 64 bytes) of the canonical JSON of the signed fields. */
  signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'expected a base64 Ed25519 signature (64 bytes)'),
});
export type FleetDocument = z.infer<typeof FleetDocument>;

/** The envelope alone (config left as any object): checked before the signature, the body after it. */
export const FleetEnvelope = FleetDocument.extend({ config: z.record(z.string(), z.unknown()) });

import { z } from 'zod';
import { MotionConfig } from './motion-schema.js';
import { Polygon } from './polygon-schema.js';
import { TrackingConfig } from './tracking-schema.js';

export { Point, Polygon } from './polygon-schema.js';
export * from './motion-schema.js';
export * from './tracking-schema.js';

/**
 * Per-camera safety settings (docs/safety.md): tracking, zones and zone rules, the person-near-forklift
 * rule, motion gating and the camera's share of a shared model. Coordinates are source pixels.
 */

const Id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'ids use letters, digits, _ and -');

export const ZoneConfig = z.strictObject({
  id: Id.describe('Unique per camera; names the zone in events. Letters, digits, _ and -.'),
  name: z.string().optional().describe('Shown on the status page.'),
  polygon: Polygon.describe('The zone: [x, y] points in source pixels, at least three, closed implicitly.'),
  confirmFrames: z
    .number()
    .int()
    .positive()
    .max(30)
    .default(2)
    .describe(
      'A track is in (or out) once its foot point has been on that side on this many frames in a row (at most 30). Default: 2.',
    ),
});
export type ZoneConfig = z.infer<typeof ZoneConfig>;

const Labels = z.array(z.string().min(1)).min(1).default(['person']);
const ruleBase = {
  id: Id.optional().describe('Names the rule in events; unique per camera. Default: <zone>-<type>.'),
  zone: Id.describe('The id of a zone of this camera.'),
  labels: Labels.describe("Site labels the rule watches (after the model's label map). Default: [person]."),
};

export const ZoneRule = z.discriminatedUnion('type', [
  z.strictObject({
    ...ruleBase,
    type: z
      .literal('enter')
      .describe("enter: an event from the moment a track's foot point enters the zone until it leaves."),
  }),
  z.strictObject({
    ...ruleBase,
    type: z.literal('leave').describe("leave: a one-off event when a track's foot point leaves the zone."),
  }),
  z.strictObject({
    ...ruleBase,
    type: z
      .literal('dwell')
      .describe('dwell: an event once a track has been inside longer than dwellS, until it leaves.'),
    dwellS: z
      .number()
      .positive()
      .describe('dwell: an event once a track has been inside longer than this many seconds.'),
  }),
  z.strictObject({
    ...ruleBase,
    type: z.literal('count').describe('count: an event while more than max tracks are inside.'),
    max: z.number().int().nonnegative().describe('count: the most tracks inside without an event.'),
  }),
]);
export type ZoneRule = z.infer<typeof ZoneRule>;
export type ZoneRuleInput = z.input<typeof ZoneRule>;

/** A margin as a share of the box size (each side grows by ratio × width or height) or in pixels. */
export const Margin = z.union([
  z.strictObject({
    ratio: z
      .number()
      .min(0)
      .max(5)
      .describe("Each side of the vehicle's box grows by ratio × its width or height (0 to 5)."),
  }),
  z.strictObject({
    px: z.number().min(0).describe("Each side of the vehicle's box grows by this many pixels."),
  }),
]);
export type Margin = z.infer<typeof Margin>;

export const ProximityConfig = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe('The person-near-vehicle rule (person_near_forklift). Default: true.'),
  personLabels: z
    .array(z.string().min(1))
    .min(1)
    .default(['person'])
    .describe('Site labels that count as persons. Default: [person].'),
  vehicleLabels: z
    .array(z.string().min(1))
    .min(1)
    .default(['forklift'])
    .describe('Site labels that count as vehicles. Default: [forklift].'),
  margin: Margin.default({ ratio: 0.25 }).describe(
    "How far around a vehicle's box a person is near: { ratio } of the box size or { px }. Default: { ratio: 0.25 }.",
  ),
  cooldownS: z
    .number()
    .min(0)
    .default(10)
    .describe(
      'After an event of a person-vehicle pair ends, no new one for that pair within this many seconds. Default: 10.',
    ),
  clearS: z
    .number()
    .min(0)
    .default(1)
    .describe(
      'Seconds the person must be outside the margin before the event ends (no flapping at the edge). Default: 1.',
    ),
  severity: z
    .strictObject({
      high: z
        .number()
        .min(0)
        .max(1)
        .default(0.33)
        .describe('Inside the box or within this share of the margin: high. Default: 0.33.'),
      medium: z
        .number()
        .min(0)
        .max(1)
        .default(0.67)
        .describe('Within this share of the margin: medium; else low. Default: 0.67.'),
    })
    .default({ high: 0.33, medium: 0.67 })
    .describe("Severity from the foot point's distance to the vehicle's box, as a share of the margin."),
});
export type ProximityConfig = z.infer<typeof ProximityConfig>;
export type ProximityConfigInput = z.input<typeof ProximityConfig>;

/**
 * The fields a camera gains (CameraConfig extends with these). `priority` is the camera's weight when the
 * cameras sharing a model compete for its workers: weight 2 gets twice the inferences of weight 1.
 */
export const cameraSafetyShape = {
  zones: z
    .array(ZoneConfig)
    .default([])
    .describe('Zones: polygons in source pixels that rules watch. Default: none.'),
  rules: z
    .array(ZoneRule)
    .default([])
    .describe('Zone rules, per zone and labels: enter, leave, dwell (dwellS) or count (max). Default: none.'),
  proximity: ProximityConfig.prefault({}).describe(
    'The person-near-forklift rule: a person within a margin around a vehicle. On by default.',
  ),
  tracking: TrackingConfig.prefault({}).describe(
    'Track ids in detections, with ByteTrack thresholds. On by default.',
  ),
  motion: MotionConfig.prefault({}).describe(
    'Motion gating: infer at full rate on motion, at heartbeatFps when still. Off by default.',
  ),
  priority: z
    .number()
    .positive()
    .max(100)
    .default(1)
    .describe(
      "The camera's share of a shared model's workers at saturation: 2 gets twice the inferences of 1 (at most 100). Default: 1.",
    ),
};
export const CameraSafetyConfig = z.strictObject(cameraSafetyShape);
export type CameraSafetyConfig = z.infer<typeof CameraSafetyConfig>;
export type CameraSafetyConfigInput = z.input<typeof CameraSafetyConfig>;

/** Top-level `safety`: where event snapshots go and how long they are kept. */
export const SafetyConfig = z.strictObject({
  snapshots: z
    .strictObject({
      enabled: z
        .boolean()
        .default(true)
        .describe('Keep a JPEG of the frame that started each event. Default: true.'),
      dir: z
        .string()
        .min(1)
        .default('snapshots')
        .describe('Where snapshots go; relative: to dataDir. Default: snapshots.'),
      maxCount: z
        .number()
        .int()
        .positive()
        .default(1000)
        .describe('Snapshots kept at most; the oldest go first when a bound is hit. Default: 1000.'),
      maxMiB: z
        .number()
        .positive()
        .default(200)
        .describe('Total size of the snapshots kept, MiB. Default: 200.'),
      maxAgeHours: z
        .number()
        .positive()
        .default(72)
        .describe('Snapshots older than this many hours are removed. Default: 72.'),
      quality: z
        .number()
        .int()
        .min(30)
        .max(100)
        .default(80)
        .describe('JPEG quality, 30 to 100. Default: 80.'),
    })
    .default({ enabled: true, dir: 'snapshots', maxCount: 1000, maxMiB: 200, maxAgeHours: 72, quality: 80 })
    .describe('Event snapshots: where they go and how many are kept.'),
});
export type SafetyConfig = z.infer<typeof SafetyConfig>;

/** Checks across a camera's safety fields (for crossReferenceIssues in config/schema.ts). */
export function cameraSafetyIssues(camera: {
  zones?: unknown;
  rules?: unknown;
}): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const zones = Array.isArray(camera.zones) ? (camera.zones as { id?: unknown }[]) : [];
  const ids = new Set<unknown>();
  zones.forEach((zone, i) => {
    if (ids.has(zone?.id))
      issues.push({ path: ['zones', i, 'id'], message: `duplicate zone id "${String(zone?.id)}"` });
    ids.add(zone?.id);
  });
  const rules = Array.isArray(camera.rules)
    ? (camera.rules as { zone?: unknown; id?: unknown; type?: unknown }[])
    : [];
  const ruleIds = new Set<string>();
  rules.forEach((rule, i) => {
    if (!rule || typeof rule !== 'object') return;
    if (typeof rule.zone === 'string' && !ids.has(rule.zone)) {
      issues.push({
        path: ['rules', i, 'zone'],
        message: `unknown zone "${rule.zone}" (defined: ${[...ids].map(String).join(', ') || 'none'})`,
      });
    }
    const id = typeof rule.id === 'string' ? rule.id : `${String(rule.zone)}-${String(rule.type)}`;
    if (ruleIds.has(id))
      issues.push({ path: ['rules', i, 'id'], message: `duplicate rule id "${id}" (set rules[].id)` });
    ruleIds.add(id);
  });
  return issues;
}

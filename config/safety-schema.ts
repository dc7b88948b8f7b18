import { z } from 'zod';

/**
 * Per-camera safety settings (docs/safety.md): tracking, zones and zone rules, the person-near-forklift
 * rule, motion gating and the camera's share of a shared model. Coordinates are source pixels.
 */

const Id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'ids use letters, digits, _ and -');

/** [x, y] in source pixels. */
export const Point = z.tuple([z.number().min(0), z.number().min(0)]);
export type Point = z.infer<typeof Point>;

/** A simple polygon, at least three points, closed implicitly. */
export const Polygon = z.array(Point).min(3, 'a polygon needs at least three points');
export type Polygon = z.infer<typeof Polygon>;

export const ZoneConfig = z.strictObject({
  id: Id,
  name: z.string().optional(),
  polygon: Polygon,
  /** A track is in (or out) once its foot point has been on that side on this many frames in a row. */
  confirmFrames: z.number().int().positive().max(30).default(2),
});
export type ZoneConfig = z.infer<typeof ZoneConfig>;

const Labels = z.array(z.string().min(1)).min(1).default(['person']);
const ruleBase = {
  /** Names the rule in events; default `<zone>-<type>`. */
  id: Id.optional(),
  zone: Id,
  /** Site labels the rule watches (after the model's label map). */
  labels: Labels,
};

export const ZoneRule = z.discriminatedUnion('type', [
  /** An event from the moment a track's foot point enters the zone until it leaves. */
  z.strictObject({ ...ruleBase, type: z.literal('enter') }),
  /** A one-off event when a track's foot point leaves the zone. */
  z.strictObject({ ...ruleBase, type: z.literal('leave') }),
  /** An event once a track has been inside longer than `dwellS`, until it leaves. */
  z.strictObject({ ...ruleBase, type: z.literal('dwell'), dwellS: z.number().positive() }),
  /** An event while more than `max` tracks are inside. */
  z.strictObject({ ...ruleBase, type: z.literal('count'), max: z.number().int().nonnegative() }),
]);
export type ZoneRule = z.infer<typeof ZoneRule>;
export type ZoneRuleInput = z.input<typeof ZoneRule>;

/** A margin as a share of the box size (each side grows by ratio × width or height) or in pixels. */
export const Margin = z.union([
  z.strictObject({ ratio: z.number().min(0).max(5) }),
  z.strictObject({ px: z.number().min(0) }),
]);
export type Margin = z.infer<typeof Margin>;

export const ProximityConfig = z.strictObject({
  enabled: z.boolean().default(true),
  personLabels: z.array(z.string().min(1)).min(1).default(['person']),
  vehicleLabels: z.array(z.string().min(1)).min(1).default(['forklift']),
  margin: Margin.default({ ratio: 0.25 }),
  /** After an event of a person-vehicle pair ends, no new one for that pair within this time. */
  cooldownS: z.number().min(0).default(10),
  /** The person must be outside the margin this long before the event ends (no flapping at the edge). */
  clearS: z.number().min(0).default(1),
  /**
   * Severity from the foot point's distance to the vehicle's box, as a share of the margin: inside the box
   * or within `high` × margin is high, within `medium` × margin medium, else low.
   */
  severity: z
    .strictObject({
      high: z.number().min(0).max(1).default(0.33),
      medium: z.number().min(0).max(1).default(0.67),
    })
    .default({ high: 0.33, medium: 0.67 }),
});
export type ProximityConfig = z.infer<typeof ProximityConfig>;
export type ProximityConfigInput = z.input<typeof ProximityConfig>;

export const TrackingConfig = z.strictObject({
  enabled: z.boolean().default(true),
  /** ByteTrack's two score bands: high detections start and keep tracks, low ones only keep them. */
  highScore: z.number().min(0).max(1).default(0.5),
  lowScore: z.number().min(0).max(1).default(0.1),
  /** A new track starts only from a detection at least this sure. */
  newTrackScore: z.number().min(0).max(1).default(0.6),
  /** Minimum IoU with the predicted box for a match (first and second stage). */
  matchIou: z.number().gt(0).max(1).default(0.2),
  lowMatchIou: z.number().gt(0).max(1).default(0.5),
  /** Consecutive hits before a new track is reported (except on the very first frame). */
  minHits: z.number().int().positive().default(2),
  /** A lost track is forgotten once unseen this long and for at least `lostMinMisses` processed frames. */
  lostTtlS: z.number().positive().default(2),
  lostMinMisses: z.number().int().positive().default(3),
});
export type TrackingConfig = z.infer<typeof TrackingConfig>;
export type TrackingConfigInput = z.input<typeof TrackingConfig>;

export const MotionConfig = z.strictObject({
  /** Off: every frame goes to inference. */
  enabled: z.boolean().default(false),
  /** Width of the grey frame the detector works on (the height follows the aspect ratio). */
  width: z.number().int().min(16).max(640).default(160),
  /**
   * Time constant of the running-average background, seconds. Motion is a difference from it, so an object
   * that stops (a person standing, a parked forklift) fades into it in about twice this and the camera
   * falls back to the heartbeat; a walker keeps changing pixels at its leading edge.
   */
  backgroundS: z.number().gt(0).max(600).default(0.5),
  /** Grey-level difference from the background above which a pixel counts as changed. */
  pixelThreshold: z.number().int().min(1).max(255).default(20),
  /** Side of a cell in grey-frame pixels. */
  cellSize: z.number().int().min(2).max(64).default(8),
  /** Share of changed pixels that makes a cell moving. */
  cellThreshold: z.number().gt(0).max(1).default(0.08),
  /** Moving cells needed for the frame to count as moving. */
  minCells: z.number().int().positive().default(1),
  /** A changed share above this is a lighting change or a camera move: infer, and relearn the background. */
  globalChange: z.number().gt(0).max(1).default(0.6),
  /** Inferences per second in a still scene (objects standing still must stay tracked). */
  heartbeatFps: z.number().positive().max(30).default(1),
  /** Full rate continues this long after the last motion. */
  holdS: z.number().min(0).default(1),
  /** Regions (source pixels) whose motion is ignored: trees, screens, a road outside the site. */
  masks: z.array(Polygon).default([]),
});
export type MotionConfig = z.infer<typeof MotionConfig>;
export type MotionConfigInput = z.input<typeof MotionConfig>;

/**
 * The fields a camera gains (CameraConfig extends with these). `priority` is the camera's weight when the
 * cameras sharing a model compete for its workers: weight 2 gets twice the inferences of weight 1.
 */
export const cameraSafetyShape = {
  zones: z.array(ZoneConfig).default([]),
  rules: z.array(ZoneRule).default([]),
  proximity: ProximityConfig.prefault({}),
  tracking: TrackingConfig.prefault({}),
  motion: MotionConfig.prefault({}),
  priority: z.number().positive().max(100).default(1),
};
export const CameraSafetyConfig = z.strictObject(cameraSafetyShape);
export type CameraSafetyConfig = z.infer<typeof CameraSafetyConfig>;
export type CameraSafetyConfigInput = z.input<typeof CameraSafetyConfig>;

/** Top-level `safety`: where event snapshots go and how long they are kept. */
export const SafetyConfig = z.strictObject({
  snapshots: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Relative: to dataDir. */
      dir: z.string().min(1).default('snapshots'),
      maxCount: z.number().int().positive().default(1000),
      maxMiB: z.number().positive().default(200),
      maxAgeHours: z.number().positive().default(72),
      quality: z.number().int().min(30).max(100).default(80),
    })
    .default({ enabled: true, dir: 'snapshots', maxCount: 1000, maxMiB: 200, maxAgeHours: 72, quality: 80 }),
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

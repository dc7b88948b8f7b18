import { z } from 'zod';
import { CameraPm25 } from './status-pm25-schema.js';

export * from './status-pm25-schema.js';

/**
 * `GET /api/status` and the `status` event of `GET /api/events` (docs/http.md): everything the local page
 * shows, built by status-model.ts. Never a credential: sources and broker URLs are redacted.
 * PM2.5, drift and fleet are optional: absent means "not configured" (or not running yet).
 */

const EpochMs = z.number().int().nonnegative();
const Count = z.number().int().nonnegative();
const NonNeg = z.number().nonnegative();

export const cameraStateNames = ['connecting', 'streaming', 'stalled', 'failed', 'stopped'] as const;

export const CameraDrift = z.strictObject({
  state: z.enum(['ok', 'warn', 'alarm']),
  since: EpochMs,
  score: z.number().nullable(),
  /** The statistics that moved most, in words a person can follow. */
  drivers: z.array(z.string()),
  ts: EpochMs,
});
export type CameraDrift = z.infer<typeof CameraDrift>;

/** A configured zone (docs/safety.md) as the page draws it over the camera's snapshot. */
export const CameraZone = z.strictObject({
  id: z.string(),
  name: z.string().optional(),
  /** As configured: [x, y] in source pixels. */
  polygon: z.array(z.tuple([z.number(), z.number()])),
  /** The same points in the snapshot's pixels (through the letterbox); null before the first frame. */
  snapshotPolygon: z.array(z.tuple([z.number(), z.number()])).nullable(),
  /** Tracks whose foot point is inside now; null when the camera has no safety chain (tracking off). */
  occupancy: z.strictObject({ count: Count, trackIds: z.array(Count) }).nullable(),
});
export type CameraZone = z.infer<typeof CameraZone>;

/** The latest message of a recent safety event (the camera's `events` topic, docs/mqtt.md). */
export const SafetyEventSummary = z.strictObject({
  eventId: z.string(),
  camera: z.string(),
  type: z.string(),
  /** The latest phase seen: `start`/`update` while it lasts, `end` or `instant` once over. */
  phase: z.enum(['start', 'update', 'end', 'instant']),
  start: EpochMs,
  end: EpochMs.nullable(),
  /** Scene time of the latest message. */
  ts: EpochMs,
  trackIds: z.array(Count),
  labels: z.array(z.string()),
  zone: z.string().optional(),
  rule: z.string().optional(),
  severity: z.string().optional(),
  endReason: z.string().optional(),
  /** `/api/events/<eventId>/snapshot.jpg`, or null when snapshots are off. */
  snapshot: z.string().nullable(),
});
export type SafetyEventSummary = z.infer<typeof SafetyEventSummary>;

export const CameraStatus = z.strictObject({
  id: z.string(),
  name: z.string().optional(),
  /** The source with any user and password replaced by `***`. */
  source: z.string(),
  model: z.string(),
  state: z.strictObject({
    state: z.enum(cameraStateNames),
    reason: z.string().optional(),
    since: EpochMs,
  }),
  fps: z.strictObject({ input: NonNeg, processed: NonNeg, configured: NonNeg.nullable() }),
  frames: z.strictObject({
    in: Count,
    processed: Count,
    dropped: Count,
    inferenceErrors: Count,
    /** Frames the motion gate let pass without inference (a still scene between heartbeats). */
    gated: Count,
  }),
  inference: z.strictObject({ lastMs: NonNeg, provider: z.string().nullable() }),
  /** Epoch ms of the last frame read from the source; null before the first. */
  lastFrameAt: EpochMs.nullable(),
  /** The latest processed frame; fetch `url` for its annotated JPEG. Null before the first. */
  snapshot: z
    .strictObject({
      frameNo: Count,
      ts: EpochMs,
      url: z.string(),
      /** The JPEG's size in pixels: the coordinate space of `zones[].snapshotPolygon`. */
      width: Count,
      height: Count,
    })
    .nullable(),
  /** Configured zones (empty when none). */
  zones: z.array(CameraZone),
  detections: z.strictObject({
    /** Detections in the latest processed frame. */
    last: Count,
    /** Per label over the last `windowS` seconds, most frequent first: detections in all, the most in one
     * frame, and the mean per processed frame (about how many are in view). */
    recent: z.array(z.strictObject({ label: z.string(), count: Count, max: Count, perFrame: NonNeg })),
    windowS: z.number().int().positive(),
  }),
  pm25: CameraPm25.optional(),
  /** PM2.5 is configured for this camera but no window has been reported yet. */
  pm25Waiting: z.literal(true).optional(),
  drift: CameraDrift.optional(),
  /** Drift is configured but has no summary for this camera yet (no frame processed so far). */
  driftWaiting: z.literal(true).optional(),
});
export type CameraStatus = z.infer<typeof CameraStatus>;

export const ModelStatus = z.strictObject({
  id: z.string(),
  family: z.string(),
  provider: z.string(),
  /** Providers tried first and refused, with why. */
  refused: z.array(z.strictObject({ provider: z.string(), reason: z.string() })),
  workers: Count,
  input: z.strictObject({ width: Count, height: Count }),
});

export const MqttStatus = z.strictObject({
  configured: z.boolean(),
  url: z.string().optional(),
  state: z.enum(['connecting', 'connected', 'disconnected', 'stopped']).optional(),
  since: EpochMs.optional(),
  lastError: z.strictObject({ message: z.string(), at: EpochMs }).optional(),
  published: Count.optional(),
  acked: Count.optional(),
  rejected: Count.optional(),
  connects: Count.optional(),
  inflight: Count.optional(),
  latencyMs: z.strictObject({ last: NonNeg, avg: NonNeg }).optional(),
});

export const OutboxStatus = z.strictObject({
  rows: Count,
  bytes: Count,
  oldestAgeMs: NonNeg,
  /** Messages dropped by reason since the counts were last reported. */
  drops: z.record(z.string(), Count),
});

export const HealthStatus = z.strictObject({
  /** When the slow parts (CPU, memory, disk, temperature, GPU) were last sampled; null before the first. */
  sampledAt: EpochMs.nullable(),
  cpuPercent: NonNeg.nullable(),
  load1: NonNeg,
  cores: Count,
  memory: z.strictObject({ usedBytes: NonNeg, totalBytes: NonNeg }).nullable(),
  /** The filesystem holding the data dir (outbox). */
  disk: z.strictObject({ path: z.string(), usedBytes: NonNeg, totalBytes: NonNeg }).nullable(),
  temperatureC: z.number().nullable(),
  gpu: z
    .strictObject({
      loadPercent: NonNeg,
      name: z.string(),
      source: z.enum(['jetson-sysfs', 'systeminformation']),
    })
    .nullable(),
  process: z.strictObject({ rssBytes: NonNeg, cpuPercent: NonNeg }),
  eventLoopLagMs: z.strictObject({ p50: NonNeg, p99: NonNeg, max: NonNeg }),
});
export type HealthStatus = z.infer<typeof HealthStatus>;

export const FleetStatus = z.strictObject({
  lastPush: z
    .strictObject({
      at: EpochMs,
      result: z.enum(['applied', 'rejected', 'failed', 'rolled-back']),
      revision: z.string().optional(),
      message: z.string().optional(),
    })
    .nullable(),
});

export const RecentError = z.strictObject({
  at: EpochMs,
  source: z.enum(['camera', 'inference', 'mqtt', 'outbox', 'api']),
  camera: z.string().optional(),
  message: z.string(),
  /** Repeats of the same message in a row, folded into one entry. */
  count: z.number().int().positive(),
});
export type RecentError = z.infer<typeof RecentError>;

export const StatusPayload = z.strictObject({
  schema: z.literal(1),
  ts: EpochMs,
  site: z.string(),
  device: z.string(),
  version: z.string(),
  startedAt: EpochMs,
  uptimeS: NonNeg,
  /** Overall: `ok` every camera streaming; `degraded` some not; `down` none. */
  overall: z.enum(['ok', 'degraded', 'down']),
  config: z.strictObject({
    /** Short hash of the running config (secrets left out); the fleet's revision once it manages the box. */
    revision: z.string(),
    source: z.enum(['local', 'fleet']),
  }),
  fleet: FleetStatus.optional(),
  cameras: z.array(CameraStatus),
  models: z.array(ModelStatus),
  mqtt: MqttStatus,
  outbox: OutboxStatus,
  health: HealthStatus,
  /** Newest first, at most 50. */
  errors: z.array(RecentError),
  /** Safety events seen since the page service started, the most recently changed first, at most 20. */
  safetyEvents: z.array(SafetyEventSummary),
});
export type StatusPayload = z.infer<typeof StatusPayload>;

/** The JSON Schema served at `/api/status/schema.json` and quoted in docs/http.md. */
export const statusJsonSchema = () => z.toJSONSchema(StatusPayload);

/** The `snapshot` event of `GET /api/events`: one camera's latest annotated frame, pushed about once a second. */
export const SnapshotEvent = z.strictObject({
  camera: z.string(),
  /** The processed frame it shows (`cameras[].frames`' numbering), rising. */
  frameNo: Count,
  /** Capture time of that frame. */
  ts: EpochMs,
  /** The JPEG's size in pixels (the model's scaled source region, letterbox bars cut off). */
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** The JPEG itself, base64. */
  jpeg: z.string().regex(/^[A-Za-z0-9+/]+=*$/),
});
export type SnapshotEvent = z.infer<typeof SnapshotEvent>;

import { z } from 'zod';
import { Pm25CameraConfig } from './pm25-schema.js';
import { defaultPm25Levels, Pm25Levels } from './pm25-levels-schema.js';
import { FleetConfig } from './fleet-schema.js';
import { DriftConfig } from './drift-schema.js';
import { cameraSafetyIssues, cameraSafetyShape, SafetyConfig } from './safety-schema.js';
import { CameraDetectConfig, ModelSessionConfig } from './detect-schema.js';
import { redactUrl } from './redact-url.js';
import { MqttConfig } from './mqtt-schema.js';

export { MqttConfig } from './mqtt-schema.js';

/** Execution providers Vigil knows how to ask onnxruntime for, in the order a box usually prefers. */
export const providerNames = ['tensorrt', 'cuda', 'cpu'] as const;
export const ProviderName = z.enum(providerNames);
export type ProviderName = z.infer<typeof ProviderName>;

/** Detector families with a decoder in models/detect/decoders (explicit registry there). */
export const modelFamilies = ['yolov8', 'yolov5', 'end2end', 'yolox'] as const;
export const ModelFamily = z.enum(modelFamilies);
export type ModelFamily = z.infer<typeof ModelFamily>;

const sourceSchemes = ['rtsp:', 'rtsps:', 'http:', 'https:', 'file:'] as const;

/** A camera source: rtsp://, http(s)://, file:// or a plain path, or a /dev/video* device. */
export const SourceUrl = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    if (value.startsWith('/dev/video')) return;
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return; // a plain file path
    let scheme: string;
    try {
      scheme = new URL(value).protocol;
    } catch {
      ctx.addIssue({ code: 'custom', message: `not a valid URL: ${redactUrl(value)}` });
      return;
    }
    if (!(sourceSchemes as readonly string[]).includes(scheme)) {
      ctx.addIssue({
        code: 'custom',
        message: `unsupported source scheme "${scheme}" (expected rtsp://, rtsps://, http(s)://, file://, a path or /dev/video*)`,
      });
    }
  });

const Seconds = z.number().positive();

export const CameraConfig = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'camera ids use letters, digits, _ and - (MQTT topic safe)'),
  name: z.string().optional(),
  source: SourceUrl,
  /** Frames per second handed to inference; the source's own rate when omitted. */
  fps: z.number().positive().max(120).optional(),
  model: z.string().min(1),
  enabled: z.boolean().default(true),
  /** File sources: start again at the end. */
  loop: z.boolean().default(false),
  /** File sources: read at the file's own frame rate (true) or as fast as inference takes them (false). */
  realtime: z.boolean().default(true),
  /** ffmpeg hardware decode preset. */
  hwaccel: z.enum(['none', 'jetson', 'cuda', 'vaapi']).default('none'),
  /** Restart the camera when no frame arrived for this long. */
  stallTimeoutS: Seconds.default(10),
  /** Seconds to wait for the first frame after (re)connecting. */
  connectTimeoutS: Seconds.default(20),
  /** Consecutive failed starts after which the camera is reported `failed` (it keeps retrying slowly). */
  failAfterAttempts: z.number().int().positive().default(5),
  /** PM2.5 visual estimate for this camera's view (docs/pm25.md). */
  pm25: Pm25CameraConfig.optional(),
  /** Ignore masks applied to this camera's detections (config/detect-schema.ts, docs/models.md). */
  detect: CameraDetectConfig.optional(),
  /** Tracking, zones and rules, proximity, motion gating and `priority` (config/safety-schema.ts, docs/safety.md). */
  ...cameraSafetyShape,
});
export type CameraConfig = z.infer<typeof CameraConfig>;

export const ClassPolicy = z.strictObject({
  confidence: z.number().min(0).max(1).optional(),
  /** Smallest box kept, in source pixels² (drops far-off specks and noise). */
  minArea: z.number().nonnegative().optional(),
});

/** TensorRT provider options (passed on by the patched Jetson binding only, see docs/jetson.md). */
export const TensorRtConfig = z.strictObject({
  fp16: z.boolean().default(true),
  /** Built engines are cached here (relative: to dataDir); default <dataDir>/tensorrt. */
  engineCacheDir: z.string().min(1).optional(),
  /** Default: the engine cache dir. */
  timingCacheDir: z.string().min(1).optional(),
  /** Builder workspace limit; TensorRT's default (device memory) when omitted. */
  workspaceMiB: z.number().int().positive().optional(),
});
export type TensorRtConfig = z.infer<typeof TensorRtConfig>;

export const ModelConfig = z.strictObject({
  path: z.string().min(1),
  /** The file must hash to this (models/manifest.json has them): a truncated or altered file is refused. */
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, '64 hex digits')
    .optional(),
  /** Detected from the model's outputs when omitted. */
  family: ModelFamily.optional(),
  /** Input size [width, height]: needed for dynamic-shape models, otherwise read from the model. */
  inputSize: z.tuple([z.number().int().positive(), z.number().int().positive()]).optional(),
  /** Class names; the model's own metadata is used when absent, COCO for YOLOX. */
  classNames: z.array(z.string()).optional(),
  providers: z.array(ProviderName).min(1).default(['tensorrt', 'cuda', 'cpu']),
  tensorrt: TensorRtConfig.optional(),
  /** GPU index for the cuda and tensorrt providers (default 0). */
  cudaDeviceId: z.number().int().nonnegative().optional(),
  /** Inference worker threads for this model; default: the core count divided by intraOpThreads. */
  workers: z.number().int().positive().max(64).optional(),
  intraOpThreads: z.number().int().positive().max(64).default(1),
  /** onnxruntime session options beyond threads (config/detect-schema.ts). */
  session: ModelSessionConfig.optional(),
  confidence: z.number().min(0).max(1).default(0.25),
  iou: z.number().min(0).max(1).default(0.45),
  /** Per model-class overrides, keyed by the model's class name. */
  classes: z.record(z.string(), ClassPolicy).default({}),
  /** Model class name -> site label. Classes not listed keep their model name unless `onlyMapped`. */
  labels: z.record(z.string(), z.string()).default({}),
  /** Drop detections whose class is not in `labels`. */
  onlyMapped: z.boolean().default(false),
});
export type ModelConfig = z.infer<typeof ModelConfig>;

export const OutboxConfig = z.strictObject({
  maxRows: z.number().int().positive().default(200_000),
  maxBytes: z
    .number()
    .int()
    .positive()
    .default(512 * 1024 * 1024),
  maxAgeHours: z.number().positive().default(72),
  /**
   * Free space to leave on the outbox's disk: below it the database file stops growing, new messages take
   * the place of the oldest (docs/adr/0007-outbox-free-space-margin.md). 0: off.
   */
  minFreeMiB: z.number().nonnegative().default(64),
  /** FULL: a commit survives a power cut, not only a crash (docs/adr/0003-outbox-synchronous.md). */
  synchronous: z.enum(['OFF', 'NORMAL', 'FULL', 'EXTRA']).default('FULL'),
  /** After a (re)connect, rows older than the connection go out at most this fast; newer ones at once. */
  drainRatePerS: z.number().positive().default(100),
});
export type OutboxConfig = z.infer<typeof OutboxConfig>;

/** Status page login (docs/http.md): a bearer token, a user with a scrypt password hash, or both. */
export const HttpAuthConfig = z
  .strictObject({
    /** Long and random (`openssl rand -hex 24`); usually `${VIGIL_HTTP_TOKEN}` from the environment. */
    token: z.string().min(16, 'an HTTP token needs at least 16 characters').optional(),
    user: z.string().min(1).optional(),
    /** `scrypt:N:r:p:<salt base64>:<key base64>`, as `vigil hash-password` makes it. */
    passwordHash: z
      .string()
      .regex(/^scrypt:\d+:\d+:\d+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/, 'expected scrypt:N:r:p:salt:key')
      .optional(),
  })
  .refine((a) => Boolean(a.user) === Boolean(a.passwordHash), 'user and passwordHash go together')
  .refine((a) => a.token || a.user, 'give a token, or a user and passwordHash');
export type HttpAuthConfig = z.infer<typeof HttpAuthConfig>;

export const HttpConfig = z.strictObject({
  enabled: z.boolean().default(true),
  /** Not empty: Node takes "" as every address, IPv6 too, the opposite of what a blank meant. */
  host: z.string().min(1).default('0.0.0.0'),
  port: z.number().int().min(0).max(65535).default(8080),
  /** An upload to /api/detect must arrive whole within this, or it gets 408 (Node ends any request at 60 s). */
  uploadTimeoutS: z.number().positive().max(60).default(10),
  /** Absent: the page and API are open to the local network (health probes always are). */
  auth: HttpAuthConfig.optional(),
  /** Names and colours the page gives PM2.5 estimates; default: the US EPA AQI categories (2024). */
  pm25Levels: Pm25Levels.default(defaultPm25Levels),
});
export type HttpConfig = z.infer<typeof HttpConfig>;

export const VigilConfig = z
  .strictObject({
    site: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'site ids use letters, digits, _ and -'),
    device: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'device ids use letters, digits, _ and -'),
    /** Not empty: an unset `${VAR:-}` would put the outbox in whatever directory vigil started in. */
    dataDir: z.string().min(1).default('./data'),
    logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    /** Absent: no broker; results stay in the outbox until one is configured. */
    mqtt: MqttConfig.optional(),
    outbox: OutboxConfig.prefault({}),
    http: HttpConfig.prefault({}),
    models: z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), ModelConfig),
    cameras: z.array(CameraConfig).min(1),
    fleet: FleetConfig.optional(),
    /** Event snapshots (docs/safety.md); defaults apply when absent. */
    safety: SafetyConfig.optional(),
    /** Drift statistics per camera and model (docs/drift.md); off when absent. */
    drift: DriftConfig.optional(),
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

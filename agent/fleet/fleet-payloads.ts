import { z } from 'zod';

const EpochMs = z.number().int().nonnegative();

/** Settings a box can only take on at its next start (docs/fleet.md: "Transport changes"). */
export const RestartSection = z.enum(['mqtt', 'http', 'outbox', 'logLevel']);
export type RestartSection = z.infer<typeof RestartSection>;

/** `<base>/<site>/<device>/config/result`, retained: what became of the latest document this box received. */
export const ConfigResultPayload = z.strictObject({
  id: z.string().min(1),
  site: z.string(),
  device: z.string(),
  /** The document's revision; null when the document could not be read far enough to know it. */
  revision: z.number().int().nullable(),
  /**
   * sha256 (hex) of the document's signed fields (documentDigest): which document this answers, so that
   * `vigil fleet push` does not take the answer to another document of the same revision for its own.
   * Absent when the document could not be read far enough.
   */
  digest: z.string().optional(),
  status: z.enum(['applied', 'rejected', 'rolled_back']),
  /** Why it was rejected or rolled back, one reason per entry; empty when applied. */
  errors: z.array(z.string()),
  /** What the document changed (`cameras.dock: added`, `cameras.gate: fps`, `models.det: replaced`, …). */
  changed: z.array(z.string()),
  /**
   * Applied, but something still does not work: a model failing since start-up that the document left as it
   * was (its cameras wait for its retry). One line per model; absent when there is nothing to say.
   */
  warnings: z.array(z.string()).min(1).optional(),
  /** Sections persisted but not yet in effect: they apply at the next restart. */
  restartRequired: z.array(RestartSection).optional(),
  /** The revision the box runs after this (the previous one after a rejection or a rollback). */
  running: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative().optional(),
  ts: EpochMs,
});
export type ConfigResultPayload = z.infer<typeof ConfigResultPayload>;

/** `<base>/<site>/<device>/config/state`, retained: the running revision, for `vigil fleet push` and dashboards. */
export const FleetStatePayload = z.strictObject({
  site: z.string(),
  device: z.string(),
  groups: z.array(z.string()),
  revision: z.number().int().nonnegative(),
  /** `file`: the local bootstrap config; `fleet`: a pushed one. */
  source: z.enum(['file', 'fleet']),
  target: z.string().optional(),
  appliedAt: EpochMs.optional(),
  /** documentDigest() of the pushed document that runs (source `fleet`): the same revision re-signed differs. */
  digest: z.string().optional(),
  /** Ids of the fleet keys this box trusts. */
  keyIds: z.array(z.string()),
  restartRequired: z.array(RestartSection).optional(),
  ts: EpochMs,
});
export type FleetStatePayload = z.infer<typeof FleetStatePayload>;

export const LabelAgreement = z.strictObject({
  /** Boxes both models found (same label, IoU ≥ the trial's threshold). */
  matched: z.number().int().nonnegative(),
  /** Candidate boxes the current model did not have. */
  candidateOnly: z.number().int().nonnegative(),
  /** Current boxes the candidate missed. */
  currentOnly: z.number().int().nonnegative(),
  /** Of the candidate against the current model: matched / (matched + candidateOnly); null with no candidate box. */
  precision: z.number().min(0).max(1).nullable(),
  /** matched / (matched + currentOnly); null with no current box. */
  recall: z.number().min(0).max(1).nullable(),
});
export type LabelAgreement = z.infer<typeof LabelAgreement>;

const Latency = z.strictObject({
  n: z.number().int().nonnegative(),
  mean: z.number().nonnegative(),
  p50: z.number().nonnegative(),
  p95: z.number().nonnegative(),
});

/** `<base>/<site>/<device>/config/shadow`, retained: how a candidate model agrees with the current one. */
export const ShadowReportPayload = z.strictObject({
  site: z.string(),
  device: z.string(),
  revision: z.number().int().nonnegative(),
  candidate: z.string(),
  /** Frames both models saw since the trial began. */
  frames: z.number().int().nonnegative(),
  /** Frames the candidate skipped because its previous frame was still running. */
  skipped: z.number().int().nonnegative(),
  /** Frames where the two models agreed on every box. */
  agreedFrames: z.number().int().nonnegative(),
  overall: LabelAgreement,
  labels: z.record(z.string(), LabelAgreement),
  /** Inference time of each model on the shared frames, ms. */
  latencyMs: z.strictObject({ current: Latency, candidate: Latency }),
  since: EpochMs,
  ts: EpochMs,
});
export type ShadowReportPayload = z.infer<typeof ShadowReportPayload>;

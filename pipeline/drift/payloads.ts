import { z } from 'zod';
import { driftStates } from './drift-state.js';
import type { DriftReport } from './drift-window.js';
import { DriftProfile } from './profile.js';
import { referenceSources, windowStatuses } from './drift-records.js';
import { binsVersion } from './statistics.js';

/**
 * The drift messages (docs/drift.md): `…/cameras/<camera>/drift` once per window (QoS 1, through the
 * outbox) and the retained `…/cameras/<camera>/drift/summary`.
 */

const EpochMs = z.number().int();
const DriftState = z.enum(driftStates);

export const StatScorePayload = z.strictObject({
  name: z.string(),
  n: z.number().nonnegative(),
  refN: z.number().nonnegative(),
  psi: z.number().nullable(),
  ks: z.strictObject({ d: z.number().min(0).max(1), p: z.number().min(0).max(1) }).nullable(),
  chi2: z
    .strictObject({
      statistic: z.number().nonnegative(),
      df: z.number().int().positive(),
      p: z.number().min(0).max(1),
    })
    .nullable(),
  significant: z.boolean(),
  /** May drive the state (config `driveWith`). */
  drives: z.boolean(),
  skipped: z.enum(['few-samples', 'bins-differ']).optional(),
});

export const ReferencePayload = z.strictObject({
  id: z.number().int(),
  source: z.enum(referenceSources),
  from: EpochMs,
  to: EpochMs,
  windows: z.number().int().nonnegative(),
  createdAt: EpochMs,
  origin: z.string().optional(),
});

const Window = z.strictObject({
  start: EpochMs,
  end: EpochMs,
  frames: z.number().int().nonnegative(),
  imageFrames: z.number().int().nonnegative(),
});

/** `…/cameras/<camera>/drift`: one closed window. */
export const DriftPayload = z.strictObject({
  /** Unique per message: the dedupe key for at-least-once delivery. */
  id: z.string().min(1),
  camera: z.string(),
  model: z.string(),
  configRevision: z.string(),
  /** When the message was made (epoch ms). */
  ts: EpochMs,
  window: Window,
  /** `too-few-samples` and `no-reference` windows leave the state as it was. */
  status: z.enum(windowStatuses),
  state: DriftState,
  previousState: DriftState,
  changed: z.boolean(),
  stateSince: EpochMs,
  score: z.number().nullable(),
  /** Statistics that drive the state, largest PSI first. */
  drivers: z.array(z.string()),
  /** Statistics that do not drive (detections, latency…) but moved past the same bar. */
  moved: z.array(z.string()),
  reference: ReferencePayload.nullable(),
  baseline: z.strictObject({ collectedMs: z.number(), neededMs: z.number(), built: z.boolean() }).nullable(),
  stats: z.array(StatScorePayload),
  binsVersion: z.number().int(),
  /** The window's raw histograms: add them up across windows and devices to aggregate. */
  histograms: DriftProfile,
});
export type DriftPayload = z.infer<typeof DriftPayload>;

/** `…/cameras/<camera>/drift/summary`, retained: the camera's drift state and what drives it. */
export const DriftSummaryPayload = z.strictObject({
  camera: z.string(),
  model: z.string(),
  configRevision: z.string(),
  ts: EpochMs,
  state: DriftState,
  stateSince: EpochMs,
  lastWindow: Window.extend({ status: z.enum(windowStatuses) }),
  score: z.number().nullable(),
  drivers: z.array(z.string()),
  moved: z.array(z.string()),
  /** The largest significant statistics (up to five), for a dashboard. */
  top: z.array(z.strictObject({ name: z.string(), psi: z.number(), p: z.number().min(0).max(1) })),
  reference: ReferencePayload.nullable(),
});
export type DriftSummaryPayload = z.infer<typeof DriftSummaryPayload>;

const r4 = (v: number) => Math.round(v * 1e4) / 1e4;
/** p-values keep three significant digits (they can be tiny, and tiny is the point). */
const sig3 = (v: number) => (v === 0 ? 0 : Number(v.toPrecision(3)));

function referenceOf(report: DriftReport): DriftPayload['reference'] {
  const r = report.reference;
  if (!r) return null;
  return {
    id: r.id,
    source: r.source,
    from: r.from,
    to: r.to,
    windows: r.windows,
    createdAt: r.createdAt,
    ...(r.origin ? { origin: r.origin } : {}),
  };
}

export function driftPayload(report: DriftReport, meta: { id: string; ts: number }): DriftPayload {
  return {
    id: meta.id,
    camera: report.camera,
    model: report.modelId,
    configRevision: report.configRevision,
    ts: meta.ts,
    window: report.window,
    status: report.status,
    state: report.state,
    previousState: report.previous,
    changed: report.changed,
    stateSince: report.stateSince,
    score: report.score === null ? null : r4(report.score),
    drivers: report.drivers,
    moved: report.moved,
    reference: referenceOf(report),
    baseline: report.baseline,
    stats: report.scores.map((s) => ({
      name: s.name,
      n: s.n,
      refN: s.refN,
      psi: s.psi === null ? null : r4(s.psi),
      ks: s.ks ? { d: r4(s.ks.d), p: sig3(s.ks.p) } : null,
      chi2: s.chi2 ? { statistic: r4(s.chi2.statistic), df: s.chi2.df, p: sig3(s.chi2.p) } : null,
      significant: s.significant,
      drives: s.drives,
      ...(s.skipped ? { skipped: s.skipped } : {}),
    })),
    binsVersion,
    histograms: report.profile,
  };
}

/**
 * The retained summary of `report`. A window that was not scored (too few frames, as the short one flushed
 * at stop) leaves the state as it was, so it keeps the explanation (score, drivers, moved, top) of
 * `previous`, the camera's last summary, when that one is of the same model, revision, reference and state:
 * a dashboard must not read `alarm` with nothing that drives it.
 */
export function driftSummaryPayload(
  report: DriftReport,
  ts: number,
  previous?: DriftSummaryPayload,
): DriftSummaryPayload {
  const summary = freshSummary(report, ts);
  const carries =
    report.status !== 'scored' &&
    previous !== undefined &&
    previous.model === summary.model &&
    previous.configRevision === summary.configRevision &&
    previous.reference?.id === summary.reference?.id &&
    previous.state === summary.state;
  if (!carries) return summary;
  const { score, drivers, moved, top } = previous;
  return { ...summary, score, drivers, moved, top };
}

function freshSummary(report: DriftReport, ts: number): DriftSummaryPayload {
  const top = report.scores
    .filter((s) => s.psi !== null && s.significant)
    .sort((a, b) => b.psi! - a.psi!)
    .slice(0, 5)
    .map((s) => ({ name: s.name, psi: r4(s.psi!), p: sig3(s.ks?.p ?? s.chi2?.p ?? 1) }));
  return {
    camera: report.camera,
    model: report.modelId,
    configRevision: report.configRevision,
    ts,
    state: report.state,
    stateSince: report.stateSince,
    lastWindow: { ...report.window, status: report.status },
    score: report.score === null ? null : r4(report.score),
    drivers: report.drivers,
    moved: report.moved,
    top,
    reference: referenceOf(report),
  };
}

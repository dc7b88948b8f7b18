import { z } from 'zod';
import { defaultPm25Levels, type Pm25Level } from '../../config/pm25-levels-schema.js';
import { airLevel } from './air-level.js';
import type { CameraDrift, CameraPm25, Pm25Point, ReferenceTally } from './status-schema.js';

/**
 * What the status page reads from services that land beside it. Each service attaches an object to the
 * agent (`agent.pm25`, `agent.drift`, `agent.fleet`); until one does, the page says "not configured".
 * Their results are read loosely (only the fields shown), so a payload gaining fields breaks nothing.
 */
export interface Pm25Hook {
  /** The latest window result of a camera: a Pm25Payload (models/pm25/payloads.ts), or undefined. */
  latest(camera: string): unknown;
  /** Window results since `sinceMs`, oldest first (kept across restarts by the PM2.5 service). */
  history(camera: string, sinceMs: number): unknown[];
}
export interface DriftHook {
  /** The camera's DriftSummaryPayload (pipeline/drift/payloads.ts), or undefined. */
  summary(camera: string): unknown;
}
export interface FleetHook {
  /** `{ revision?: string, lastPush?: { at, result, revision?, message? } | null }`. */
  status(): unknown;
}
export interface StatusHooks {
  /** The PM2.5 service's `agent.pm25` (a Map of camera → payloads, oldest first) or a Pm25Hook. */
  pm25?: unknown;
  /** The PM2.5 service's `agent.pm25References` (a Map of camera → Pm25ReferenceTally). */
  pm25References?: unknown;
  drift?: unknown;
  fleet?: unknown;
}

/** Hooks attached with attachStatusHooks, per agent (so a service need not add fields to Agent). */
const attached = new WeakMap<object, { drift?: DriftHook; fleet?: FleetHook }>();

/**
 * How the drift and fleet services show on the page without the page importing them: call this from the
 * service's start(), e.g. `attachStatusHooks(agent, { drift: { summary: (id) => this.latest.get(id) } })`.
 */
export function attachStatusHooks(agent: object, hooks: { drift?: DriftHook; fleet?: FleetHook }): void {
  attached.set(agent, { ...attached.get(agent), ...hooks });
}

export function detachStatusHooks(agent: object): void {
  attached.delete(agent);
}

const driftHook = (hooks: StatusHooks): unknown => attached.get(hooks)?.drift ?? hooks.drift;
const fleetHook = (hooks: StatusHooks): unknown => attached.get(hooks)?.fleet ?? hooks.fleet;

/** `agent.pm25` as the PM2.5 service fills it (camera → windows, oldest first), read as a Pm25Hook. */
function pm25Hook(value: unknown): Pm25Hook | undefined {
  if (value instanceof Map) {
    const windows = (camera: string): unknown[] => {
      const list: unknown = value.get(camera);
      return Array.isArray(list) ? (list as unknown[]) : [];
    };
    return { latest: (camera) => windows(camera).at(-1), history: (camera) => windows(camera) };
  }
  return hasMethods<Pm25Hook>(value, 'latest', 'history') ? value : undefined;
}

const hasMethods = <T>(value: unknown, ...names: string[]): value is T =>
  typeof value === 'object' &&
  value !== null &&
  names.every((n) => typeof (value as never)[n] === 'function');

const Interval = z.tuple([z.number(), z.number()]).nullable();
const Pm25Reading = z.object({
  ts: z.union([z.string(), z.number()]),
  windowMinutes: z.number().positive(),
  estimable: z.boolean(),
  pm25: z.number().nonnegative().nullable(),
  interval80: Interval,
  interval95: Interval,
  source: z.string().nullable(),
  flags: z.record(z.string(), z.number().int().nonnegative()),
  calibration: z
    .object({
      state: z.enum(['uncalibrated', 'calibrating', 'calibrated']),
      samples: z.number().int().nonnegative(),
      lastRefit: z.string().nullable(),
    })
    .optional(),
});
const Tally = z.object({
  topic: z.string().nullable(),
  csv: z.string().nullable(),
  csvProblem: z.string().nullable(),
  counts: z.object({
    paired: z.number().int().nonnegative(),
    'not-paired': z.number().int().nonnegative(),
    refused: z.number().int().nonnegative(),
  }),
  last: z
    .object({
      receivedAt: z.number().nonnegative(),
      via: z.enum(['mqtt', 'csv']),
      ts: z.string().nullable(),
      pm25: z.number().nonnegative().nullable(),
      outcome: z.enum(['paired', 'not-paired', 'refused']),
      reason: z.string().optional(),
    })
    .nullable(),
});
const DriftSummary = z.object({
  ts: z.number(),
  state: z.enum(['ok', 'warn', 'alarm']),
  stateSince: z.number(),
  score: z.number().nullable(),
  drivers: z.array(z.string()),
});
const FleetState = z.object({
  revision: z.string().optional(),
  lastPush: z
    .object({
      at: z.number().int().nonnegative(),
      result: z.enum(['applied', 'rejected', 'failed', 'rolled-back']),
      revision: z.string().optional(),
      message: z.string().optional(),
    })
    .nullable()
    .optional(),
});

const epoch = (ts: string | number) => (typeof ts === 'number' ? ts : Date.parse(ts));
const pair = (v: [number, number] | null): [number, number] | null =>
  v ? [Math.max(0, v[0]), Math.max(0, v[1])] : null;

function point(r: z.infer<typeof Pm25Reading>): Pm25Point | undefined {
  const ts = epoch(r.ts);
  if (!Number.isFinite(ts) || ts < 0) return undefined;
  return { ts: Math.round(ts), pm25: r.pm25, interval80: pair(r.interval80) };
}

/** A camera's PM2.5 for the page, or undefined when the service is absent or has nothing yet. */
export function readPm25(
  hooks: StatusHooks,
  camera: string,
  now: number,
  levels: readonly Pm25Level[] = defaultPm25Levels,
): CameraPm25 | undefined {
  const hook = pm25Hook(hooks.pm25);
  if (!hook) return undefined;
  const latest = Pm25Reading.safeParse(hook.latest(camera));
  if (!latest.success) return undefined;
  const head = point(latest.data);
  if (!head) return undefined;
  const history = (hook.history(camera, now - 24 * 3600_000) ?? [])
    .map((r) => Pm25Reading.safeParse(r))
    .flatMap((r) => (r.success ? [point(r.data)] : []))
    .filter((p): p is Pm25Point => p !== undefined && p.ts >= now - 24 * 3600_000)
    .sort((a, b) => a.ts - b.ts);
  const { windowMinutes, estimable, source, flags } = latest.data;
  return {
    unit: 'ug/m3',
    latest: {
      ...head,
      interval95: pair(latest.data.interval95),
      windowMinutes,
      estimable,
      source,
      flags,
      level: airLevel(head.pm25, head.interval80, levels),
    },
    calibration: calibrationOf(latest.data),
    reference: readReferenceTally(hooks, camera),
    history,
  };
}

function calibrationOf(r: z.infer<typeof Pm25Reading>): CameraPm25['calibration'] {
  if (!r.calibration) return null;
  const { state, samples, lastRefit } = r.calibration;
  const refit = lastRefit ? epoch(lastRefit) : NaN;
  return { state, samples, lastRefit: Number.isFinite(refit) && refit >= 0 ? refit : null };
}

/** The site model's state from a camera's latest window (for /metrics: no history read), or null. */
export function readPm25Calibration(hooks: StatusHooks, camera: string): CameraPm25['calibration'] {
  const latest = Pm25Reading.safeParse(pm25Hook(hooks.pm25)?.latest(camera));
  return latest.success ? calibrationOf(latest.data) : null;
}

/** A camera's reference tally (agent/services/pm25-reference-tally.ts) as the page shows it, or null. */
export function readReferenceTally(hooks: StatusHooks, camera: string): ReferenceTally | null {
  const map = hooks.pm25References;
  const t = map instanceof Map ? Tally.safeParse(map.get(camera)) : undefined;
  if (!t?.success) return null;
  const { topic, csv, csvProblem, counts, last } = t.data;
  const ts = last?.ts ? epoch(last.ts) : NaN;
  return {
    topic,
    csv,
    csvProblem,
    paired: counts.paired,
    notPaired: counts['not-paired'],
    refused: counts.refused,
    last: last && {
      receivedAt: Math.round(last.receivedAt),
      via: last.via,
      ts: Number.isFinite(ts) && ts >= 0 ? ts : null,
      pm25: last.pm25,
      outcome: last.outcome,
      ...(last.reason === undefined ? {} : { reason: last.reason }),
    },
  };
}

export function readDrift(hooks: StatusHooks, camera: string): CameraDrift | undefined {
  const hook = driftHook(hooks);
  if (!hasMethods<DriftHook>(hook, 'summary')) return undefined;
  const s = DriftSummary.safeParse(hook.summary(camera));
  if (!s.success) return undefined;
  const { state, stateSince, score, drivers, ts } = s.data;
  return {
    state,
    since: Math.max(0, Math.round(stateSince)),
    score,
    drivers,
    ts: Math.max(0, Math.round(ts)),
  };
}

export function readFleet(hooks: StatusHooks): z.infer<typeof FleetState> | undefined {
  const hook = fleetHook(hooks);
  if (!hasMethods<FleetHook>(hook, 'status')) return undefined;
  const s = FleetState.safeParse(hook.status());
  return s.success ? s.data : undefined;
}

import { insecureSettings } from '../../config/insecure-settings.js';
import { restoreEnvRefs } from '../../config/env-refs.js';
import type { VigilConfig } from '../../config/schema.js';
import { applyConfig } from './apply-config.js';
import type { ConfigStore, StoredConfig } from './config-store.js';
import type { FleetDocument, ShadowConfig } from './fleet-document.js';
import type { FleetHost } from './fleet-host.js';
import type { Outcome, Running } from './fleet-reporter.js';
import { carryOver, composeConfig, type ManagedConfig } from './managed-config.js';
import { removeUnusedModels, resolveModels } from './model-fetch.js';

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** What applying a document needs from the fleet service; `running` and `shadow` are read when needed. */
export interface DocumentApply {
  host: FleetHost;
  store: ConfigStore;
  healthDeadlineMs: number;
  /** What the box runs now: its managed config is carried over into the document's. */
  running: () => Running;
  /** The config of the shadow trial running now, if one is. */
  shadow: () => ShadowConfig | undefined;
  /** Replaces the shadow trial (or stops it): called before the commit closes the replaced detectors. */
  startTrial: (shadow: ShadowConfig | undefined, revision: number) => void;
  /** Applied, persisted and committed: what the box runs from now on. */
  applied: (running: Running) => void;
}

/**
 * Applies one verified document (docs/fleet.md): resolves its models, composes the next config, applies only
 * what changed (apply-config.ts), persists it as last-known-good and commits; a failure at any step rolls
 * back. Apart from the FleetService, which decides which documents get here and reports the outcome.
 */
export async function applyDocument(
  ctx: DocumentApply,
  doc: FleetDocument,
  digest: string,
  raw: Record<string, unknown>,
): Promise<Outcome> {
  const { host } = ctx;
  const t0 = performance.now(); // a duration: a wall-clock step must not make it negative or years long
  const log = host.log.child({ component: 'fleet', revision: doc.revision });
  const failed = (errors: string[], changed: string[] = []): Outcome => ({
    revision: doc.revision,
    status: 'rolled_back',
    errors,
    changed,
    durationMs: Math.round(performance.now() - t0),
  });
  log.info('fleet: applying', { target: doc.target, from: ctx.running().revision });
  // Said at start for the box's own config; for a pushed one, here and to the operator, or not until a restart.
  const insecureBefore = new Set(insecureSettings(host.config).map((s) => s.why));
  let managed: ManagedConfig;
  let next: VigilConfig;
  try {
    const { models: _models, shadow, ...rest } = doc.config;
    const models = await resolveModels(doc.config.models, host.config.dataDir, { log });
    // Kept (in current.json too) with the body's `${VAR}` references as signed, not this box's secrets:
    // composeConfig expands them, now and at every start, from the environment the agent has then.
    const written = (raw.config ?? {}) as Record<string, unknown>;
    const body = restoreEnvRefs(rest, written) as typeof rest;
    managed = carryOver({ ...body, ...(shadow && { shadow }), models }, ctx.running().stored?.managed);
    next = composeConfig(host.config, managed);
    next.fleet = { ...next.fleet!, revision: doc.revision };
  } catch (err) {
    log.warn('fleet: document cannot be applied', { reason: message(err) });
    return failed([message(err)]);
  }
  const shadow = ctx.shadow();
  const result = await applyConfig(
    host,
    { config: host.config, ...(shadow && { shadow }) },
    { config: next, ...(managed.shadow && { shadow: managed.shadow }) },
    {
      healthDeadlineMs: ctx.healthDeadlineMs,
      onStep: (step) => log.info('fleet: apply step', { step }),
    },
  );
  if (!result.ok) {
    log.warn('fleet: rolled back', { errors: result.errors });
    return failed(result.errors, result.plan.changed);
  }
  const stored: StoredConfig = {
    format: 1,
    revision: doc.revision,
    digest,
    target: doc.target,
    appliedAt: Date.now(),
    managed,
    document: raw,
  };
  try {
    log.info('fleet: apply step', { step: 'persist' });
    ctx.store.save(stored);
  } catch (err) {
    await result.rollback();
    return failed([`cannot persist the config: ${message(err)}`], result.plan.changed);
  }
  // The trial changes before the replaced detectors are closed: none of its runs lands on a closed one.
  const candidate = managed.shadow?.candidate;
  if (result.plan.shadowChanged || (candidate && result.plan.loadModels.includes(candidate)))
    ctx.startTrial(managed.shadow, doc.revision);
  await result.commit();
  try {
    removeUnusedModels(
      host.config.dataDir,
      Object.values(next.models).map((m) => m.path),
    );
  } catch (err) {
    log.warn('fleet: could not remove unused models', { reason: message(err) });
  }
  ctx.applied({ revision: doc.revision, source: 'fleet', stored });
  const insecure = insecureSettings(next).filter((s) => !insecureBefore.has(s.why));
  for (const s of insecure) log.warn('insecure setting', { field: s.field, why: s.why });
  const warnings = [...result.warnings, ...insecure.map((s) => `insecure setting: ${s.field}: ${s.why}`)];
  log.info('fleet: applied', {
    changed: result.plan.changed,
    warnings,
    ms: Math.round(performance.now() - t0),
  });
  return {
    revision: doc.revision,
    status: 'applied',
    errors: [],
    changed: result.plan.changed,
    ...(warnings.length && { warnings }),
    ...(result.plan.restartRequired.length && { restartRequired: result.plan.restartRequired }),
    durationMs: Math.round(performance.now() - t0),
  };
}

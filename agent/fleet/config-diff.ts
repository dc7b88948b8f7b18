import type { CameraConfig, ModelConfig, VigilConfig } from '../../config/schema.js';
import { canonicalJson } from './canonical-json.js';
import type { ShadowConfig } from './fleet-document.js';
import type { RestartSection } from './fleet-payloads.js';
import { restartSections } from './managed-config.js';

/** A running config as the apply sees it: the agent's config and the shadow trial beside it. */
export interface RunningConfig {
  config: VigilConfig;
  shadow?: ShadowConfig;
}

/** What has to happen to go from one config to the next, touching nothing that did not change. */
export interface ApplyPlan {
  /** Models to load (new, or with different settings or weights), warmed up before any switch. */
  loadModels: string[];
  /** Loaded models nothing needs any more. */
  unloadModels: string[];
  /** Models failing since start-up that stay as they are: not loaded by the apply, left to their retry. */
  waitModels: string[];
  addCameras: CameraConfig[];
  removeCameras: string[];
  /** Cameras to restart with a new config (or on a replaced model). */
  restartCameras: CameraConfig[];
  /** New or changed cameras of a `waitModels` model: not started, reported failed, started by the retry. */
  waitCameras: CameraConfig[];
  restartRequired: RestartSection[];
  shadowChanged: boolean;
  /** One line per change, for the result message. */
  changed: string[];
}

const same = (a: unknown, b: unknown) => canonicalJson(a ?? null) === canonicalJson(b ?? null);

/** Models the running agent needs loaded: those of enabled cameras, and the shadow candidate. */
export function requiredModels(run: RunningConfig): Set<string> {
  const ids = new Set(run.config.cameras.filter((c) => c.enabled).map((c) => c.model));
  if (run.shadow) ids.add(run.shadow.candidate);
  return ids;
}

function changedFields(a: CameraConfig, b: CameraConfig): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => !same(a[k as keyof CameraConfig], b[k as keyof CameraConfig])).sort();
}

/**
 * Diffs two running configs; `loaded` is the set of model ids the agent has a detector for, `failing` the
 * models being retried since start-up with the config each is retried with (agent/runtime/model-retry.ts).
 * A failing model is left to its retry when the next config keeps its settings and moves no running camera
 * onto it (and it is not the shadow candidate); otherwise the apply loads it, and a failure rolls back.
 */
export function planApply(
  prev: RunningConfig,
  next: RunningConfig,
  loaded: ReadonlySet<string>,
  failing: ReadonlyMap<string, ModelConfig> = new Map(),
): ApplyPlan {
  const changed: string[] = [];
  const needed = requiredModels(next);
  const loadModels: string[] = [];
  const waitModels: string[] = [];
  for (const id of [...needed].sort()) {
    const fresh = !loaded.has(id);
    if (fresh && canWait(id, prev, next, loaded, failing)) waitModels.push(id);
    else if (fresh || !same(prev.config.models[id], next.config.models[id])) {
      loadModels.push(id);
      changed.push(`models.${id}: ${fresh ? 'loaded' : 'replaced'}`);
    }
  }
  const unloadModels = [...loaded].filter((id) => !needed.has(id)).sort();
  for (const id of unloadModels) changed.push(`models.${id}: unloaded`);
  for (const id of [...failing.keys()].filter((x) => !needed.has(x)).sort())
    changed.push(`models.${id}: retry stopped`);

  const enabled = (c: VigilConfig) => new Map(c.cameras.filter((x) => x.enabled).map((x) => [x.id, x]));
  const before = enabled(prev.config);
  const after = enabled(next.config);
  const addCameras: CameraConfig[] = [];
  const restartCameras: CameraConfig[] = [];
  const waitCameras: CameraConfig[] = [];
  for (const [id, cam] of after) {
    const old = before.get(id);
    const waits = waitModels.includes(cam.model);
    if (!old) {
      (waits ? waitCameras : addCameras).push(cam);
      changed.push(`cameras.${id}: added`);
      continue;
    }
    const why = changedFields(old, cam);
    if (why.length === 0 && loadModels.includes(cam.model)) why.push(`model ${cam.model} replaced`);
    if (why.length) {
      (waits ? waitCameras : restartCameras).push(cam);
      changed.push(`cameras.${id}: ${why.join(', ')}`);
    }
  }
  const removeCameras = [...before.keys()].filter((id) => !after.has(id));
  for (const id of removeCameras) changed.push(`cameras.${id}: removed`);

  const restartRequired = restartSections.filter((s) => !same(prev.config[s], next.config[s]));
  for (const s of restartRequired) changed.push(`${s}: at next restart`);
  const shadowChanged = !same(prev.shadow, next.shadow);
  if (shadowChanged)
    changed.push(`shadow: ${!next.shadow ? 'stopped' : prev.shadow ? 'changed' : 'started'}`);
  return {
    loadModels,
    unloadModels,
    waitModels,
    addCameras,
    removeCameras,
    restartCameras,
    waitCameras,
    restartRequired,
    shadowChanged,
    changed,
  };
}

/** A failing model the next config keeps as it is, that no running camera is moved onto. */
function canWait(
  id: string,
  prev: RunningConfig,
  next: RunningConfig,
  loaded: ReadonlySet<string>,
  failing: ReadonlyMap<string, ModelConfig>,
): boolean {
  const retried = failing.get(id);
  if (!retried || !same(retried, next.config.models[id]) || next.shadow?.candidate === id) return false;
  const before = new Map(prev.config.cameras.filter((c) => c.enabled).map((c) => [c.id, c.model]));
  // A camera that runs now would stop detecting: that makes the box worse, so the push must load the model.
  return !next.config.cameras.some((c) => {
    const was = before.get(c.id);
    return c.enabled && c.model === id && was !== undefined && was !== id && loaded.has(was);
  });
}

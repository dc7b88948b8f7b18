import type { CameraConfig, VigilConfig } from '../../config/schema.js';
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
  addCameras: CameraConfig[];
  removeCameras: string[];
  /** Cameras to restart with a new config (or on a replaced model). */
  restartCameras: CameraConfig[];
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

/** Diffs two running configs; `loaded` is the set of model ids the agent has a detector for. */
export function planApply(prev: RunningConfig, next: RunningConfig, loaded: ReadonlySet<string>): ApplyPlan {
  const changed: string[] = [];
  const needed = requiredModels(next);
  const loadModels: string[] = [];
  for (const id of [...needed].sort()) {
    const fresh = !loaded.has(id);
    if (fresh || !same(prev.config.models[id], next.config.models[id])) {
      loadModels.push(id);
      changed.push(`models.${id}: ${fresh ? 'loaded' : 'replaced'}`);
    }
  }
  const unloadModels = [...loaded].filter((id) => !needed.has(id)).sort();
  for (const id of unloadModels) changed.push(`models.${id}: unloaded`);

  const enabled = (c: VigilConfig) => new Map(c.cameras.filter((x) => x.enabled).map((x) => [x.id, x]));
  const before = enabled(prev.config);
  const after = enabled(next.config);
  const addCameras: CameraConfig[] = [];
  const restartCameras: CameraConfig[] = [];
  for (const [id, cam] of after) {
    const old = before.get(id);
    if (!old) {
      addCameras.push(cam);
      changed.push(`cameras.${id}: added`);
      continue;
    }
    const why = changedFields(old, cam);
    if (why.length === 0 && loadModels.includes(cam.model)) why.push(`model ${cam.model} replaced`);
    if (why.length) {
      restartCameras.push(cam);
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
    addCameras,
    removeCameras,
    restartCameras,
    restartRequired,
    shadowChanged,
    changed,
  };
}

import type { CameraConfig } from '../../config/schema.js';
import { planApply, type ApplyPlan, type RunningConfig } from './config-diff.js';
import type { FleetDetector, FleetHost } from './fleet-host.js';
import { HealthWatch } from './health-check.js';
import { probeHttp, probeMqtt } from './transport-check.js';

export interface ApplyOptions {
  /** Every started or restarted camera must deliver an inference within this. */
  healthDeadlineMs: number;
  /** Step names, logged (and used by tests and benchmarks to see where an apply is). */
  onStep?: (step: string) => void;
}

/** A switch that ran healthy, not yet final: the caller persists it, then commits, or rolls it back. */
export interface Applied {
  ok: true;
  plan: ApplyPlan;
  /** Frees what the previous config held (replaced detectors). */
  commit(): Promise<void>;
  /** Returns to the previous config (e.g. when persisting failed). */
  rollback(): Promise<void>;
}

export interface NotApplied {
  ok: false;
  plan: ApplyPlan;
  errors: string[];
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Moves the agent from `prev` to `next` touching only what changed: new or changed models are loaded
 * and warmed up first (nothing switches if one fails); then removed and changed cameras stop, detectors
 * swap, changed and new cameras start; each of those must produce an inference within the deadline; new
 * MQTT/HTTP settings are probed last. Any failure puts the previous cameras and detectors back.
 */
export async function applyConfig(
  host: FleetHost,
  prev: RunningConfig,
  next: RunningConfig,
  opts: ApplyOptions,
): Promise<Applied | NotApplied> {
  const step = opts.onStep ?? (() => {});
  const plan = planApply(prev, next, new Set(host.detectors.keys()));
  const fresh = new Map<string, FleetDetector>();
  step('load');
  for (const id of plan.loadModels) {
    try {
      fresh.set(id, await host.loadModel(id, next.config.models[id]!));
    } catch (err) {
      await Promise.allSettled([...fresh.values()].map((d) => d.close()));
      return { ok: false, plan, errors: [message(err)] };
    }
  }

  step('switch');
  const prevConfig = host.config;
  const retired = new Map<string, FleetDetector>();
  const stopped = [...plan.removeCameras, ...plan.restartCameras.map((c) => c.id)];
  const started: CameraConfig[] = [...plan.restartCameras, ...plan.addCameras];
  // Created once the old pipelines are stopped: their last in-flight results must not count as healthy.
  let watch: HealthWatch | undefined;

  const rollback = async () => {
    step('rollback');
    watch?.close();
    await Promise.all(started.map((c) => host.stopCamera(c.id)));
    for (const id of fresh.keys()) host.detectors.delete(id);
    for (const [id, det] of retired) host.detectors.set(id, det);
    host.config = prevConfig;
    const prevCams = new Map(prevConfig.cameras.map((c) => [c.id, c]));
    for (const id of stopped) {
      const cam = prevCams.get(id);
      if (cam?.enabled) host.startCamera(cam);
    }
    await Promise.allSettled([...fresh.values()].map((d) => d.close()));
  };

  try {
    await Promise.all(stopped.map((id) => host.stopCamera(id)));
    for (const id of plan.unloadModels) {
      retired.set(id, host.detectors.get(id)!);
      host.detectors.delete(id);
    }
    for (const [id, det] of fresh) {
      const old = host.detectors.get(id);
      if (old) retired.set(id, old);
      host.detectors.set(id, det);
    }
    host.config = next.config;
    watch = new HealthWatch(host, host.detections$, started);
    for (const cam of started) host.startCamera(cam);

    step('health');
    await watch.wait(opts.healthDeadlineMs);
    step('transport');
    if (plan.restartRequired.includes('mqtt') && next.config.mqtt) {
      await probeMqtt(next.config.mqtt, Math.min(10_000, opts.healthDeadlineMs));
    }
    if (plan.restartRequired.includes('http')) await probeHttp(next.config.http, prevConfig.http);
  } catch (err) {
    await rollback();
    return { ok: false, plan, errors: [message(err)] };
  }
  return {
    ok: true,
    plan,
    commit: async () => {
      await Promise.allSettled([...retired.values()].map((d) => d.close()));
    },
    rollback,
  };
}

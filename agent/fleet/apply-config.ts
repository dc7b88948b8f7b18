import type { CameraConfig, ModelConfig } from '../../config/schema.js';
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
  /** What still does not work but did not block the apply (a model failing since start-up), one per line. */
  warnings: string[];
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
 *
 * A model failing since start-up that the push leaves as it is does not block it (config-diff.ts): its
 * cameras stay `failed` and the result warns. The model retry is paused from the plan to the commit or
 * rollback, so an attempt never runs in the middle; a commit makes it follow the new config.
 */
export async function applyConfig(
  host: FleetHost,
  prev: RunningConfig,
  next: RunningConfig,
  opts: ApplyOptions,
): Promise<Applied | NotApplied> {
  const step = opts.onStep ?? (() => {});
  const retry = host.modelRetry;
  const resume = (await retry?.pause()) ?? (() => {});
  const failing = retry?.failing() ?? new Map<string, { cfg: ModelConfig; reason: string }>();
  const plan = planApply(
    prev,
    next,
    new Set(host.detectors.keys()),
    new Map([...failing].map(([id, f]) => [id, f.cfg])),
  );
  const fresh = new Map<string, FleetDetector>();
  step('load');
  for (const id of plan.loadModels) {
    try {
      fresh.set(id, await host.loadModel(id, next.config.models[id]!));
    } catch (err) {
      await Promise.allSettled([...fresh.values()].map((d) => d.close()));
      resume();
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
    try {
      await Promise.all([...started, ...plan.waitCameras].map((c) => host.stopCamera(c.id)));
      for (const id of fresh.keys()) host.detectors.delete(id);
      for (const [id, det] of retired) host.detectors.set(id, det);
      host.config = prevConfig;
      const prevCams = new Map(prevConfig.cameras.map((c) => [c.id, c]));
      for (const id of new Set([...stopped, ...plan.waitCameras.map((c) => c.id)])) {
        const cam = prevCams.get(id);
        // A camera of a model still failing waits for it again, as it did before the push.
        if (cam?.enabled && !retry?.reportWaiting(cam)) host.startCamera(cam);
      }
      await Promise.allSettled([...fresh.values()].map((d) => d.close()));
    } finally {
      host.forgetRemovedCameras?.();
      resume();
    }
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
    for (const cam of plan.waitCameras) retry?.reportWaiting(cam);

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
    warnings: plan.waitModels.map((id) => stillFailing(id, failing.get(id)!.reason, next)),
    commit: async () => {
      // Kept until now: a rollback restarts a removed camera with its counts (they go on, as in any restart).
      host.forgetRemovedCameras?.();
      retry?.follow();
      resume();
      await Promise.allSettled([...retired.values()].map((d) => d.close()));
    },
    rollback,
  };
}

/** The result's line for a model left to its retry: its reason and the cameras that wait for it. */
function stillFailing(id: string, reason: string, next: RunningConfig): string {
  const cams = next.config.cameras.filter((c) => c.enabled && c.model === id).map((c) => c.id);
  return `${reason} (still retried; camera${cams.length === 1 ? '' : 's'} ${cams.join(', ')} ${cams.length === 1 ? 'waits' : 'wait'} for it)`;
}

import { createHash } from 'node:crypto';
import type { VigilConfig } from '../../config/schema.js';
import type { Pm25Level } from '../../config/pm25-levels-schema.js';
import type { Letterbox } from '../../models/types.js';
import { redactUrl } from '../../config/redact-url.js';
import type { Agent } from '../runtime/agent.js';
import type { HealthSample } from './health-sampler.js';
import type { LabelCounts } from './label-counts.js';
import { readDrift, readFleet, readPm25, type StatusHooks } from './status-hooks.js';
import type {
  CameraStatus,
  HealthStatus,
  RecentError,
  SafetyEventSummary,
  StatusPayload,
} from './status-schema.js';
import { cameraZones, type SnapshotGeometry } from './zone-overlay.js';

/** The parts of the agent the page reads (a structural type, so tests can pass a real agent not started). */
export type StatusAgent = Pick<
  Agent,
  'config' | 'cameras' | 'detectors' | 'outbox' | 'link' | 'lag' | 'startedAt' | 'version'
> &
  StatusHooks;

export interface StatusInputs {
  now: number;
  health: HealthSample | null;
  errors: RecentError[];
  labels: LabelCounts;
  /** Recent safety events, newest first (none when absent). */
  safetyEvents?: SafetyEventSummary[];
  /** Where a frame lands in its snapshot (SnapshotRenderer.geometry); without it zones are not mapped. */
  snapshotGeometry?: (lb: Letterbox) => SnapshotGeometry;
  /** `http.pm25Levels` of the running web service (like all of `http`, a push changes it at restart). */
  pm25Levels?: readonly Pm25Level[];
}

/**
 * Agent → StatusPayload: the one model behind the page, `/api/status` and the `/api/events` stream.
 * It only reads (counters, states, the last event); nothing here changes the agent.
 */
export function statusModel(agent: StatusAgent, inputs: StatusInputs): StatusPayload {
  const { config } = agent;
  const { now } = inputs;
  const cameras = config.cameras.map((c) => cameraStatus(agent, c.id, inputs));
  const enabled = cameras.filter((c) => config.cameras.find((k) => k.id === c.id)?.enabled);
  const streaming = enabled.filter((c) => c.state.state === 'streaming').length;
  const fleet = readFleet(agent);
  return {
    schema: 1,
    ts: now,
    site: config.site,
    device: config.device,
    version: agent.version,
    startedAt: agent.startedAt,
    uptimeS: Math.max(0, Math.round((now - agent.startedAt) / 1000)),
    overall: streaming === enabled.length ? 'ok' : streaming === 0 ? 'down' : 'degraded',
    config: fleet?.revision
      ? { revision: fleet.revision, source: 'fleet' }
      : { revision: configRevision(config), source: 'local' },
    ...(fleet ? { fleet: { lastPush: fleet.lastPush ?? null } } : {}),
    cameras,
    models: [...agent.detectors.values()].map(({ info }) => ({
      id: info.modelId,
      family: info.family,
      provider: info.provider,
      refused: info.refused.map((r) => ({ provider: r.provider, reason: redactUrl(r.reason) })),
      workers: info.workers,
      input: { width: info.input.width, height: info.input.height },
    })),
    mqtt: mqttStatus(agent),
    outbox: outboxStatus(agent),
    health: healthStatus(agent, inputs.health),
    errors: inputs.errors.slice(0, 50),
    safetyEvents: (inputs.safetyEvents ?? []).slice(0, 20),
  };
}

function cameraStatus(agent: StatusAgent, id: string, inputs: StatusInputs): CameraStatus {
  const runtime = agent.cameras.get(id);
  const cfg = runtime?.config ?? agent.config.cameras.find((c) => c.id === id)!;
  const stats = runtime?.stats.snapshot();
  const last = runtime?.last;
  const state = runtime
    ? {
        state: runtime.state.state,
        ...(runtime.state.reason ? { reason: redactUrl(runtime.state.reason) } : {}),
        since: runtime.state.since,
      }
    : {
        state: 'stopped' as const,
        reason: cfg.enabled ? 'not started' : 'disabled in config',
        since: agent.startedAt,
      };
  const pm25 = readPm25(agent, id, inputs.now, inputs.pm25Levels);
  const drift = readDrift(agent, id);
  const lb = last?.frame.letterbox;
  const snap = lb && inputs.snapshotGeometry?.(lb);
  const occupancy = runtime?.safety?.occupancy();
  return {
    id,
    ...(cfg.name ? { name: cfg.name } : {}),
    source: redactUrl(cfg.source),
    model: cfg.model,
    state,
    fps: { input: stats?.inputFps ?? 0, processed: stats?.processedFps ?? 0, configured: cfg.fps ?? null },
    frames: {
      in: stats?.framesIn ?? 0,
      processed: stats?.processed ?? 0,
      dropped: stats?.dropped ?? 0,
      inferenceErrors: stats?.inferenceErrors ?? 0,
      gated: stats?.gated ?? 0,
    },
    inference: {
      lastMs: stats?.lastInferenceMs ?? 0,
      provider: last?.provider ?? agent.detectors.get(cfg.model)?.info.provider ?? null,
    },
    lastFrameAt: stats?.lastFrameAt ? stats.lastFrameAt : null,
    snapshot: last
      ? {
          frameNo: last.frameNo,
          ts: last.ts,
          url: `/api/cameras/${encodeURIComponent(id)}/snapshot.jpg?frame=${last.frameNo}`,
          width: snap?.width ?? last.frame.letterbox.scaledWidth,
          height: snap?.height ?? last.frame.letterbox.scaledHeight,
        }
      : null,
    zones: cameraZones(cfg.zones ?? [], occupancy, lb && snap ? { lb, snap } : undefined),
    detections: {
      last: last?.result.detections.length ?? 0,
      recent: inputs.labels.recent(id),
      windowS: inputs.labels.windowS,
    },
    ...(pm25 ? { pm25 } : {}),
    ...(!pm25 && cfg.pm25?.enabled ? { pm25Waiting: true as const } : {}),
    ...(drift ? { drift } : {}),
    // Drift is on but has nothing for this camera yet (no frame, or no window scored): not "not configured".
    ...(!drift && cfg.enabled && agent.config.drift?.enabled ? { driftWaiting: true as const } : {}),
  };
}

function mqttStatus(agent: StatusAgent): StatusPayload['mqtt'] {
  const cfg = agent.config.mqtt;
  if (!cfg) return { configured: false };
  const link = agent.link;
  if (!link) return { configured: true, url: redactUrl(cfg.url) };
  const { state, since, lastError } = link.state;
  const c = link.counters();
  return {
    configured: true,
    url: redactUrl(cfg.url),
    state,
    since,
    ...(lastError ? { lastError: { message: redactUrl(lastError.message), at: lastError.at } } : {}),
    published: c.published,
    acked: c.acked,
    rejected: c.rejected,
    connects: c.connects,
    inflight: c.inflight,
    latencyMs: { last: round1(c.latencyMs.last), avg: round1(c.latencyMs.avg) },
  };
}

function outboxStatus(agent: StatusAgent): StatusPayload['outbox'] {
  // Before start() the outbox is not open yet.
  const outbox = agent.outbox as StatusAgent['outbox'] | undefined;
  if (!outbox) return { rows: 0, bytes: 0, oldestAgeMs: 0, drops: {} };
  return { ...outbox.depth(), drops: { ...outbox.drops() } };
}

function healthStatus(agent: StatusAgent, sample: HealthSample | null): HealthStatus {
  const base: HealthSample = sample ?? {
    sampledAt: null,
    cpuPercent: null,
    load1: 0,
    cores: 0,
    memory: null,
    disk: null,
    temperatureC: null,
    gpu: null,
    process: { rssBytes: 0, cpuPercent: 0 },
  };
  return { ...base, eventLoopLagMs: agent.lag.read() };
}

const secretKeys = new Set(['password', 'token', 'passwordHash', 'key', 'cert', 'ca']);
const revisions = new WeakMap<VigilConfig, string>();

/** A short, stable hash of the running config with every secret left out (it is shown on the page). */
export function configRevision(config: VigilConfig): string {
  let rev = revisions.get(config);
  if (!rev) {
    const text = JSON.stringify(config, (k, v: unknown) =>
      secretKeys.has(k) ? undefined : typeof v === 'string' ? redactUrl(v) : v,
    );
    rev = createHash('sha256').update(text).digest('hex').slice(0, 12);
    revisions.set(config, rev);
  }
  return rev;
}

const round1 = (v: number) => Math.round(v * 10) / 10;

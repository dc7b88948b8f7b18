import { statSync } from 'node:fs';
import path from 'node:path';
import type { Subscription } from 'rxjs';
import type { DriftConfig } from '../../config/drift-schema.js';
import type { Logger } from '../../config/logger.js';
import type { CameraConfig, ModelConfig, VigilConfig } from '../../config/schema.js';
import type { InputSpec } from '../../models/types.js';
import type { DetectionEvent } from '../../pipeline/camera/camera-pipeline.js';
import { configRevision, weightsDigest } from '../../pipeline/drift/config-revision.js';
import { DriftWindow, type DriftReport } from '../../pipeline/drift/drift-window.js';
import {
  driftPayload,
  driftSummaryPayload,
  type DriftSummaryPayload,
} from '../../pipeline/drift/payloads.js';
import { ReferenceStore } from '../../pipeline/drift/reference-store.js';
import type { Agent } from '../runtime/agent.js';
import type { AgentService } from '../runtime/services.js';
import { attachStatusHooks } from '../web/status-hooks.js';

/** One camera's drift accounting for the model and config revision it runs now. */
interface Tracked {
  camera: CameraConfig;
  model: ModelConfig;
  modelId: string;
  revision: string;
  window: DriftWindow;
  /** Frames seen, for `imageEvery`. */
  frames: number;
  /** The last PM2.5 window result (agent.pm25) already counted. */
  lastPm25?: unknown;
}

/** The drift topic of a camera: `…/cameras/<camera>/drift` (its retained summary is `…/drift/summary`). */
export function driftTopic(agent: Pick<Agent, 'topics'>, camera: string): string {
  return agent.topics.camera(camera).state.replace(/\/state$/, '/drift');
}

/**
 * Drift accounting (docs/drift.md) for every camera: each detection event (after its outbox commit) goes
 * into the camera's open window; a closed window is stored in `<dataDir>/drift.db`, compared with the
 * reference of its camera + model + config revision, and published through the outbox, with a retained
 * summary. A change of model or config revision closes the open window and starts a new key, which builds
 * its own reference automatically (`autoBaselineHours`) unless one is built or imported by hand.
 */
export class DriftService implements AgentService {
  readonly name = 'drift';
  /** The latest summary per camera (the status page reads it). */
  readonly summaries = new Map<string, DriftSummaryPayload>();
  private agent: Agent | undefined;
  private log: Logger | undefined;
  private store: ReferenceStore | undefined;
  private sub: Subscription | undefined;
  private followed: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly tracked = new Map<string, Tracked>();
  /** sha256 of model files, recomputed only when a file's size or mtime changes. */
  private readonly digests = new Map<string, { stamp: string; digest: string }>();

  constructor(private readonly cfg: DriftConfig) {}

  start(agent: Agent): void {
    this.agent = agent;
    this.log = agent.log.child({ component: 'drift' });
    // Its own file, not the outbox's: windows are kept for weeks (baselines from any past range) and
    // references are exported and imported, while the outbox is a queue that must stay small and fast.
    this.store = ReferenceStore.open(path.join(agent.config.dataDir, ReferenceStore.fileName));
    attachStatusHooks(agent, { drift: { summary: (camera) => this.summaries.get(camera) } });
    this.sub = agent.detections$.subscribe({ next: (e) => this.guard(() => this.onEvent(e)) });
    this.followed = agent.config$.subscribe((config) => this.guard(() => this.forgetRemoved(config)));
    // Closes windows of cameras whose frames stopped; a quarter window is late enough for a report. The
    // grace lets frames captured before a window's end, still in inference, land in their own window.
    const windowMs = this.cfg.windowMinutes * 60_000;
    const graceMs = Math.min(windowMs / 4, 2000);
    this.timer = setInterval(
      () => this.guard(() => this.tick(Date.now() - graceMs)),
      Math.max(250, Math.min(windowMs / 4, 30_000)),
    );
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.sub?.unsubscribe();
    this.followed?.unsubscribe();
    this.sub = this.followed = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    // The open windows are closed and stored (a restart inside the same window merges into it).
    for (const t of this.tracked.values()) this.guard(() => this.publishAll([t.window.flush()]));
    this.tracked.clear();
    this.store?.close();
    this.store = undefined;
    await Promise.resolve();
  }

  /**
   * A camera a push removed: its open window is closed and stored (as at stop), and its accounting and
   * summary are let go, or each camera id a box ever had would keep a window and a summary for good.
   */
  private forgetRemoved(config: VigilConfig): void {
    const ids = new Set(config.cameras.map((c) => c.id));
    for (const [id, t] of this.tracked) {
      if (ids.has(id)) continue;
      this.tracked.delete(id);
      this.publishAll([t.window.flush()]);
      this.summaries.delete(id);
    }
  }

  /** Drift accounting must never take a camera down: failures are logged and the event skipped. */
  private guard(work: () => void): void {
    try {
      work();
    } catch (err) {
      this.log?.error('drift accounting failed', {
        reason: err instanceof Error ? err.message : String(err),
      });
    }
  }

  private onEvent(e: DetectionEvent): void {
    const t = this.trackedFor(e);
    if (!t) return;
    // null: count the detections, skip the pixels of this frame.
    const image = t.frames++ % this.cfg.imageEvery === 0 ? undefined : null;
    this.publishAll(t.window.add(e, image));
    this.addPm25(e.camera, t);
  }

  /**
   * PM2.5 results of the camera (the PM2.5 service's windows in agent.pm25) not counted yet: the estimate,
   * and the gate outcomes as counts of frames (`pass` for the frames used, each flag for those it withheld).
   */
  private addPm25(camera: string, t: Tracked): void {
    const list = this.agent!.pm25.get(camera);
    if (!list?.length || list.at(-1) === t.lastPm25) return;
    let i = list.length;
    while (i > 0 && list[i - 1] !== t.lastPm25) i--;
    const acc = t.window.accumulator;
    for (const p of list.slice(i)) {
      if (p.pm25 !== null) acc.addPm25(p.pm25);
      for (let n = 0; n < p.framesUsed; n++) acc.addQualityGate({ passed: true, flags: [] });
      for (const [flag, count] of Object.entries(p.flags))
        for (let n = 0; n < (count ?? 0); n++) acc.addQualityGate({ passed: false, flags: [flag] });
    }
    t.lastPm25 = list.at(-1);
  }

  private tick(now: number): void {
    for (const t of this.tracked.values()) this.publishAll(t.window.tick(now));
  }

  /** The camera's accounting for this event's model and the camera's current config revision. */
  private trackedFor(e: DetectionEvent): Tracked | null {
    const agent = this.agent!;
    const camera = agent.cameras.get(e.camera)?.config;
    const model = agent.config.models[e.modelId];
    if (!camera || !model) return null;
    const t = this.tracked.get(e.camera);
    if (t && t.camera === camera && t.model === model && t.modelId === e.modelId) return t;
    const revision = configRevision(camera, model, this.digest(model.path));
    if (t && t.modelId === e.modelId && t.revision === revision) {
      // A new config object with nothing that matters changed (a reload): keep the window.
      Object.assign(t, { camera, model });
      return t;
    }
    if (t) {
      this.log!.info('drift: model or camera changed, new window key', {
        camera: e.camera,
        model: e.modelId,
        revision,
        was: `${t.modelId}/${t.revision}`,
      });
      this.publishAll([t.window.flush()]);
    }
    const pixelOrder: InputSpec['pixelOrder'] =
      agent.detectors.get(e.modelId)?.info.input.pixelOrder ?? 'rgb';
    const key = { camera: e.camera, modelId: e.modelId, configRevision: revision };
    const next: Tracked = {
      camera,
      model,
      modelId: e.modelId,
      revision,
      frames: 0,
      // only PM2.5 results from now on belong to this key
      lastPm25: agent.pm25.get(e.camera)?.at(-1),
      window: new DriftWindow({ ...key, config: this.cfg, store: this.store!, pixelOrder }),
    };
    this.tracked.set(e.camera, next);
    // After a restart the page shows the resumed state at once, not "waiting for frames" for a window.
    const resumed = next.window.resumedReport();
    if (resumed) this.summaries.set(e.camera, driftSummaryPayload(resumed, Date.now()));
    const reference = this.store!.activeReference(key);
    this.log!.info('drift accounting', {
      ...key,
      state: next.window.state,
      reference: reference ? `${reference.id} (${reference.source})` : 'none yet',
    });
    return next;
  }

  private digest(file: string): string {
    let stamp: string;
    try {
      const s = statSync(file);
      stamp = `${s.size}/${s.mtimeMs}`;
    } catch {
      return '';
    }
    const known = this.digests.get(file);
    if (known?.stamp === stamp) return known.digest;
    const digest = weightsDigest(file);
    this.digests.set(file, { stamp, digest });
    return digest;
  }

  private publishAll(reports: (DriftReport | null)[]): void {
    for (const r of reports) if (r) this.publish(r);
  }

  private publish(report: DriftReport): void {
    const agent = this.agent!;
    const log = this.log!;
    const topic = driftTopic(agent, report.camera);
    const summary = driftSummaryPayload(report, Date.now(), this.summaries.get(report.camera));
    this.summaries.set(report.camera, summary);
    agent.outbox.enqueue({ topic, priority: 1, build: (meta) => driftPayload(report, meta) });
    agent.outbox.enqueue({
      topic: `${topic}/summary`,
      priority: 1,
      retain: true,
      coalesceKey: `drift-summary/${report.camera}`,
      build: () => summary,
    });
    agent.link?.notify();
    if (report.baseline?.built) {
      log.info('drift reference built automatically', {
        camera: report.camera,
        model: report.modelId,
        revision: report.configRevision,
        reference: report.reference?.id,
      });
    }
    if (report.changed) {
      log[report.state === 'ok' ? 'info' : 'warn']('drift state', {
        camera: report.camera,
        state: report.state,
        previous: report.previous,
        score: report.score,
        drivers: report.drivers,
        moved: report.moved.slice(0, 5),
      });
    }
    log.debug('drift window', {
      camera: report.camera,
      status: report.status,
      state: report.state,
      frames: report.window.frames,
      score: report.score,
    });
  }
}

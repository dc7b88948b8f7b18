import path from 'node:path';
import { map, type Subscription } from 'rxjs';
import type { CameraConfig } from '../../config/schema.js';
import { activePm25 } from '../../config/pm25-schema.js';
import { Pm25Estimator } from '../../models/pm25/estimator.js';
import type { Pm25Payload } from '../../models/pm25/payloads.js';
import { backoffDelay } from '../../pipeline/camera/backoff.js';
import { cameraFrames } from '../../pipeline/camera/camera-frames.js';
import { pm25Windows } from '../../pipeline/pm25/pm25-windows.js';
import type { Agent } from '../runtime/agent.js';
import type { AgentService } from '../runtime/services.js';
import { followReferences } from './pm25-references.js';

/** Windows kept per camera for the status page's 24-hour chart. */
const historyWindows = 24 * 12;

/** A camera's PM2.5 whose side stream died waits this long before it starts again, doubling to the cap. */
const restartDelayMs = 5000;
const maxRestartDelayMs = 5 * 60_000;

/** One camera's running PM2.5: its side stream, reference subscription and estimator, or its pending restart. */
interface CameraRun {
  /** The camera as this run started it; a push that changes it restarts the run. */
  camera?: CameraConfig;
  sub?: Subscription;
  off?: () => void;
  estimator?: Pm25Estimator;
  timer?: NodeJS.Timeout;
  /** Failures in a row (reset by a frame): the restart backoff's exponent. */
  failures: number;
}

/**
 * PM2.5 for every camera with a `pm25` section: a low-rate side stream of full-resolution frames (keyframes
 * only, one every `sampleEveryS`), the estimator on onnxruntime, one payload per window through the outbox,
 * and reference readings from a co-located sensor on `…/pm25/reference`. A camera whose side stream or
 * estimator fails is restarted alone, with backoff: the others keep their streams and open windows.
 */
export class Pm25Service implements AgentService {
  readonly name = 'pm25';
  private readonly runs = new Map<string, CameraRun>();
  private stopped = false;
  private followed: Subscription | undefined;

  constructor(private readonly opts: { restartDelayMs?: number } = {}) {}

  async start(agent: Agent): Promise<void> {
    this.stopped = false;
    // A fleet push that removed a camera once left its side stream (an ffmpeg, an estimator session) running
    // and publishing for a camera that was gone; a changed source was never read. Runs follow the config.
    this.followed = agent.config$.subscribe(() => this.follow(agent));
    for (const camera of agent.config.cameras) {
      if (camera.enabled && activePm25(camera)) await this.runCamera(agent, camera.id, { failures: 0 });
    }
  }

  /** Stops the runs of cameras gone or changed (and their chart when gone), starts the new and changed ones. */
  private follow(agent: Agent): void {
    const wanted = new Map(
      agent.config.cameras.filter((c) => c.enabled && activePm25(c)).map((c) => [c.id, c]),
    );
    for (const [id, run] of this.runs) {
      const camera = wanted.get(id);
      if (camera && JSON.stringify(run.camera) === JSON.stringify(camera)) continue;
      this.runs.delete(id);
      this.teardown(run);
      if (!agent.config.cameras.some((c) => c.id === id)) {
        agent.pm25.delete(id);
        agent.pm25References.delete(id);
      }
    }
    for (const id of wanted.keys()) if (!this.runs.has(id)) void this.runCamera(agent, id, { failures: 0 });
  }

  /** Starts (or starts again) a camera as the config has it now; a failure schedules its next try. */
  private async runCamera(agent: Agent, id: string, run: CameraRun): Promise<void> {
    this.runs.set(id, run);
    const camera = agent.config.cameras.find((c) => c.id === id);
    if (!camera?.enabled || !activePm25(camera)) return void this.runs.delete(id);
    run.camera = camera;
    try {
      await this.startCamera(agent, camera, run);
    } catch (err) {
      this.cameraFailed(agent, id, run, err);
    }
  }

  private cameraFailed(agent: Agent, id: string, run: CameraRun, err: unknown): void {
    this.teardown(run);
    if (this.stopped || this.runs.get(id) !== run) return;
    run.failures++;
    const baseMs = this.opts.restartDelayMs ?? restartDelayMs;
    const retryInMs = backoffDelay(run.failures, { baseMs, maxMs: maxRestartDelayMs, jitter: 0 });
    agent.log.child({ camera: id, component: 'pm25' }).error('PM2.5 stage failed, restarting it', {
      reason: err instanceof Error ? err.message : String(err),
      retryInMs,
    });
    run.timer = setTimeout(() => {
      run.timer = undefined;
      if (!this.stopped) void this.runCamera(agent, id, run);
    }, retryInMs);
    run.timer.unref();
  }

  private teardown(run: CameraRun): void {
    clearTimeout(run.timer);
    run.sub?.unsubscribe();
    run.off?.();
    const estimator = run.estimator;
    run.sub = run.off = run.estimator = undefined;
    void estimator?.close().catch(() => {});
  }

  private async startCamera(agent: Agent, camera: CameraConfig, run: CameraRun): Promise<void> {
    const cfg = camera.pm25!;
    const log = agent.log.child({ camera: camera.id, component: 'pm25' });
    const estimator = await Pm25Estimator.create(cfg, {
      statePath: path.join(agent.config.dataDir, `pm25-${camera.id}.json`),
      providers: agent.config.models[camera.model]?.providers ?? ['cpu'],
      log,
    });
    run.estimator = estimator;
    // Stopped (or restarted) while the estimator loaded: nothing of this run may start.
    if (this.stopped || this.runs.get(camera.id) !== run) return this.teardown(run);
    const topic = `${agent.topics.camera(camera.id).state.replace(/\/state$/, '')}/pm25`;
    const history = agent.pm25.get(camera.id) ?? [];
    agent.pm25.set(camera.id, history);

    run.off = followReferences(agent, camera, estimator, `${topic}/reference`, log);

    const side = pm25SideStream(camera, cfg.sampleEveryS);
    run.sub = cameraFrames({
      camera: side,
      spec: (probe) => ({
        width: probe.width,
        height: probe.height,
        pixelOrder: 'rgb',
        padPosition: 'center',
        scale: 1,
        padValue: 0,
      }),
      extraInputArgs: keyframesOnly(camera) ? ['-skip_frame', 'nokey'] : [],
      maxOutstanding: 2,
      log,
      onState: (s) => log.debug('pm25 side stream', { state: s.state, reason: s.reason }),
    })
      .pipe(
        map((f) => {
          run.failures = 0;
          // Copied, then released: the frame's shared memory is reused for a later frame, and
          // onnxruntime-node refuses a tensor over a SharedArrayBuffer ("Invalid argument").
          const rgb = new Uint8Array(f.data);
          f.release();
          return {
            camera: camera.id,
            ts: new Date(f.ts),
            rgb,
            width: f.letterbox.inputWidth,
            height: f.letterbox.inputHeight,
          };
        }),
        pm25Windows(estimator, cfg.windowMinutes),
      )
      .subscribe({
        next: (payload: Pm25Payload) => {
          history.push(payload);
          if (history.length > historyWindows) history.shift();
          agent.outbox.enqueue({ topic, priority: 1, retain: true, build: () => payload });
          agent.link?.notify();
        },
        // The side stream is over for good (a source that cannot be retried, an estimator that threw):
        // this camera alone starts again later, or its PM2.5 would stop in silence.
        error: (err: unknown) => this.cameraFailed(agent, camera.id, run, err),
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.followed?.unsubscribe();
    this.followed = undefined;
    const runs = [...this.runs.values()];
    this.runs.clear();
    for (const run of runs) clearTimeout(run.timer);
    for (const run of runs) {
      run.sub?.unsubscribe();
      run.off?.();
    }
    await Promise.allSettled(runs.map((r) => r.estimator?.close()));
  }
}

/** A compressed source's side stream decodes keyframes only; a USB camera's frames are all whole. */
const keyframesOnly = (camera: CameraConfig) => !camera.source.startsWith('/dev/video');

/**
 * How far apart a camera's keyframes may come. Fixed GOPs are 1–10 s, but "smart" codecs stretch the group
 * of pictures while the scene is still, up to a minute, and vtest.avi has one every 25 s.
 */
export const keyframeAllowanceS = 60;

/**
 * The camera as its PM2.5 side stream reads it: one frame per `sampleEveryS`, and for compressed sources
 * keyframes only. Frames then come as far apart as the sampling period or the keyframe interval, whichever
 * is longer, so the camera's deadlines (made for a 10 fps stream) get that much more time: a frame every
 * 20 s would otherwise count as a stall every 10 s, and a keyframe every 25 s a stall at every one. The
 * camera's own pipeline still watches the source with the tight deadlines.
 */
export function pm25SideStream(camera: CameraConfig, sampleEveryS: number): CameraConfig {
  const keyframes = keyframesOnly(camera) ? keyframeAllowanceS : 0;
  return {
    ...camera,
    fps: 1 / sampleEveryS,
    connectTimeoutS: camera.connectTimeoutS + sampleEveryS + keyframes,
    stallTimeoutS: camera.stallTimeoutS + 2 * sampleEveryS + keyframes,
  };
}

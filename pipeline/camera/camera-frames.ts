import { existsSync, statSync } from 'node:fs';
import { concat, defer, map, Observable, retry, switchMap, tap, throwError, timeout, timer } from 'rxjs';
import { type CameraConfig } from '../../config/schema.js';
import { redactUrl } from '../../config/redact-url.js';
import type { Logger } from '../../config/logger.js';
import { computeLetterbox } from '../../models/letterbox.js';
import type { InputSpec, Letterbox } from '../../models/types.js';
import { planFfmpeg } from '../source/ffmpeg-args.js';
import { probeSource, type ProbeInfo } from '../source/probe.js';
import { rawFrames, type RawFrame } from '../source/raw-frames.js';
import { sourceKindOf } from '../source/source-kinds.js';
import { backoffDelay, defaultBackoff, type BackoffOptions } from './backoff.js';
import type { CameraState } from './camera-state.js';

/** A frame ready for the detector, with where it came from. */
export interface CameraFrame extends RawFrame {
  camera: string;
  /** Rising across restarts of the source (and of the camera, from `firstFrameNo`), unlike RawFrame.index. */
  frameNo: number;
  letterbox: Letterbox;
}

export interface CameraFramesOptions {
  camera: CameraConfig;
  /** The frame geometry wanted; a function of the probed source for consumers that want it unscaled. */
  spec: InputSpec | ((probe: ProbeInfo) => InputSpec);
  /** Extra ffmpeg input arguments (e.g. `-skip_frame nokey` for a cheap low-rate side stream). */
  extraInputArgs?: string[];
  /** Frames that may be unreleased at once before a pull-mode source pauses. */
  maxOutstanding: number;
  log: Logger;
  onState: (state: CameraState) => void;
  backoff?: BackoffOptions;
  /** The first frame's `frameNo` (default 0): a restarted camera goes on from its previous run's frames. */
  firstFrameNo?: number;
  /** The `stopped` reason when the frames are unsubscribed (default `agent stopping`). */
  stopReason?: () => string;
}

/** An error that retrying cannot fix (the file is not there). */
class PermanentSourceError extends Error {}

/** Frames must flow this long after a restart before the backoff starts over. */
const stableAfterMs = 10_000;

/**
 * One camera's frames, supervised: probe, run ffmpeg, and restart with exponential backoff and jitter when
 * it exits, errors, or goes silent (no first frame within connectTimeoutS, then none within stallTimeoutS).
 * Reports every state change. A finite file that ends completes the stream (`stopped`).
 */
export function cameraFrames(opts: CameraFramesOptions): Observable<CameraFrame> {
  const { camera, spec, log } = opts;
  const kind = sourceKindOf(camera.source);
  const pull = kind.finite && !camera.realtime;
  const backoff = opts.backoff ?? defaultBackoff;
  let failures = 0;
  let streamingSince = 0;
  let frameNo = opts.firstFrameNo ?? 0;
  let current: CameraState | undefined;
  const setState = (state: CameraState['state'], reason?: string) => {
    if (current && current.state === state && current.reason === reason) return;
    current = { camera: camera.id, state, ...(reason ? { reason } : {}), since: Date.now() };
    opts.onState(current);
  };

  const endsCleanly = kind.finite && !camera.loop;
  const attempt = defer(() => {
    if (!current || current.state === 'stopped') setState('connecting');
    const input = kind.input(camera);
    if (kind.name === 'file' && !existsSync(input)) {
      return throwError(() => new PermanentSourceError(`source file not found: ${input}`));
    }
    // A folder (of stills, as the PM2.5 replay reads) is no video: retrying would fail the same way forever.
    if (kind.name === 'file' && statSync(input).isDirectory()) {
      return throwError(
        () => new PermanentSourceError(`source is a directory, not a video file or stream: ${input}`),
      );
    }
    // Unsubscribing (the camera stopped while it connects) kills ffprobe rather than leaving it to its timeout.
    return new Observable<ProbeInfo>((subscriber) => {
      const abort = new AbortController();
      probeSource(input, kind.inputArgs(camera), camera.connectTimeoutS * 1000, abort.signal).then(
        (probe) => {
          subscriber.next(probe);
          subscriber.complete();
        },
        (err: unknown) => subscriber.error(err),
      );
      return () => abort.abort();
    });
  }).pipe(
    switchMap((probe) => {
      const frameSpec = typeof spec === 'function' ? spec(probe) : spec;
      const letterbox = computeLetterbox(probe.width, probe.height, frameSpec);
      const plan = planFfmpeg(camera, kind, probe, letterbox, frameSpec);
      if (opts.extraInputArgs) plan.inputArgs.push(...opts.extraInputArgs);
      log.debug('ffmpeg starting', {
        args: redactUrl([...plan.inputArgs, '-i', plan.input, ...plan.outputArgs].join(' ')),
      });
      const frames = rawFrames(plan, {
        pull,
        maxOutstanding: opts.maxOutstanding,
        loopDuration: camera.loop ? probe.duration : null,
      }).pipe(
        // The watchdog: the probe has its own deadline, then ffmpeg must deliver its first frame in time.
        timeout({
          first: camera.connectTimeoutS * 1000,
          each: camera.stallTimeoutS * 1000,
          with: (info) =>
            throwError(() =>
              info.seen === 0
                ? new Error(`no frame within ${camera.connectTimeoutS} s of connecting`)
                : new Error(`no frame for ${camera.stallTimeoutS} s`),
            ),
        }),
        map((f): CameraFrame => ({ ...f, camera: camera.id, frameNo: frameNo++, letterbox })),
      );
      // Only a file read once may end; a live stream or a looped file that ends is a failure to retry.
      return endsCleanly
        ? frames
        : concat(
            frames,
            throwError(() => new Error('the stream ended')),
          );
    }),
    tap(() => {
      const now = performance.now(); // a duration: a wall-clock step must not reset (or hold) the backoff
      if (current?.state !== 'streaming') {
        setState('streaming');
        streamingSince = now;
      }
      // The backoff starts over only once frames have flowed a while: a source that gives one frame and dies
      // would otherwise be restarted every second for ever, and never be reported failed.
      if (now - streamingSince >= stableAfterMs) failures = 0;
    }),
  );

  return attempt.pipe(
    retry({
      resetOnSuccess: false,
      delay: (err: unknown) => {
        const reason = err instanceof Error ? err.message : String(err);
        if (err instanceof PermanentSourceError) {
          setState('failed', reason);
          log.error('camera failed', { reason });
          return throwError(() => err);
        }
        failures++;
        const wait = backoffDelay(failures, backoff);
        const gaveUp = failures >= camera.failAfterAttempts;
        setState(gaveUp ? 'failed' : 'stalled', reason);
        log.warn(gaveUp ? 'camera failing, still retrying' : 'camera stalled, restarting', {
          reason,
          attempt: failures,
          retryInMs: wait,
        });
        return timer(wait);
      },
    }),
    tap({
      complete: () => setState('stopped', kind.finite ? 'end of file' : 'stopped'),
      unsubscribe: () => setState('stopped', opts.stopReason?.() ?? 'agent stopping'),
    }),
  );
}

import { catchError, filter, firstValueFrom, map, merge, of, Subject, take } from 'rxjs';
import { silentLogger } from '../../config/logger.js';
import type { CameraConfig } from '../../config/schema.js';
import type { InputSpec } from '../../models/types.js';
import { cameraFrames } from '../../pipeline/camera/camera-frames.js';
import type { CameraState } from '../../pipeline/camera/camera-state.js';
import { errorText, result, type CheckResult } from './check.js';

/** Tiny frames: the check is about reaching the camera and decoding, not about the model. */
const probeSpec: InputSpec = {
  width: 64,
  height: 64,
  pixelOrder: 'rgb',
  padPosition: 'center',
  scale: 1,
  padValue: 114,
};

/**
 * The camera reachable: its first frame through the real pipeline (ffprobe, the hwaccel preset, ffmpeg)
 * within `timeoutS` (default: the camera's own connectTimeoutS, as the agent would wait). The first failed
 * attempt is the verdict, with the pipeline's own reason; the agent would retry, the doctor does not.
 */
export async function checkCamera(
  camera: CameraConfig,
  timeoutS = camera.connectTimeoutS,
): Promise<CheckResult> {
  if (!camera.enabled) return result('camera', camera.id, 'skip', 'disabled');
  const hw = camera.hwaccel === 'none' ? '' : `, hwaccel ${camera.hwaccel}`;
  const states = new Subject<CameraState>();
  const t0 = performance.now();
  const frames = cameraFrames({
    camera: { ...camera, connectTimeoutS: timeoutS, stallTimeoutS: timeoutS },
    spec: probeSpec,
    maxOutstanding: 1,
    log: silentLogger,
    onState: (s) => states.next(s),
  }).pipe(
    map((f) => {
      f.release();
      const s = ((performance.now() - t0) / 1000).toFixed(1);
      const size = `${f.letterbox.srcWidth}x${f.letterbox.srcHeight}`;
      return result('camera', camera.id, 'pass', `first frame after ${s} s (${size}${hw})`);
    }),
    // A permanent failure (no such file) ends the stream with its error rather than a retry.
    catchError((err: unknown) => of(result('camera', camera.id, 'fail', `${errorText(err)}${hw}`))),
  );
  const failures = states.pipe(
    filter(
      (s) =>
        s.state === 'stalled' ||
        s.state === 'failed' ||
        (s.state === 'stopped' && s.reason === 'end of file'),
    ),
    map((s) =>
      result(
        'camera',
        camera.id,
        'fail',
        s.state === 'stopped' ? 'the file ended before a frame' : `${s.reason ?? s.state}${hw}`,
      ),
    ),
  );
  // A hard deadline as well, past the pipeline's own timers (which cover the probe and the first frame).
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(
      () => resolve(result('camera', camera.id, 'fail', `no frame within ${timeoutS} s`)),
      timeoutS * 1000 + 5000,
    );
  });
  try {
    // Unsubscribing (after the first verdict) kills ffmpeg.
    // States first: the pipeline reports a failure before the error that ends the stream.
    return await Promise.race([firstValueFrom(merge(failures, frames).pipe(take(1))), deadline]);
  } finally {
    clearTimeout(timer);
    states.complete();
  }
}

import { Subject, takeUntil, tap } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../config/logger.js';
import { CameraConfig } from '../../../config/schema.js';
import type { InputSpec } from '../../../models/types.js';
import { cameraFrames } from '../../../pipeline/camera/camera-frames.js';
import type { CameraState } from '../../../pipeline/camera/camera-state.js';
import { startRtspServer, type RtspServer } from '../../support/rtsp.js';
import { hasShared, sharedPath } from '../../support/shared.js';
import { familyInput } from '../../../models/detect/families.js';

const spec: InputSpec = { width: 320, height: 320, ...familyInput.yolov8 };

async function until(check: () => boolean, timeoutMs: number, what: string) {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!hasShared)('camera supervision against a real RTSP server', () => {
  let server: RtspServer;
  beforeAll(async () => {
    server = await startRtspServer(sharedPath('media', 'vtest.avi'));
  });
  afterAll(async () => server?.stop());

  it('goes stalled when the server dies and streaming again when it returns, with the credentials hidden', async () => {
    const states: CameraState[] = [];
    let frames = 0;
    const stop = new Subject<void>();
    const url = server.url.replace('rtsp://', 'rtsp://admin:s3cret@');
    const camera = CameraConfig.parse({
      id: 'gate',
      source: url,
      model: 'm',
      stallTimeoutS: 3,
      connectTimeoutS: 10,
    });
    const sub = cameraFrames({
      camera,
      spec,
      maxOutstanding: 2,
      log: silentLogger,
      onState: (s) => states.push(s),
      backoff: { baseMs: 300, maxMs: 1500, jitter: 0.2 },
    })
      .pipe(
        tap((f) => {
          frames++;
          f.release();
        }),
        takeUntil(stop),
      )
      .subscribe();
    try {
      await until(() => frames >= 5, 15_000, 'first frames');
      expect(states.map((s) => s.state)).toEqual(['connecting', 'streaming']);
      await server.stop();
      await until(() => states.at(-1)?.state === 'stalled', 10_000, 'stalled');
      await new Promise((r) => setTimeout(r, 3000));
      await server.start();
      const before = frames;
      await until(
        () => states.at(-1)?.state === 'streaming' && frames > before + 5,
        20_000,
        'streaming again',
      );
      const stalled = states.find((s) => s.state === 'stalled')!;
      expect(stalled.reason).toBeTruthy();
      for (const s of states) expect(JSON.stringify(s)).not.toContain('s3cret');
    } finally {
      stop.next();
      sub.unsubscribe();
    }
  }, 60_000);
});

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { firstValueFrom, take, tap, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../config/logger.js';
import { CameraConfig } from '../../../config/schema.js';
import type { InputSpec } from '../../../models/types.js';
import { cameraFrames } from '../../../pipeline/camera/camera-frames.js';
import type { CameraState } from '../../../pipeline/camera/camera-state.js';
import { hasShared, sharedPath } from '../../support/shared.js';
import { familyInput } from '../../../models/detect/families.js';

const spec: InputSpec = { width: 320, height: 320, ...familyInput.yolov8 };
const camera = (over: Partial<CameraConfig>) =>
  CameraConfig.parse({
    id: 'cam',
    source: sharedPath('media', 'vtest.avi'),
    model: 'm',
    realtime: false,
    ...over,
  });

describe.skipIf(!hasShared)('cameraFrames on a real file through ffmpeg', () => {
  it('delivers letterboxed frames at the model size with the source pts', async () => {
    const states: CameraState[] = [];
    const frames = await firstValueFrom(
      cameraFrames({
        camera: camera({}),
        spec,
        maxOutstanding: 4,
        log: silentLogger,
        onState: (s) => states.push(s),
      }).pipe(
        tap((frame) => frame.release()),
        take(12),
        toArray(),
      ),
    );
    const f = frames[0]!;
    expect(f.data.length).toBe(320 * 320 * 3);
    // vtest.avi is 768x576: scaled to 320x240, centred with 40 px of padding above and below.
    expect(f.letterbox).toMatchObject({
      srcWidth: 768,
      srcHeight: 576,
      scaledWidth: 320,
      scaledHeight: 240,
      padX: 0,
      padY: 40,
    });
    expect([...f.data.subarray(0, 3)]).toEqual([114, 114, 114]); // top padding row
    expect(frames.map((x) => x.pts)).toEqual(frames.map((_, i) => Math.round(i * 0.1 * 1000) / 1000));
    expect(frames.map((x) => x.frameNo)).toEqual([...Array(12).keys()]);
    expect(states.map((s) => s.state)).toEqual(['connecting', 'streaming', 'stopped']);
  });

  it('reads a non-looping file to the end and completes as stopped', async () => {
    const states: CameraState[] = [];
    // the whole clip at 5 fps, read as fast as the consumer releases frames
    const frames = await firstValueFrom(
      cameraFrames({
        camera: camera({ fps: 5 }),
        spec,
        maxOutstanding: 2,
        log: silentLogger,
        onState: (s) => states.push(s),
      }).pipe(
        tap((frame) => frame.release()),
        toArray(),
      ),
    );
    expect(frames.length).toBeGreaterThan(390); // 79.5 s at 5 fps
    expect(frames.length).toBeLessThan(400);
    expect(states.at(-1)).toMatchObject({ state: 'stopped', reason: 'end of file' });
  });

  it('fails a camera whose file does not exist, with the reason', async () => {
    const states: CameraState[] = [];
    const run = firstValueFrom(
      cameraFrames({
        camera: camera({ source: '/nonexistent/clip.mp4' }),
        spec,
        maxOutstanding: 2,
        log: silentLogger,
        onState: (s) => states.push(s),
      }),
    );
    await expect(run).rejects.toThrow('source file not found: /nonexistent/clip.mp4');
    expect(states.at(-1)).toMatchObject({
      state: 'failed',
      reason: 'source file not found: /nonexistent/clip.mp4',
    });
  });
  it('fails a camera whose file source is a directory at once, with the reason (no retries)', async () => {
    const states: CameraState[] = [];
    const folder = mkdtempSync(path.join(tmpdir(), 'vigil-stills-'));
    const run = firstValueFrom(
      cameraFrames({
        camera: camera({ source: folder }),
        spec,
        maxOutstanding: 2,
        log: silentLogger,
        onState: (s) => states.push(s),
      }),
    );
    const reason = `source is a directory, not a video file or stream: ${folder}`;
    await expect(run).rejects.toThrow(reason);
    expect(states.map((s) => s.state)).toEqual(['connecting', 'failed']);
    expect(states.at(-1)).toMatchObject({ state: 'failed', reason });
    rmSync(folder, { recursive: true });
  });

  it('reads later frames into recycled buffers, never into bytes a holder kept', async () => {
    const seen: { buffer: ArrayBufferLike; first: number[] }[] = [];
    const frames = await firstValueFrom(
      cameraFrames({
        camera: camera({}),
        spec,
        maxOutstanding: 1,
        log: silentLogger,
        onState: () => {},
      }).pipe(
        tap((frame) => {
          seen.push({ buffer: frame.data.buffer, first: [...frame.data.subarray(0, 3)] });
          frame.release();
          // Frame 3 is kept by its holder: never recycled, so never read into again.
          if (frame.frameNo !== 3) {
            frame.recycle();
            frame.recycle(); // twice is once
          }
        }),
        take(8),
        toArray(),
      ),
    );
    expect(frames).toHaveLength(8);
    // Frames live in shared memory that inference workers read in place.
    expect(seen.every((s) => s.buffer instanceof SharedArrayBuffer)).toBe(true);
    // Reading ahead, ffmpeg's frames use a few buffers in turn, far fewer than one per frame.
    expect(new Set(seen.map((s) => s.buffer)).size).toBeLessThanOrEqual(4);
    expect(seen.slice(4).every((s) => s.buffer !== seen[3]!.buffer)).toBe(true);
    // Reused buffers hold the new frame's bytes (the padding row), not stale ones.
    expect(seen.every((s) => s.first.join() === '114,114,114')).toBe(true);
  });
});

/** Pids of the running processes whose command line contains `text`. */
function processesWith(text: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', text]).toString().trim().split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

async function until(check: () => boolean, timeoutMs: number, what: string) {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('stopping a camera while it connects', () => {
  it('stopped during the probe of a source that never answers: its ffprobe is gone at once', async () => {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((s) => sockets.add(s)); // accepts, says nothing
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(r));
    });
    const mount = `silent-stop-${process.pid}`;
    const port = (server.address() as net.AddressInfo).port;
    const states: CameraState[] = [];
    const sub = cameraFrames({
      camera: CameraConfig.parse({
        id: 'cam',
        source: `rtsp://127.0.0.1:${port}/${mount}`,
        model: 'm',
        connectTimeoutS: 20,
      }),
      spec,
      maxOutstanding: 2,
      log: silentLogger,
      onState: (s) => states.push(s),
    }).subscribe();
    cleanup.push(() => sub.unsubscribe());
    await until(() => sockets.size > 0 && processesWith(mount).length > 0, 10_000, 'ffprobe connected');
    sub.unsubscribe();
    await until(() => processesWith(mount).length === 0, 20_000, 'ffprobe gone').catch(() => {});
    expect(processesWith(mount)).toEqual([]);
    expect(states.map((s) => s.state)).toEqual(['connecting', 'stopped']);
    expect(states.at(-1)?.reason).toBe('agent stopping');
  });
});

describe('a live source that gives a frame and dies, again and again', () => {
  it('is not restarted every second for ever: the backoff grows and it is reported failed', async () => {
    // An MJPEG-over-HTTP camera whose every connection carries one frame and then closes.
    const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#808080' } })
      .jpeg()
      .toBuffer();
    let connections = 0;
    const server = createServer((_req, res) => {
      connections++;
      res.writeHead(200, { 'Content-Type': 'multipart/x-mixed-replace; boundary=frame' });
      res.end(
        Buffer.concat([
          Buffer.from(`--frame\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`),
          jpeg,
          Buffer.from('\r\n--frame--\r\n'),
        ]),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => server.close(r)));
    const port = (server.address() as net.AddressInfo).port;
    const states: CameraState[] = [];
    const sub = cameraFrames({
      camera: CameraConfig.parse({
        id: 'cam',
        source: `http://127.0.0.1:${port}/flaky.mjpg`,
        model: 'm',
        failAfterAttempts: 3,
      }),
      spec,
      maxOutstanding: 2,
      log: silentLogger,
      backoff: { baseMs: 100, maxMs: 2000, jitter: 0 },
      onState: (s) => states.push(s),
    }).subscribe((f) => f.release());
    cleanup.push(() => sub.unsubscribe());
    await until(() => states.some((s) => s.state === 'failed'), 20_000, 'failed').catch(() => {});
    sub.unsubscribe();
    // Frames came (it streamed each time), and still the attempts added up to failAfterAttempts.
    expect(states.filter((s) => s.state === 'streaming').length).toBeGreaterThanOrEqual(3);
    expect(states.find((s) => s.state === 'failed')?.reason).toBe('the stream ended');
    expect(connections).toBeGreaterThanOrEqual(3);
  });
});

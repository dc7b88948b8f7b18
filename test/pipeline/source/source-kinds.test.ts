import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { firstValueFrom, take, tap, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../config/logger.js';
import { CameraConfig } from '../../../config/schema.js';
import type { InputSpec } from '../../../models/types.js';
import { cameraFrames } from '../../../pipeline/camera/camera-frames.js';
import type { CameraState } from '../../../pipeline/camera/camera-state.js';
import { sourceKindOf } from '../../../pipeline/source/source-kinds.js';
import { hasShared, sharedPath } from '../../support/shared.js';
import { familyInput } from '../../../models/detect/families.js';

const camera = (source: string, over: Partial<CameraConfig> = {}) =>
  CameraConfig.parse({ id: 'cam', source, model: 'm', ...over });

describe('source kinds', () => {
  it('picks the kind from the URL scheme or device path', () => {
    expect(sourceKindOf('rtsp://u:p@10.0.0.5/stream').name).toBe('rtsp');
    expect(sourceKindOf('rtsps://10.0.0.5/stream').name).toBe('rtsp');
    expect(sourceKindOf('http://10.0.0.5/mjpeg').name).toBe('http');
    expect(sourceKindOf('HTTPS://10.0.0.5/video.cgi').name).toBe('http');
    expect(sourceKindOf('/dev/video0').name).toBe('v4l2');
    expect(sourceKindOf('/data/clip.mp4').name).toBe('file');
    expect(sourceKindOf('file:///data/clip%201.mp4').input(camera('file:///data/clip%201.mp4'))).toBe(
      '/data/clip 1.mp4',
    );
  });

  it('opens RTSP over TCP and live sources with their connect timeout in microseconds', () => {
    const c = camera('rtsp://10.0.0.5/s', { connectTimeoutS: 7 });
    expect(sourceKindOf(c.source).inputArgs(c)).toEqual(['-rtsp_transport', 'tcp', '-timeout', '7000000']);
    const h = camera('http://10.0.0.5/m', { connectTimeoutS: 2.5 });
    expect(sourceKindOf(h.source).inputArgs(h)).toEqual(['-rw_timeout', '2500000']);
    expect(sourceKindOf('/dev/video2').inputArgs(camera('/dev/video2'))).toEqual(['-f', 'v4l2']);
  });

  it('reads files at their own rate and in a loop only when asked', () => {
    const kind = sourceKindOf('/c.mp4');
    expect(kind.finite).toBe(true);
    expect(kind.inputArgs(camera('/c.mp4', { realtime: true, loop: true }))).toEqual([
      '-re',
      '-stream_loop',
      '-1',
    ]);
    expect(kind.inputArgs(camera('/c.mp4', { realtime: false, loop: false }))).toEqual([]);
    expect(sourceKindOf('http://x/y').finite).toBe(false);
  });
});

const spec: InputSpec = { width: 320, height: 320, ...familyInput.yolov8 };

describe.skipIf(!hasShared)(
  'an HTTP MJPEG camera (multipart/x-mixed-replace, as IP cameras serve it)',
  () => {
    let server: http.Server | undefined;
    const encoders: ChildProcess[] = [];
    afterEach(() => {
      for (const e of encoders) e.kill('SIGKILL');
      server?.close();
      server?.closeAllConnections();
    });

    it('delivers letterboxed frames of the stream through ffmpeg', async () => {
      server = http.createServer((_req, res) => {
        // A real MJPEG stream: ffmpeg encodes vtest.avi as multipart JPEG at its own rate.
        const enc = spawn('ffmpeg', [
          ...['-hide_banner', '-loglevel', 'error', '-re', '-i', sharedPath('media', 'vtest.avi')],
          ...['-q:v', '5', '-f', 'mpjpeg', '-boundary_tag', 'vigilframe', 'pipe:1'],
        ]);
        encoders.push(enc);
        res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace;boundary=vigilframe' });
        enc.stdout.pipe(res);
        res.on('close', () => enc.kill('SIGKILL'));
      });
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/video.mjpg`;
      const states: CameraState[] = [];
      const frames = await firstValueFrom(
        cameraFrames({
          camera: camera(url, { fps: 5 }),
          spec,
          maxOutstanding: 4,
          log: silentLogger,
          onState: (s) => states.push(s),
        }).pipe(
          tap((f) => f.release()),
          take(5),
          toArray(),
        ),
      );
      expect(frames).toHaveLength(5);
      for (const f of frames) {
        expect(f.data.length).toBe(320 * 320 * 3);
        expect(f.letterbox).toMatchObject({ srcWidth: 768, srcHeight: 576, scaledHeight: 240, padY: 40 });
      }
      // Real picture content below the padding (not all padding grey).
      const row = frames[4]!.data.subarray(160 * 320 * 3, 161 * 320 * 3);
      expect(new Set(row).size).toBeGreaterThan(10);
      expect(states.map((s) => s.state).slice(0, 2)).toEqual(['connecting', 'streaming']);
    });
  },
);

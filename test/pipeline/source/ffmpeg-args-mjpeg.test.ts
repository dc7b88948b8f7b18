import { execFile, execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CameraConfig } from '../../../config/schema.js';
import { familyInput } from '../../../models/detect/families.js';
import { computeLetterbox } from '../../../models/letterbox.js';
import type { InputSpec } from '../../../models/types.js';
import { planFfmpeg } from '../../../pipeline/source/ffmpeg-args.js';
import { ffmpegBinary } from '../../../pipeline/source/ffmpeg.js';
import { probeSource, type ProbeInfo } from '../../../pipeline/source/probe.js';
import { sourceKindOf } from '../../../pipeline/source/source-kinds.js';

const spec: InputSpec = { width: 32, height: 32, ...familyInput.yolov8 };
const arrival = 'settb=1/1000,setpts=(RTCTIME-RTCSTART)/1000';

function planFor(source: string, probe: ProbeInfo, fps?: number) {
  const c = CameraConfig.parse({ id: 'cam', source, model: 'm', ...(fps ? { fps } : {}) });
  return planFfmpeg(
    c,
    sourceKindOf(c.source),
    probe,
    computeLetterbox(probe.width, probe.height, spec),
    spec,
  );
}

const filterOf = (args: string[]) => args[args.indexOf('-vf') + 1]!;

describe('MJPEG over HTTP: frames are timed by their arrival', () => {
  const mjpeg: ProbeInfo = { width: 64, height: 48, codec: 'mjpeg', fps: 25, duration: null };

  it('stamps an HTTP MJPEG stream’s frames before the rate limit', () => {
    const filter = filterOf(planFor('http://10.0.0.5/video.mjpg', mjpeg, 2).outputArgs);
    expect(filter.startsWith(`${arrival},select=`)).toBe(true);
  });

  it('leaves sources with timestamps of their own alone (RTSP, files, other HTTP codecs)', () => {
    for (const [source, probe] of [
      ['rtsp://10.0.0.5/s', mjpeg],
      ['/data/clip.mjpeg', mjpeg],
      ['http://10.0.0.5/live.ts', { ...mjpeg, codec: 'h264' }],
    ] as const)
      expect(filterOf(planFor(source, probe, 2).outputArgs)).not.toContain('setpts');
  });

  describe('on a real ffmpeg and a multipart MJPEG server', () => {
    let server: http.Server;
    let url: string;
    beforeAll(async () => {
      const jpeg = execFileSync(ffmpegBinary(), [
        ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=1', '-frames:v', '1'],
        ...['-c:v', 'mjpeg', '-f', 'image2pipe', 'pipe:1'],
      ]);
      // A 10 fps camera: 15 frames 100 ms apart on each connection, then the end of the stream.
      server = http.createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace; boundary=frame' });
        let sent = 0;
        const timer = setInterval(() => {
          res.write(`--frame\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`);
          res.write(Buffer.concat([jpeg, Buffer.from('\r\n')]));
          if (++sent === 15) {
            clearInterval(timer);
            res.end();
          }
        }, 100);
        res.once('close', () => clearInterval(timer));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/video.mjpg`;
    });
    afterAll(() => {
      server.closeAllConnections();
      server.close();
    });

    it('fps 2 on a 10 fps camera hands on a frame per half second of real time', async () => {
      const probe = await probeSource(url, []);
      expect(probe).toMatchObject({ codec: 'mjpeg', duration: null });
      const p = planFor(url, probe, 2);
      const stderr = await new Promise<string>((resolve, reject) =>
        execFile(
          ffmpegBinary(),
          [...p.inputArgs, '-i', p.input, ...p.outputArgs.slice(0, -2), '-f', 'null', '-'],
          { timeout: 20_000 },
          (err, _out, errText) => (err ? reject(err) : resolve(errText)),
        ),
      );
      const pts = [...stderr.matchAll(/Parsed_showinfo.*\bpts_time:\s*([\d.]+)/g)].map((m) => Number(m[1]));
      // The frames arrive over at least 1.4 s, so they fall in at least three half-second slots. Numbered
      // as if at 25 fps they spanned 0.56 s: two slots, two frames (0.8 a second for `fps: 2`).
      expect(pts.length).toBeGreaterThanOrEqual(3);
    });
  });
});

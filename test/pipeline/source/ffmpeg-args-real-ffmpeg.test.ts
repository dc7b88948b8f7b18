import { execFile, execFileSync, spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FfmpegPlan } from '../../../pipeline/source/ffmpeg-args.js';
import { ffmpegBinary } from '../../../pipeline/source/ffmpeg.js';
import { freePort } from '../../support/free-port.js';
import { hasShared, sharedPath } from '../../support/shared.js';
import { planFor, v8, yolox } from './ffmpeg-args-fixture.js';

/** Runs ffmpeg with exactly the plan's arguments (plus `extra` output options) to raw bytes on stdout. */
function runPlan(plan: FfmpegPlan, extra: string[] = []): { out: Buffer; frames: number } {
  const out = execFileSync(
    ffmpegBinary(),
    [...plan.inputArgs, '-i', plan.input, ...plan.outputArgs, ...extra, 'pipe:1'],
    {
      maxBuffer: 256 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  expect(out.length % plan.frameBytes).toBe(0);
  return { out, frames: out.length / plan.frameBytes };
}

/** ffmpeg's stderr for a plan that is expected to fail (a source that is not there). */
function failingRun(plan: FfmpegPlan): Promise<string> {
  return new Promise((resolve) =>
    execFile(
      ffmpegBinary(),
      [...plan.inputArgs, '-i', plan.input, ...plan.outputArgs, '-frames:v', '1', '-f', 'null', '-'],
      { timeout: 20_000 },
      (err, _stdout, stderr) => {
        expect(err).not.toBeNull();
        resolve(stderr);
      },
    ),
  );
}

describe.skipIf(!hasShared)('the planned arguments on a real ffmpeg', () => {
  const vtest = sharedPath('media', 'vtest.avi');
  let dir: string;
  let red: string;
  let gap: string;
  let short: string;
  let slow: string;
  const make = (file: string, args: string[]) => {
    execFileSync(ffmpegBinary(), ['-v', 'error', '-y', ...args, '-c:v', 'ffv1', file]);
    return file;
  };
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-ffmpeg-args-'));
    red = make(path.join(dir, 'red.mkv'), [
      '-f',
      'lavfi',
      '-i',
      'color=c=red:s=64x48:r=10',
      '-frames:v',
      '3',
    ]);
    // 10 frames at 10 fps with a 2 s hole after the fifth: a variable-rate source
    gap = make(path.join(dir, 'gap.mkv'), [
      ...['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10'],
      ...['-vf', 'setpts=(N+gte(N\\,5)*20)/10/TB', '-frames:v', '10', '-fps_mode', 'passthrough'],
    ]);
    short = make(path.join(dir, 'short.mkv'), [
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=64x48:rate=10',
      '-frames:v',
      '5',
    ]);
    // 3 frames, one every 2 s
    slow = make(path.join(dir, 'slow.mkv'), [
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=64x48:rate=0.5',
      '-frames:v',
      '3',
    ]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const rows = (out: Buffer, w: number, from: number, to: number) => out.subarray(from * w * 3, to * w * 3);

  it('a file source: letterboxed frames, padded centred with 114 (yolov8)', () => {
    const p = planFor(vtest, { realtime: false });
    const { out, frames } = runPlan(p, ['-frames:v', '3']);
    expect(frames).toBe(3);
    const frame = out.subarray(2 * p.frameBytes, 3 * p.frameBytes);
    expect(new Set(rows(frame, 320, 0, 40))).toEqual(new Set([114]));
    expect(new Set(rows(frame, 320, 280, 320))).toEqual(new Set([114]));
    expect(new Set(rows(frame, 320, 40, 41)).size).toBeGreaterThan(10); // picture from row 40
    expect(new Set(rows(frame, 320, 279, 280)).size).toBeGreaterThan(10); // to row 279
  });

  it('a file source for YOLOX: the picture top-left, padded below', () => {
    const p = planFor(vtest, { realtime: false }, yolox);
    const { out } = runPlan(p, ['-frames:v', '1']);
    expect(new Set(rows(out, 320, 0, 1)).size).toBeGreaterThan(10);
    expect(new Set(rows(out, 320, 239, 240)).size).toBeGreaterThan(10);
    expect(new Set(rows(out, 320, 240, 320))).toEqual(new Set([114]));
  });

  it('pixels come in the family’s channel order (RGB for yolov8, BGR for YOLOX)', () => {
    const small = { width: 64, height: 48, codec: 'ffv1', fps: 10, duration: 0.3 };
    const centre = (out: Buffer) => [...out.subarray((160 * 320 + 160) * 3, (160 * 320 + 160) * 3 + 3)];
    const rgb = centre(runPlan(planFor(red, { realtime: false }, v8, small)).out);
    const bgr = centre(runPlan(planFor(red, { realtime: false }, yolox, small)).out);
    const near = (got: number[], want: number[]) =>
      got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(8));
    near(rgb, [255, 0, 0]);
    near(bgr, [0, 0, 255]);
  });

  it('fps: limits the rate handed on (vtest is 10 fps)', () => {
    const two = ['-t', '2'];
    expect(
      runPlan(planFor(vtest, { realtime: false, fps: 5 }, { ...v8, width: 32, height: 32 }), two).frames,
    ).toBe(10);
    expect(
      runPlan(planFor(vtest, { realtime: false, fps: 2 }, { ...v8, width: 32, height: 32 }), two).frames,
    ).toBe(4);
    expect(runPlan(planFor(vtest, { realtime: false }, { ...v8, width: 32, height: 32 }), two).frames).toBe(
      20,
    );
  });

  it('fps above the source’s rate: each source frame once, never a duplicate', () => {
    const spec = { ...v8, width: 32, height: 32 };
    const run = (fps: number) => runPlan(planFor(vtest, { realtime: false, fps }, spec), ['-t', '2']).frames;
    expect(run(25)).toBe(20);
    expect(run(10)).toBe(20);
    expect(run(3)).toBe(6);
  });

  it('fps on a variable-rate source: no fill-ins for its gaps', () => {
    const g = { width: 64, height: 48, codec: 'ffv1', fps: 10, duration: 2.9 };
    const p = planFor(gap, { realtime: false, fps: 5 }, { ...v8, width: 32, height: 32 }, g);
    // frames 0–4 at 0–0.4 s, 5–9 at 2.5–2.9 s: one a 0.2 s slot, 3 before the hole and 3 after
    expect(runPlan(p).frames).toBe(6);
  });

  it('-fps_mode passthrough: a variable-rate source gives each frame once, no fill-ins for its gaps', () => {
    const g = { width: 64, height: 48, codec: 'ffv1', fps: 10, duration: 2.9 };
    const p = planFor(gap, { realtime: false }, { ...v8, width: 32, height: 32 }, g);
    expect(runPlan(p).frames).toBe(10);
  });

  it('loop: a file starts again at its end', () => {
    const s = { width: 64, height: 48, codec: 'ffv1', fps: 10, duration: 0.5 };
    const spec = { ...v8, width: 32, height: 32 };
    expect(runPlan(planFor(short, { realtime: false }, spec, s)).frames).toBe(5);
    expect(
      runPlan(planFor(short, { realtime: false, loop: true }, spec, s), ['-frames:v', '12']).frames,
    ).toBe(12);
  });

  it('realtime: a file is read at its own rate', () => {
    const spec = { ...v8, width: 32, height: 32 };
    const t0 = Date.now();
    runPlan(planFor(vtest, { realtime: true }, spec), ['-frames:v', '8']);
    expect(Date.now() - t0).toBeGreaterThan(600); // 8 frames at 10 fps: 0.7 s of video
  });

  it('hands each frame on when it is made, not when the next one is (no frame of latency)', async () => {
    const p = planFor(
      slow,
      { realtime: true },
      { ...v8, width: 32, height: 32 },
      { width: 64, height: 48, codec: 'ffv1', fps: 0.5, duration: 6 },
    );
    const ff = spawn(ffmpegBinary(), [...p.inputArgs, '-i', p.input, ...p.outputArgs, 'pipe:1']);
    let bytes = 0;
    let err = '';
    /** Bytes on stdout when ffmpeg logged the second frame (showinfo n:1), 2 s of source time in. */
    let bytesAtSecond: number | undefined;
    ff.stdout.on('data', (d: Buffer) => (bytes += d.length));
    ff.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (bytesAtSecond === undefined && /\bn:\s*1\b/.test(err)) bytesAtSecond = bytes;
    });
    const code = await new Promise((resolve) => ff.once('close', resolve));
    expect(code).toBe(0);
    expect(bytes).toBe(3 * p.frameBytes);
    // With ffmpeg's default encoder threads, the first frame came out only with the second, 2 s late.
    expect(bytesAtSecond).toBe(p.frameBytes);
  });

  it('rtsp and usb arguments are ones ffmpeg takes: it fails on the missing source, not on an option', async () => {
    const port = await freePort();
    const rtsp = await failingRun(planFor(`rtsp://admin:s3cret@127.0.0.1:${port}/s`, { connectTimeoutS: 2 }));
    expect(rtsp).toMatch(/Connection refused/);
    const usb = await failingRun(planFor('/dev/video99'));
    expect(usb).toMatch(/video4linux2.*Cannot open video device \/dev\/video99/);
    for (const s of [rtsp, usb])
      expect(s).not.toMatch(/Unrecognized option|Option not found|Invalid argument/);
  });

  it('http: reads a clip a web server serves', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'video/x-matroska' });
      createReadStream(short).pipe(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/clip.mkv`;
      const p = planFor(
        url,
        { connectTimeoutS: 5 },
        { ...v8, width: 32, height: 32 },
        {
          width: 64,
          height: 48,
          codec: 'ffv1',
          fps: 10,
          duration: null,
        },
      );
      const out = await new Promise<Buffer>((resolve, reject) =>
        execFile(
          ffmpegBinary(),
          [...p.inputArgs, '-i', p.input, ...p.outputArgs, 'pipe:1'],
          { encoding: 'buffer', timeout: 20_000, maxBuffer: 1 << 24 },
          (err, stdout) => (err ? reject(err) : resolve(stdout)),
        ),
      );
      expect(out.length).toBe(5 * p.frameBytes);
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });
});

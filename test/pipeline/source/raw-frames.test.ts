import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { firstValueFrom, lastValueFrom, Observable, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FfmpegPlan } from '../../../pipeline/source/ffmpeg-args.js';
import { ffmpegBinary } from '../../../pipeline/source/ffmpeg.js';
import { rawFrames } from '../../../pipeline/source/raw-frames.js';
import { freePort } from '../../support/free-port.js';
import { hasShared, sharedPath } from '../../support/shared.js';
import {
  expectFramesOf,
  ffmpegPipedThrough,
  plan,
  push,
  reference,
  withFfmpeg,
} from './raw-frames-fixture.js';

// Frames cut from ffmpeg's output, paired with their pts, and ffmpeg's failures. Buffer reuse and
// pull-mode flow control: raw-frames-buffers.test.ts.

/** Every frame, its bytes copied as it arrives, then recycled (the pipeline's own pattern). */
async function collect(p: FfmpegPlan, opts = push) {
  return lastValueFrom(
    new Observable<{ index: number; pts: number; bytes: Uint8Array }>((sub) =>
      rawFrames(p, opts).subscribe({
        next: (f) => {
          sub.next({ index: f.index, pts: f.pts, bytes: f.data.slice() });
          f.release();
          f.recycle();
        },
        error: (e: unknown) => sub.error(e),
        complete: () => sub.complete(),
      }),
    ).pipe(toArray()),
  );
}

describe.skipIf(!hasShared)('rawFrames on a real ffmpeg (vtest.avi)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-raw-frames-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['tiny frames, many to a pipe chunk, straddling chunk ends', 7, 5, 40],
    ['odd-sized frames spanning several pipe chunks', 333, 187, 12],
    ['full-size frames (1.3 MB, ~20 chunks each)', 768, 576, 6],
  ])('cuts %s exactly at frame boundaries', async (_name, w, h, n) => {
    const p = plan(w, h, n);
    const ref = reference(p);
    expect(ref.length).toBe(n * p.frameBytes);
    const frames = await collect(p);
    expect(frames).toHaveLength(n);
    expectFramesOf(frames, ref, p.frameBytes);
    // pts from showinfo, paired with the right frame: vtest runs at 10 fps from 0
    frames.forEach((f, i) => expect(f.pts).toBeCloseTo(i / 10, 6));
  });

  const wrappedFfmpeg = (name: string, python: string) => ffmpegPipedThrough(dir, name, python);

  it('reassembles frames from arbitrary chunk sizes (1 byte to 3 frames at a time)', async () => {
    // seeded sizes, flushed one by one with a pause now and then so they reach node as separate reads
    const bin = wrappedFfmpeg(
      'chunky',
      [
        'import random, sys, time',
        'rnd = random.Random(7)',
        'data = sys.stdin.buffer.read()',
        'out = sys.stdout.buffer',
        'i = 0',
        'while i < len(data):',
        '    n = rnd.choice([1, 2, 3, 299, 300, 301, 599, 1000, 2500])',
        '    out.write(data[i:i + n]); out.flush(); i += n',
        '    if rnd.random() < 0.3: time.sleep(0.002)',
        '',
      ].join('\n'),
    );
    const p = plan(10, 10, 8); // 300-byte frames
    const ref = reference(p);
    const frames = await withFfmpeg(bin, () => collect(p));
    expect(frames).toHaveLength(8);
    expectFramesOf(frames, ref, p.frameBytes);
  });

  it('pairs each frame with its own pts after ffmpeg ran ahead of its stderr', async () => {
    // Its stderr held back for 2.5 s from the first frame's line, then let through: frames come unpaired meanwhile.
    const script = path.join(dir, 'late-stderr.py');
    writeFileSync(
      script,
      [
        'import sys, time',
        't0, held = None, []',
        'for line in sys.stdin:',
        '    held.append(line)',
        "    if t0 is None and 'pts_time' in line: t0 = time.monotonic()",
        '    if t0 is not None and time.monotonic() - t0 > 2.5:',
        "        sys.stderr.write(''.join(held)); sys.stderr.flush(); held = []",
        "sys.stderr.write(''.join(held))",
        '',
      ].join('\n'),
    );
    const bin = path.join(dir, 'late-stderr');
    const run = `${ffmpegBinary()} "$@" 2> >(/usr/bin/python3 -u ${script} >&2)`;
    writeFileSync(bin, `#!/bin/bash\n${run}\nstatus=$?\nwait $!\nexit $status\n`);
    chmodSync(bin, 0o755);
    const p = plan(8, 6, 60);
    p.inputArgs = ['-re', ...p.inputArgs]; // 10 fps as it comes: 6 s, most of it after the hold
    const frames = await withFfmpeg(bin, () => collect(p));
    expect(frames).toHaveLength(60);
    const off = frames.filter((f, i) => Math.abs(f.pts - i / 10) > 1e-6);
    expect(off.length, 'frames sent on before their pts came').toBeGreaterThan(0);
    // Those went on with the latest pts known (never a later one); every frame after them has its own.
    for (const f of off) expect(f.pts).toBeLessThan(f.index / 10);
    frames.slice(off.at(-1)!.index + 1).forEach((f) => expect(f.pts).toBeCloseTo(f.index / 10, 6));
    expect(off.at(-1)!.index).toBeLessThan(45);
  });

  it('drops a partial last frame and completes', async () => {
    // ffmpeg's output short by 100 bytes: 5 whole frames and 200 of the 6th's 300 bytes
    const bin = wrappedFfmpeg(
      'short',
      'import sys\ndata = sys.stdin.buffer.read()\nsys.stdout.buffer.write(data[:-100])\n',
    );
    const p = plan(10, 10, 6);
    const ref = reference(p);
    const frames = await withFfmpeg(bin, () => collect(p));
    expect(frames).toHaveLength(5);
    expectFramesOf(frames, ref, p.frameBytes);
  });

  it('wraps pts into [0, loopDuration) for looped files', async () => {
    const frames = await collect(plan(8, 8, 6), { ...push, loopDuration: 0.25 });
    const expected = [0, 0.1, 0.2, 0.3 % 0.25, 0.4 % 0.25, 0.5 % 0.25];
    frames.forEach((f, i) => expect(f.pts).toBeCloseTo(expected[i]!, 6));
  });

  it('errors with ffmpeg’s cause when it fails', async () => {
    const missing = sharedPath('media', 'no-such-clip.avi');
    const err = await firstValueFrom(rawFrames(plan(8, 8, 2, missing), push)).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/ffmpeg exited with code 1/);
    expect((err as Error).message).toContain('No such file or directory');
  });

  it('never puts the credentials of a failing source into its error', async () => {
    const port = await freePort();
    const url = `rtsp://admin:s3cret@127.0.0.1:${port}/stream`;
    const p: FfmpegPlan = { ...plan(8, 8, 2), input: url };
    p.inputArgs.push('-rtsp_transport', 'tcp');
    const err = (await firstValueFrom(rawFrames(p, push)).catch((e: Error) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain(`rtsp://***@127.0.0.1:${port}/stream`);
    expect(err.message).not.toContain('s3cret');
    expect(err.message).not.toContain('admin');
  });
});

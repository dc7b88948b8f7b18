import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ffmpeg from 'fluent-ffmpeg';
import { firstValueFrom, lastValueFrom, Observable, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FfmpegPlan } from '../../../pipeline/source/ffmpeg-args.js';
import { ffmpegBinary } from '../../../pipeline/source/ffmpeg.js';
import { rawFrames, type RawFrame, type RawFrameOptions } from '../../../pipeline/source/raw-frames.js';
import { freePort } from '../../support/free-port.js';
import { hasShared, sharedPath } from '../../support/shared.js';

const vtest = sharedPath('media', 'vtest.avi');
const push: RawFrameOptions = { pull: false, maxOutstanding: 100 };

/** vtest.avi (768×576, 10 fps) scaled to w×h raw RGB, the first `frames` frames, pts logged by showinfo. */
function plan(w: number, h: number, frames: number, input = vtest): FfmpegPlan {
  return {
    input,
    inputArgs: ['-nostdin', '-nostats', '-loglevel', 'info'],
    outputArgs: [
      ...['-an', '-vf', `scale=${w}:${h}:flags=bilinear,showinfo=checksum=0`, '-fps_mode', 'passthrough'],
      ...['-frames:v', String(frames), '-pix_fmt', 'rgb24', '-f', 'rawvideo'],
    ],
    frameBytes: w * h * 3,
  };
}

/** The same ffmpeg command run to completion in one go: the bytes every frame must hold. */
function reference(p: FfmpegPlan): Buffer {
  return execFileSync(
    ffmpegBinary(),
    [...p.inputArgs, '-hide_banner', '-loglevel', 'error', '-i', p.input, ...p.outputArgs, 'pipe:1'],
    { maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] },
  );
}

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

function expectFramesOf(frames: { index: number; bytes: Uint8Array }[], ref: Buffer, frameBytes: number) {
  expect(frames.map((f) => f.index)).toEqual([...Array(frames.length).keys()]);
  frames.forEach((f, i) => {
    expect(f.bytes.length).toBe(frameBytes);
    // Buffer.equals: one comparison per frame, and a failure names the frame
    expect(
      Buffer.from(f.bytes).equals(ref.subarray(i * frameBytes, (i + 1) * frameBytes)),
      `frame ${i}`,
    ).toBe(true);
  });
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

  /** An ffmpeg whose stdout goes through a filter program (a real pipe, chunked as that program writes). */
  function wrappedFfmpeg(name: string, python: string): string {
    const script = path.join(dir, `${name}.py`);
    writeFileSync(script, python);
    const bin = path.join(dir, name);
    writeFileSync(
      bin,
      `#!/bin/bash\nset -o pipefail\n${ffmpegBinary()} "$@" | /usr/bin/python3 -u ${script}\n`,
    );
    chmodSync(bin, 0o755);
    return bin;
  }

  async function withFfmpeg<T>(bin: string, run: () => Promise<T>): Promise<T> {
    ffmpeg.setFfmpegPath(bin);
    try {
      return await run();
    } finally {
      ffmpeg.setFfmpegPath(ffmpegBinary());
    }
  }

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

  it('reuses a recycled buffer for a later frame, never one still held, and keeps at most 4 spares', async () => {
    const p = plan(16, 12, 30);
    const ref = reference(p);
    const held: RawFrame[] = [];
    const recycledAt = new Map<Uint8Array, number>(); // buffer -> index of the frame that gave it back
    const reusedBy = new Map<Uint8Array, number[]>();
    const all: RawFrame[] = [];
    const seen = new Set<Uint8Array>();
    await new Promise<void>((resolve, reject) =>
      rawFrames(p, push).subscribe({
        next: (f) => {
          all.push(f);
          if (recycledAt.has(f.data)) reusedBy.set(f.data, [...(reusedBy.get(f.data) ?? []), f.index]);
          else expect(seen.has(f.data), `frame ${f.index} got a buffer never given back`).toBe(false);
          seen.add(f.data);
          // No frame still held shares its buffer with this one.
          for (const h of held) expect(h.data).not.toBe(f.data);
          f.release();
          if (f.index < 10) {
            held.push(f); // held, not recycled: 0..9
          } else if (f.index === 10) {
            // give back 0..9 at once (0 twice): only 4 are kept as spares
            held[0]!.recycle();
            for (const h of held.splice(0)) {
              recycledAt.set(h.data, h.index);
              h.recycle();
            }
          } else if (f.index === 20) {
            held.push(f); // a frame held from here on
          }
        },
        error: reject,
        complete: resolve,
      }),
    );
    expect(all).toHaveLength(30);
    // Exactly 4 buffers of the 10 given back were used again, each by one later frame only.
    expect(reusedBy.size).toBe(4);
    for (const [buf, users] of reusedBy) {
      expect(users).toHaveLength(1);
      expect(users[0]!).toBeGreaterThan(recycledAt.get(buf)!);
    }
    // Frame 20, never recycled, still holds its own pixels after ten more frames were read.
    expect(Buffer.from(held[0]!.data).equals(ref.subarray(20 * p.frameBytes, 21 * p.frameBytes))).toBe(true);
  });

  it('in pull mode stops at maxOutstanding unreleased frames, and goes on as they are released', async () => {
    const p = plan(320, 320, 40); // 300 kB frames: larger than a pipe chunk
    const got: RawFrame[] = [];
    let done = false;
    const sub = rawFrames(p, { pull: true, maxOutstanding: 2 }).subscribe({
      next: (f) => got.push(f),
      complete: () => (done = true),
    });
    /** Waits (however slow the machine) for `n` frames, then checks that no more come while unreleased. */
    const holdsAt = async (n: number) => {
      await vi.waitFor(() => expect(got.length).toBeGreaterThanOrEqual(n), { timeout: 30_000, interval: 20 });
      await new Promise((r) => setTimeout(r, 1000));
      expect(got).toHaveLength(n);
    };
    try {
      await holdsAt(2);
      got[0]!.release();
      got[0]!.release(); // twice counts once
      await holdsAt(3);
      expect(done).toBe(false);
      for (const f of got) f.release();
      await holdsAt(5);
    } finally {
      sub.unsubscribe();
    }
  });

  /** Every frame in pull mode, each released 5 ms after it came (as a worker's reply would be). */
  async function pullSlowly(p: FfmpegPlan, maxOutstanding: number) {
    let unreleased = 0;
    let most = 0;
    const frames = await lastValueFrom(
      new Observable<{ index: number; bytes: Uint8Array }>((sub) =>
        rawFrames(p, { pull: true, maxOutstanding }).subscribe({
          next: (f) => {
            most = Math.max(most, ++unreleased);
            sub.next({ index: f.index, bytes: f.data.slice() });
            setTimeout(() => {
              unreleased--;
              f.release();
            }, 5);
          },
          error: (e: unknown) => sub.error(e),
          complete: () => sub.complete(),
        }),
      ).pipe(toArray()),
    );
    return { frames, most };
  }

  it('in pull mode holds to maxOutstanding when one pipe chunk holds many frames', async () => {
    const p = plan(7, 5, 40); // 105-byte frames
    // The whole clip in one write: one pipe chunk holds all 40 frames.
    const oneWrite = wrappedFfmpeg(
      'one-write',
      'import sys\nsys.stdout.buffer.write(sys.stdin.buffer.read())\n',
    );
    const { frames, most } = await withFfmpeg(oneWrite, () => pullSlowly(p, 2));
    expect(most).toBe(2);
    expect(frames).toHaveLength(40);
    expectFramesOf(frames, reference(p), p.frameBytes);
  });

  it('in pull mode loses no frame at the end: ffmpeg may exit while its last frames wait in the pipe', async () => {
    const p = plan(7, 5, 40);
    const { frames, most } = await pullSlowly(p, 2);
    expect(most).toBe(2);
    expect(frames).toHaveLength(40);
    expectFramesOf(frames, reference(p), p.frameBytes);
  });

  it('in push mode (live sources) never pauses, whatever is unreleased', async () => {
    const frames = await lastValueFrom(
      rawFrames(plan(320, 320, 12), { pull: false, maxOutstanding: 2 }).pipe(toArray()),
    );
    expect(frames).toHaveLength(12);
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

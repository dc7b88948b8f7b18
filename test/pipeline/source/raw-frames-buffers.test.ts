import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lastValueFrom, Observable, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FfmpegPlan } from '../../../pipeline/source/ffmpeg-args.js';
import { rawFrames, type RawFrame } from '../../../pipeline/source/raw-frames.js';
import { hasShared } from '../../support/shared.js';
import {
  expectFramesOf,
  ffmpegPipedThrough,
  plan,
  push,
  reference,
  withFfmpeg,
} from './raw-frames-fixture.js';

// rawFrames' buffers: reused once recycled, and in pull mode read on only as frames are released.

describe.skipIf(!hasShared)('rawFrames on a real ffmpeg (vtest.avi)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-raw-frames-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const wrappedFfmpeg = (name: string, python: string) => ffmpegPipedThrough(dir, name, python);

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
});

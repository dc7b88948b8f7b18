import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ffmpeg from 'fluent-ffmpeg';
import { expect } from 'vitest';
import type { FfmpegPlan } from '../../../pipeline/source/ffmpeg-args.js';
import { ffmpegBinary } from '../../../pipeline/source/ffmpeg.js';
import type { RawFrameOptions } from '../../../pipeline/source/raw-frames.js';
import { sharedPath } from '../../support/shared.js';

// The plans, reference bytes and wrapped ffmpegs the raw-frames*.test.ts files share.

const vtest = sharedPath('media', 'vtest.avi');
export const push: RawFrameOptions = { pull: false, maxOutstanding: 100 };

/** vtest.avi (768×576, 10 fps) scaled to w×h raw RGB, the first `frames` frames, pts logged by showinfo. */
export function plan(w: number, h: number, frames: number, input = vtest): FfmpegPlan {
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
export function reference(p: FfmpegPlan): Buffer {
  return execFileSync(
    ffmpegBinary(),
    [...p.inputArgs, '-hide_banner', '-loglevel', 'error', '-i', p.input, ...p.outputArgs, 'pipe:1'],
    { maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] },
  );
}

export function expectFramesOf(
  frames: { index: number; bytes: Uint8Array }[],
  ref: Buffer,
  frameBytes: number,
) {
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

/**
 * An ffmpeg whose stdout goes through a filter program (a real pipe, chunked as that program writes): the
 * program and the ffmpeg script that runs it are written into `dir`.
 */
export function ffmpegPipedThrough(dir: string, name: string, python: string): string {
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

/** Runs `run` with fluent-ffmpeg starting `bin`, then points it back at the real ffmpeg. */
export async function withFfmpeg<T>(bin: string, run: () => Promise<T>): Promise<T> {
  ffmpeg.setFfmpegPath(bin);
  try {
    return await run();
  } finally {
    ffmpeg.setFfmpegPath(ffmpegBinary());
  }
}

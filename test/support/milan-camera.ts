import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { Pm25CameraConfigInput } from '../../config/pm25-schema.js';
import { ffmpegBinary } from '../../pipeline/source/ffmpeg.js';
import { repoRoot, sharedPath } from './shared.js';

/** The committed Milan example's pm25 block (config/examples/pm25-milan.yaml). */
export const milanPm25 = (): Pm25CameraConfigInput =>
  (
    parse(readFileSync(`${repoRoot}/config/examples/pm25-milan.yaml`, 'utf8')) as {
      cameras: { pm25: Pm25CameraConfigInput }[];
    }
  ).cameras[0]!.pm25;

/** Eight February frames of the Milan webcam at 1 fps, one keyframe at the start (a keyframe every 8 s). */
export function milanClip(dir: string): string {
  const clip = path.join(dir, 'milan.mp4');
  execFileSync(ffmpegBinary(), [
    ...['-v', 'error', '-framerate', '1', '-pattern_type', 'glob'],
    ...['-i', `${sharedPath('data', 'pm25-milan', 'images')}/202502*.jpg`],
    ...['-frames:v', '8', '-c:v', 'libx264', '-g', '600', '-pix_fmt', 'yuv420p', clip],
  ]);
  return clip;
}

/** One clear February noon of the Milan webcam held for 8 s at 1 fps, a keyframe every 2 s. */
export function milanNoonClip(dir: string): string {
  const clip = path.join(dir, 'milan-noon.mp4');
  execFileSync(ffmpegBinary(), [
    ...['-v', 'error', '-loop', '1', '-framerate', '1', '-t', '8'],
    ...['-i', sharedPath('data', 'pm25-milan', 'images', '20250204-1300.jpg')],
    ...['-c:v', 'libx264', '-g', '2', '-pix_fmt', 'yuv420p', clip],
  ]);
  return clip;
}

/**
 * A status-page camera `air` on the clear Milan noon (milanNoonClip), model `det`, with PM2.5 in 9 s windows
 * and no latitude, so no night gate at the test's hour.
 */
export const milanAirCamera = (dir: string) => ({
  id: 'air',
  name: 'Air',
  source: milanNoonClip(dir),
  model: 'det',
  fps: 1,
  loop: true,
  pm25: { ...milanPm25(), latitude: undefined, longitude: undefined, sampleEveryS: 2, windowMinutes: 0.15 },
});

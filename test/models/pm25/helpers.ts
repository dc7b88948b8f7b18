import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { Pm25CameraConfig, type Pm25CameraConfigInput } from '../../../config/pm25-schema.js';
import { readFrame } from '../../../models/pm25/replay.js';
import type { RgbFrame } from '../../../models/pm25/raw-features.js';
import { repoRoot, sharedPath } from '../../support/shared.js';

/** The committed Milan example's pm25 block, with overrides. */
export function milanConfig(overrides: Partial<Pm25CameraConfigInput> = {}): Pm25CameraConfig {
  const doc = parse(readFileSync(`${repoRoot}/config/examples/pm25-milan.yaml`, 'utf8')) as {
    cameras: { pm25: Pm25CameraConfigInput }[];
  };
  return Pm25CameraConfig.parse({ ...doc.cameras[0]!.pm25, ...overrides });
}

export const milanImages = () => sharedPath('data', 'pm25-milan', 'images');
export const milanLabels = () => sharedPath('data', 'pm25-milan', 'labels.csv');

export function milanFrame(file: string, cfg: Pm25CameraConfig): Promise<RgbFrame> {
  return readFrame(`${milanImages()}/${file}`, cfg);
}

/** The frame's content moved by (dx, dy) px (right and down positive), the uncovered edge black. */
export function moved(frame: RgbFrame, dx: number, dy: number): RgbFrame {
  const { width, height } = frame;
  const rgb = new Uint8Array(frame.rgb.length);
  for (let y = Math.max(0, dy); y < Math.min(height, height + dy); y++) {
    const from = ((y - dy) * width + Math.max(0, -dx)) * 3;
    const n = (width - Math.abs(dx)) * 3;
    rgb.set(frame.rgb.subarray(from, from + n), (y * width + Math.max(0, dx)) * 3);
  }
  return { rgb, width, height };
}

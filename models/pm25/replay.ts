import { readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Pm25CameraConfig } from '../../config/pm25-schema.js';
import { Pm25Estimator, type FrameEstimate } from './estimator.js';
import { readLabels, describeSkipped } from './label-csv.js';
import { parseLocalTime, timeFromFileName } from './local-time.js';
import type { RgbFrame } from './raw-features.js';

export { describeSkipped, readLabels, type LabelRow } from './label-csv.js';

/** One line of `vigil pm25 replay` output. */
export interface ReplayLine {
  file: string;
  time: string;
  pm25: number | null;
  lo80: number | null;
  hi80: number | null;
  lo95: number | null;
  hi95: number | null;
  flags: string[];
  state: string;
  source: FrameEstimate['source'];
}

export interface ReplayOptions {
  images: string;
  labels?: string;
  calibrateUntil?: Date;
  /** A reading reaches the calibrator this long after its timestamp (an hourly mean is known after the hour). */
  delayMs?: number;
  statePath?: string;
  /** Told what the replay left out of its inputs (label rows without a usable value). */
  onWarning?: (text: string) => void;
  /** Called with every evaluated frame (the evaluation script keeps the features). */
  onEstimate?: (file: string, estimate: FrameEstimate) => void;
}

/** Decodes an image to the configured frame size (a different size is resized, as a camera's would be). */
export async function readFrame(file: string, cfg: Pm25CameraConfig): Promise<RgbFrame> {
  const { width, height } = cfg.frame;
  const { data, info } = await sharp(file)
    .removeAlpha()
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    rgb: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
  };
}

/**
 * Walks a folder of timestamped frames in time order. Labels before `calibrateUntil` reach the calibrator as
 * a co-located sensor's readings would, each `delayMs` after its time; after it, the images stand alone.
 */
export async function* replay(cfg: Pm25CameraConfig, opts: ReplayOptions): AsyncGenerator<ReplayLine> {
  const skipped: string[] = [];
  const labels = opts.labels ? readLabels(opts.labels, cfg.timezone, skipped) : [];
  if (skipped.length) opts.onWarning?.(describeSkipped(opts.labels!, skipped));
  const labelTime = new Map(labels.filter((l) => l.file).map((l) => [l.file!, l.ts]));
  const frames = readdirSync(opts.images)
    .filter((f) => /\.(jpe?g|png|webp)$/i.test(f))
    .map((f) => {
      const wall = timeFromFileName(f);
      const ts = labelTime.get(f) ?? (wall ? parseLocalTime(wall, cfg.timezone) : undefined);
      if (!ts) throw new Error(`${f}: no time (not in the labels, and no YYYYMMDD-HHMM in its name)`);
      return { file: f, ts };
    })
    .sort((a, b) => a.ts.getTime() - b.ts.getTime());

  const until = opts.calibrateUntil?.getTime() ?? -Infinity;
  const delay = opts.delayMs ?? 3_600_000;
  const pending = labels
    .filter((l) => l.ts.getTime() < until)
    .sort((a, b) => a.ts.getTime() - b.ts.getTime());
  const estimator = await Pm25Estimator.create(cfg, opts.statePath ? { statePath: opts.statePath } : {});
  try {
    for (const { file, ts } of frames) {
      while (pending.length && pending[0]!.ts.getTime() + delay <= ts.getTime()) {
        const l = pending.shift()!;
        estimator.addReading({ ts: l.ts, pm25: l.pm25 });
      }
      const est = await estimator.evaluate(await readFrame(path.join(opts.images, file), cfg), ts);
      opts.onEstimate?.(file, est);
      yield {
        file,
        time: est.ts,
        pm25: est.pm25,
        lo80: est.i80?.[0] ?? null,
        hi80: est.i80?.[1] ?? null,
        lo95: est.i95?.[0] ?? null,
        hi95: est.i95?.[1] ?? null,
        flags: est.flags,
        state: est.calibration.state,
        source: est.source,
      };
    }
  } finally {
    await estimator.close();
  }
}

import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Pm25CameraConfig } from '../../config/pm25-schema.js';
import { csvFields } from './csv-line.js';
import { Pm25Estimator, type FrameEstimate } from './estimator.js';
import { parseLocalTime, timeFromFileName } from './local-time.js';
import { maxReferencePm25 } from './payloads.js';
import type { RgbFrame } from './raw-features.js';

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

export interface LabelRow {
  file?: string;
  ts: Date;
  pm25: number;
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

/**
 * Reads a labels CSV: a time column (`datetime`, `time` or `ts`), a PM2.5 column (`pm25…`), optionally `file`.
 * A row without a usable PM2.5 value is left out and described in `skipped`: a blank cell (a station's gap,
 * which would otherwise read as 0 µg/m³), text, or a value outside 0–2000 µg/m³ (missing-value codes such as
 * -999). A row whose time cannot be read refuses the file, naming its line.
 */
export function readLabels(file: string, timeZone: string, skipped: string[] = []): LabelRow[] {
  // A spreadsheet's "CSV UTF-8" starts with a byte-order mark, which hid the first column's name.
  const [header, ...lines] = readFileSync(file, 'utf8')
    .replace(/^\uFEFF/, '')
    .trim()
    .split(/\r?\n/);
  const cols = csvFields(header!).map((c) => c.trim().toLowerCase());
  const ti = cols.findIndex((c) => ['datetime', 'time', 'ts', 'timestamp'].includes(c));
  const pi = cols.findIndex((c) => c.startsWith('pm25') || c.startsWith('pm2.5') || c === 'pm2_5');
  const fi = cols.indexOf('file');
  if (ti < 0 || pi < 0) throw new Error(`${file}: needs a time column (datetime/time/ts) and a pm25 column`);
  const rows: LabelRow[] = [];
  lines.forEach((l, i) => {
    if (!l.trim()) return;
    const line = i + 2;
    const f = csvFields(l);
    const cell = (f[pi] ?? '').trim();
    const pm25 = Number(cell);
    if (!cell || !Number.isFinite(pm25) || pm25 < 0 || pm25 > maxReferencePm25) {
      skipped.push(
        `line ${line}: ${cell ? `${cell} is not a PM2.5 value in 0-${maxReferencePm25}` : 'blank'}`,
      );
      return;
    }
    let ts: Date;
    try {
      ts = parseLocalTime(f[ti] ?? '', timeZone);
    } catch (err) {
      throw new Error(`${file}, line ${line}: ${(err as Error).message}`);
    }
    rows.push(fi >= 0 ? { ts, pm25, file: f[fi]!.trim() } : { ts, pm25 });
  });
  return rows;
}

/** One line for a log: how many label rows were left out, and the first few. */
export function describeSkipped(file: string, skipped: readonly string[]): string {
  const shown = skipped.slice(0, 5).join('; ');
  const more = skipped.length > 5 ? `; ${skipped.length - 5} more` : '';
  return `${path.basename(file)}: ${skipped.length} row(s) without a usable PM2.5 value left out (${shown}${more})`;
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

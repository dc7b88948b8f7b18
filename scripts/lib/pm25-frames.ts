import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Pm25CameraConfig } from '../../config/pm25-schema.js';
import { Pm25Estimator } from '../../models/pm25/estimator.js';
import { FeatureExtractor } from '../../models/pm25/feature-extractor.js';
import { parseCutoff, parseLocalTime, timeFromFileName } from '../../models/pm25/local-time.js';
import { derivePhysics } from '../../models/pm25/physics.js';
import { readFrame, readLabels } from '../../models/pm25/replay.js';
import type { SelectionFrame } from '../../models/pm25/selection.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const shared = process.env.VIGIL_SHARED ?? path.resolve(repoRoot, '..', 'shared');

/** The options every PM2.5 script takes, for `parseArgs`: by default the Milan webcam in ../shared. */
export const pm25DatasetOptions = {
  images: { type: 'string', default: path.join(shared, 'data/pm25-milan/images') },
  labels: { type: 'string', default: path.join(shared, 'data/pm25-milan/labels.csv') },
  config: { type: 'string', default: path.join(repoRoot, 'config/examples/pm25-milan.yaml') },
  'calibrate-until': { type: 'string', default: '2025-04-01' },
} as const;

/** The scripts' --calibrate-until, as `vigil pm25 replay` reads it; a bad one ends the script with exit 2. */
export function cutoffArg(text: string, timeZone: string): Date {
  try {
    return parseCutoff(text, timeZone);
  } catch (err) {
    console.error(`--calibrate-until: ${(err as Error).message}`);
    process.exit(2);
  }
}

/**
 * The frames before `end` that pass the gates, with their physics and the reading of their time (frames and
 * hourly readings share timestamps in the dataset; a reading pairs with its frame as the estimator's 40-minute
 * pairing would). Frames at or after `end` are never decoded, so selection cannot see them.
 */
export async function selectionFrames(
  cfg: Pm25CameraConfig,
  images: string,
  labelsCsv: string,
  end: Date,
): Promise<SelectionFrame[]> {
  const labels = readLabels(labelsCsv, cfg.timezone).filter((l) => l.ts < end);
  const byFile = new Map(labels.filter((l) => l.file).map((l) => [l.file!, l]));
  const byTime = new Map(labels.map((l) => [l.ts.getTime(), l.pm25]));
  const files = readdirSync(images)
    .filter((f) => /\.(jpe?g|png|webp)$/i.test(f))
    .map((file) => {
      const wall = timeFromFileName(file);
      const ts = byFile.get(file)?.ts ?? (wall ? parseLocalTime(wall, cfg.timezone) : undefined);
      return { file, ts };
    })
    .filter((f): f is { file: string; ts: Date } => f.ts !== undefined && f.ts < end)
    .sort((a, b) => a.ts.getTime() - b.ts.getTime());
  const extractor = await FeatureExtractor.create(cfg);
  // A fresh estimator with no readings: only its gates (and their running baselines) are used here.
  const gates = await Pm25Estimator.create(cfg);
  const out: SelectionFrame[] = [];
  try {
    for (const { file, ts } of files) {
      const raw = await extractor.run(await readFrame(path.join(images, file), cfg));
      if (!gates.estimateFromRaw(raw, ts).estimable) continue;
      const pm25 = byTime.get(ts.getTime());
      out.push({
        ts: ts.getTime(),
        physics: derivePhysics(cfg, raw),
        ...(pm25 === undefined ? {} : { pm25 }),
      });
    }
  } finally {
    await extractor.close();
    await gates.close();
  }
  return out;
}

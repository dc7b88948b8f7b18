/**
 * Chooses the PM2.5 site model's settings (regressors, window, forgetting, ridge, band method) by rolling-origin
 * validation inside the calibration period only, and prints every candidate's validation score. Frames and
 * labels at or after --calibrate-until are never read. Usage:
 *   node --import tsx scripts/select-pm25.ts [--images DIR] [--labels CSV] [--config FILE] [--calibrate-until T]
 */
import './lib/telemetry-off.js'; // before anything loads onnxruntime
import { parseArgs } from 'node:util';
import { loadPm25Camera } from '../agent/cli/commands/pm25.js';
import type { Pm25CameraConfig } from '../config/pm25-schema.js';
import {
  DEFAULT_PROTOCOL,
  rollingOrigin,
  scoreForecasts,
  selectCalibration,
  type SelectionResult,
} from '../models/pm25/selection.js';
import { cutoffArg, pm25DatasetOptions, selectionFrames } from './lib/pm25-frames.js';

export const describeCal = (c: Pm25CameraConfig['calibration']) =>
  `[${c.features.join(',')}] win ${c.windowDays}d half-life ${c.halfLifeDays ?? '∞'}d ridge ${c.ridge}` +
  (c.intervals === 'forecast' ? ` bands forecast@${c.forecastLagDays}d` : ' bands prequential');

/** Runs the selection and prints the validation tables; returns the chosen calibration settings. */
export async function runSelection(
  cfg: Pm25CameraConfig,
  images: string,
  labels: string,
  until: Date,
  top = 12,
): Promise<SelectionResult> {
  const frames = await selectionFrames(cfg, images, labels, until);
  const opts = { ...DEFAULT_PROTOCOL, end: until.getTime() };
  const result = selectCalibration(frames, cfg.prior, opts);
  const f = (v: number, d = 2) => v.toFixed(d).padStart(7);
  const row = (s: SelectionResult['point'][number]['score']) =>
    `${f(s.MAE)}${f(s.RMSE)}${f(s.R2)}${f(s.bias)}${f(100 * s.coverage80, 1)}${f(100 * s.coverage95, 1)}${f(s.width80, 1)}`;
  const labelled = frames.filter((x) => x.pm25 !== undefined).length;
  console.log(
    `rolling-origin validation before ${until.toISOString()}: ${frames.length} gated frames (${labelled} labelled), ` +
      `weekly origins, ${DEFAULT_PROTOCOL.horizonMs / 86_400_000}-day horizon, ${result.point[0]!.score.origins} origins, ${result.point[0]!.score.n} forecasts`,
  );
  const head = `    MAE   RMSE     R²   bias   c80%   c95%  w80`;
  console.log(
    `\npoint models (${result.point.length} candidates; best ${top} by RMSE, and the config's own):`,
  );
  console.log(`${'settings'.padEnd(72)}${head}`);
  const ranked = [...result.point].sort((a, b) => a.score.RMSE - b.score.RMSE);
  for (const p of ranked.slice(0, top)) console.log(`${describeCal(p.cal).padEnd(72)}${row(p.score)}`);
  const current = scoreForecasts(rollingOrigin(frames, cfg.calibration, cfg.prior, opts));
  console.log(`${`config as given: ${describeCal(cfg.calibration)}`.padEnd(72)}${row(current)}`);
  console.log(`\nbands for the chosen point model:`);
  for (const p of result.intervals) console.log(`${describeCal(p.cal).padEnd(72)}${row(p.score)}`);
  console.log(`\nchosen: ${describeCal(result.chosen)}`);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values: args } = parseArgs({
    options: {
      ...pm25DatasetOptions,
    },
  });
  const { cfg } = loadPm25Camera(args.config);
  const until = cutoffArg(args['calibrate-until'], cfg.timezone);
  try {
    const { chosen } = await runSelection(cfg, args.images, args.labels, until);
    console.log(JSON.stringify({ calibration: chosen }));
  } catch (err) {
    console.error(`select:pm25: ${(err as Error).message}`);
    process.exit(1);
  }
}

import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError, formatIssues, readConfigFile } from '../../../config/load.js';
import { Pm25CameraConfig } from '../../../config/pm25-schema.js';
import { parseCutoff } from '../../../models/pm25/local-time.js';
import { replay } from '../../../models/pm25/replay.js';
import { reportConfigError } from './check-config.js';
import type { CliResult } from '../main.js';
import { UsageError } from '../usage-error.js';

/** The `pm25` block of one camera in a Vigil config file (the first camera that has one, or `--camera`). */
export function loadPm25Camera(file: string, cameraId?: string): { camera: string; cfg: Pm25CameraConfig } {
  const doc = readConfigFile(file) as { cameras?: { id?: string; pm25?: unknown }[] };
  const cameras = (doc.cameras ?? []).filter(
    (c) => c && c.pm25 !== undefined && (!cameraId || c.id === cameraId),
  );
  const cam = cameras[0];
  if (!cam) throw new ConfigError([`no camera${cameraId ? ` "${cameraId}"` : ''} with a pm25 block`], file);
  const index = (doc.cameras ?? []).indexOf(cam);
  const parsed = Pm25CameraConfig.safeParse(cam.pm25);
  if (!parsed.success) {
    throw new ConfigError(
      formatIssues(parsed.error.issues, cam.pm25, Pm25CameraConfig).map((l) => `cameras[${index}].pm25.${l}`),
      file,
    );
  }
  return { camera: cam.id ?? `camera${index}`, cfg: parsed.data };
}

/** `--calibrate-until`: a date (midnight) or a local time in the site's zone; a bad one is a usage error. */
function calibrateUntil(text: string, timezone: string): Date {
  try {
    return parseCutoff(text, timezone);
  } catch (err) {
    throw new UsageError(`--calibrate-until: ${(err as Error).message}`);
  }
}

export function registerPm25(program: Command, result: CliResult): void {
  const pm25 = program.command('pm25').description('PM2.5 visual estimation tools');
  pm25
    .command('replay')
    .description(
      'estimate PM2.5 over a folder of timestamped frames; labels before --calibrate-until act as a co-located sensor',
    )
    .requiredOption(
      '--images <dir>',
      'folder of frames named YYYYMMDD-HHMM.jpg (or listed in the labels CSV)',
    )
    .requiredOption('-c, --config <file>', 'Vigil config with a cameras[].pm25 block')
    .option(
      '--labels <csv>',
      'reference readings: a time column (datetime) and a pm25 column; times without offset are local',
    )
    .option(
      '--calibrate-until <time>',
      'readings before this time reach the calibrator (each one hour late); none after',
    )
    .option('--camera <id>', 'camera whose pm25 block to use (default: the first that has one)')
    .option('--state <file>', 'persist the calibration here (default: in memory, a fresh start)')
    .option('-o, --out <file>', 'write the JSON lines here instead of stdout')
    .action(async (opts: Record<string, string | undefined>) => {
      try {
        const { cfg } = loadPm25Camera(opts.config!, opts.camera);
        const until = opts.calibrateUntil ? calibrateUntil(opts.calibrateUntil, cfg.timezone) : undefined;
        if (until && !opts.labels) throw new UsageError('--calibrate-until needs --labels');
        const out = opts.out ? createWriteStream(opts.out) : process.stdout;
        for await (const line of replay(cfg, {
          images: opts.images!,
          ...(opts.labels ? { labels: opts.labels } : {}),
          ...(until ? { calibrateUntil: until } : {}),
          ...(opts.state ? { statePath: opts.state } : {}),
          onWarning: (text) => console.error(`vigil pm25 replay: ${text}`),
        })) {
          out.write(JSON.stringify(line) + '\n');
        }
        if (out !== process.stdout)
          await new Promise<void>((resolve) => (out as NodeJS.WritableStream).end(resolve));
        result.code = 0;
      } catch (err) {
        result.code = reportConfigError(err);
      }
    });
}

import type { VigilConfig } from '../../config/schema.js';
import { checkBroker } from './broker-check.js';
import { checkCamera } from './camera-check.js';
import type { CheckResult } from './check.js';
import { checkClock } from './clock-check.js';
import { checkDisk } from './disk-check.js';
import { checkFfmpeg } from './ffmpeg-check.js';
import { checkGpuLoad, type GpuCheckOptions } from './gpu-check.js';
import { checkModels } from './model-check.js';
import { checkProviders } from './provider-check.js';
import { checkSecurity } from './security-check.js';

export interface DoctorOptions {
  /** Seconds each camera has to deliver its first frame; default: its own connectTimeoutS. */
  cameraTimeoutS?: number;
  brokerTimeoutMs: number;
  gpu?: GpuCheckOptions;
}

export const defaultDoctorOptions: DoctorOptions = { brokerTimeoutMs: 3000 };

/**
 * Runs every check and returns one line each, in a fixed order. Local checks first, then the network
 * ones together (broker, cameras), then the providers one at a time: session creation blocks the event
 * loop (TensorRT builds an engine for seconds), which would starve the camera timers if run alongside.
 */
export async function runDoctor(
  cfg: VigilConfig,
  opts: DoctorOptions = defaultDoctorOptions,
): Promise<CheckResult[]> {
  const [ffmpeg, models, gpu, disk, clock] = await Promise.all([
    checkFfmpeg(cfg),
    checkModels(cfg),
    checkGpuLoad(cfg, opts.gpu),
    checkDisk(cfg),
    checkClock(cfg),
  ]);
  const [broker, ...cameras] = await Promise.all([
    checkBroker(cfg, opts.brokerTimeoutMs),
    ...cfg.cameras.map((c) => checkCamera(c, opts.cameraTimeoutS)),
  ]);
  const providers = await checkProviders(cfg);
  return [...ffmpeg, ...models, ...providers, gpu, broker!, ...checkSecurity(cfg), ...cameras, disk, clock];
}

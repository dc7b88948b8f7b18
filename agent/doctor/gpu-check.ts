import { readFile } from 'node:fs/promises';
import path from 'node:path';
import si from 'systeminformation';
import type { VigilConfig } from '../../config/schema.js';
import { errorText, result, type CheckResult } from './check.js';

/**
 * Where Jetson kernels publish GPU load, in per mille (tegrastats reads the same). The path moved:
 * `gpu.0` on Xavier and older L4T, the platform device on Orin (L4T r35/r36).
 */
export const jetsonLoadFiles = [
  'sys/devices/gpu.0/load',
  'sys/devices/platform/gpu.0/load',
  'sys/devices/platform/bus@0/17000000.gpu/load',
  'sys/devices/platform/17000000.gpu/load',
];

export interface GpuCheckOptions {
  /** Filesystem root, so tests can stand in a fake sysfs. */
  root?: string;
  /** systeminformation's controller list (NVIDIA desktop GPUs report utilisation through nvidia-smi). */
  graphics?: () => Promise<{
    controllers: { model: string; vendor: string; utilizationGpu?: number | null }[];
  }>;
}

/** GPU load readable: the agent reports it in its health messages. */
export async function checkGpuLoad(cfg: VigilConfig, opts: GpuCheckOptions = {}): Promise<CheckResult> {
  const root = opts.root ?? '/';
  for (const rel of jetsonLoadFiles) {
    const file = path.join(root, rel);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      return result('gpu load', undefined, 'fail', `/${rel} exists but cannot be read: ${errorText(err)}`);
    }
    const perMille = Number(text.trim());
    if (!Number.isFinite(perMille) || text.trim() === '') {
      return result(
        'gpu load',
        undefined,
        'fail',
        `/${rel} holds "${text.trim().slice(0, 20)}", not a number`,
      );
    }
    return result('gpu load', undefined, 'pass', `Jetson GPU ${(perMille / 10).toFixed(1)}% (/${rel})`);
  }
  let controllers: Awaited<ReturnType<NonNullable<GpuCheckOptions['graphics']>>>['controllers'] = [];
  try {
    controllers = (await (opts.graphics ?? si.graphics)()).controllers;
  } catch (err) {
    return result('gpu load', undefined, 'warn', `systeminformation failed: ${errorText(err)}`);
  }
  const measured = controllers.find((c) => typeof c.utilizationGpu === 'number');
  if (measured)
    return result(
      'gpu load',
      undefined,
      'pass',
      `${measured.model} ${measured.utilizationGpu}% (systeminformation)`,
    );
  const wantsGpu = Object.values(cfg.models).some((m) => m.providers.some((p) => p !== 'cpu'));
  if (controllers.length) {
    const names = controllers.map((c) => c.model || c.vendor).join(', ');
    return result(
      'gpu load',
      undefined,
      wantsGpu ? 'warn' : 'skip',
      `${names}: load not readable (nvidia-smi missing?)`,
    );
  }
  return result(
    'gpu load',
    undefined,
    wantsGpu ? 'warn' : 'skip',
    'no GPU: not a Jetson (no /sys/devices/gpu.0/load) and systeminformation lists no GPU',
  );
}

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CalibratorSnapshot } from './calibrator.js';
import type { GateState } from './gates.js';

/** What survives a restart: the site model and its residuals, the gates' baselines, the reference view. */
export interface EstimatorState {
  version: 1;
  calibrator: CalibratorSnapshot;
  gates: GateState;
  reference: { width: number; height: number; thumb: number[] } | null;
}

export function loadState(file: string): EstimatorState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const state = JSON.parse(text) as EstimatorState;
  if (state.version !== 1) throw new Error(`${file}: unknown pm25 state version ${String(state.version)}`);
  return state;
}

/** Write-then-rename, so a crash mid-write leaves the previous state, not half a file. */
export function saveState(file: string, state: EstimatorState): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(state));
  renameSync(tmp, file);
}

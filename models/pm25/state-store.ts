import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { CalibratorSnapshot } from './calibrator.js';
import type { GateState } from './gates.js';

/** What survives a restart: the site model and its residuals, the gates' baselines, the reference view. */
export interface EstimatorState {
  version: 1;
  calibrator: CalibratorSnapshot;
  gates: GateState;
  /** `regions`: the regions the view was taken for (regionsKey); new regions take a new reference. */
  reference: { width: number; height: number; thumb: number[]; regions?: string } | null;
}

/** A state file that cannot be used; `corrupt`: it was read, but its content is not a state. */
export class Pm25StateError extends Error {
  constructor(
    message: string,
    readonly corrupt: boolean,
  ) {
    super(message);
  }
}

const num = z.number();
const StateShape = z.object({
  version: z.literal(1),
  calibrator: z.object({
    features: z.array(z.string()).optional(),
    pairs: z.array(z.object({ ts: num, x: z.array(num), y: num })),
    scores: z.array(z.object({ ts: num, score: num })),
    conformal: z.array(z.object({ alpha: num, alphaT: num })).length(2),
    forecastScores: z.array(num).optional(),
    model: z.object({ intercept: num, slopes: z.array(num) }).nullable(),
    sinceRefit: num,
    lastRefit: num.nullable(),
    totalPairs: num,
  }),
  gates: z.object({ sharpness: z.array(num).length(24), sharpnessCount: z.array(num).length(24) }),
  reference: z
    .object({ width: num, height: num, thumb: z.array(num), regions: z.string().optional() })
    .nullable(),
});

/** The saved state; undefined when there is none. Throws a Pm25StateError naming the file and the problem. */
export function loadState(file: string): EstimatorState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Pm25StateError(`${file}: cannot be read: ${(err as Error).message}`, false);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Pm25StateError(
      `${file}: not JSON (${text.length} bytes, truncated or corrupt): ${(err as Error).message}`,
      true,
    );
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (version !== 1) throw new Pm25StateError(`${file}: unknown pm25 state version ${String(version)}`, true);
  const parsed = StateShape.safeParse(json);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Pm25StateError(`${file}: not a pm25 state: ${why}`, true);
  }
  return json as EstimatorState;
}

/** Moves a corrupt state aside (`<file>.corrupt`, for a look) so that the next save does not overwrite it. */
export function setAside(file: string): string | undefined {
  try {
    renameSync(file, `${file}.corrupt`);
    return `${file}.corrupt`;
  } catch {
    return undefined;
  }
}

/** Removes temp files of writes that never reached their rename (a process killed mid-write). */
export function removeStaleTemps(file: string): void {
  const prefix = `${path.basename(file)}.tmp-`;
  let names: string[];
  try {
    names = readdirSync(path.dirname(path.resolve(file)));
  } catch {
    return;
  }
  for (const name of names.filter((n) => n.startsWith(prefix))) {
    try {
      rmSync(path.join(path.dirname(path.resolve(file)), name), { force: true });
    } catch {
      // not ours to remove (a directory, say): loading never reads it anyway
    }
  }
}

/** Write-then-rename, so a crash mid-write leaves the previous state, not half a file. */
export function saveState(file: string, state: EstimatorState): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, JSON.stringify(state));
    renameSync(tmp, file);
  } catch (err) {
    // A full disk leaves half a temp file: not left lying about.
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing there to remove
    }
    throw err;
  }
}

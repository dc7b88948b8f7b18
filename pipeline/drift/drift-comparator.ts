import type { DriftConfig } from '../../config/drift-schema.js';
import { chiSquare } from './chi-square.js';
import { alignKeyed, isOrdered, sameSpec } from './histogram.js';
import { ks } from './ks.js';
import { countsOf, type DriftProfile } from './profile.js';
import { psi, sum } from './psi.js';
import { DriftStateMachine, type DriftState } from './drift-state.js';
import { matchesPattern } from './statistics.js';

/** How one statistic of a window compares with the reference. */
export interface StatScore {
  name: string;
  /** Samples in the window and in the reference. */
  n: number;
  refN: number;
  /** Null when not scored (see `skipped`). */
  psi: number | null;
  /** Two-sample KS, for ordered bins. */
  ks: { d: number; p: number } | null;
  /** Chi-square homogeneity test, for unordered bins (position cells, labels). */
  chi2: { statistic: number; df: number; p: number } | null;
  /** The p-value of the test that applies (KS or chi-square) is below the configured level. */
  significant: boolean;
  /** Whether it may drive the state (config `driveWith`); the others are reported only. */
  drives: boolean;
  skipped?: 'few-samples' | 'bins-differ';
}

type ScoreConfig = Pick<DriftConfig, 'minSamples' | 'pValue' | 'driveWith'>;

/** Scores every statistic either side has. Sorted by name, so reports are stable. */
export function scoreProfiles(window: DriftProfile, reference: DriftProfile, cfg: ScoreConfig): StatScore[] {
  const out: StatScore[] = [];
  const names = new Set([...Object.keys(window.hists), ...Object.keys(reference.hists)]);
  for (const name of [...names].sort()) {
    const wSpec = window.hists[name]?.spec;
    const rSpec = reference.hists[name]?.spec;
    const spec = (wSpec ?? rSpec)!;
    if (wSpec && rSpec && !sameSpec(wSpec, rSpec)) {
      out.push(unscored(name, 0, 0, cfg, 'bins-differ'));
      continue;
    }
    const a = countsOf(window, name, spec) ?? [];
    const e = countsOf(reference, name, spec) ?? [];
    out.push(score(name, a, e, isOrdered(spec), cfg));
  }
  const keyedNames = new Set([...Object.keys(window.keyed), ...Object.keys(reference.keyed)]);
  for (const name of [...keyedNames].sort()) {
    const { a, b } = alignKeyed(window.keyed[name] ?? {}, reference.keyed[name] ?? {});
    out.push(score(name, a, b, false, cfg));
  }
  return out;
}

function score(name: string, a: number[], e: number[], ordered: boolean, cfg: ScoreConfig): StatScore {
  const n = sum(a);
  const refN = sum(e);
  if (n < cfg.minSamples || refN < cfg.minSamples || a.length !== e.length) {
    return unscored(name, n, refN, cfg, 'few-samples');
  }
  const k = ordered ? ks(a, e) : null;
  const c = ordered ? null : chiSquare(a, e);
  const p = k?.p ?? c?.p ?? 1;
  return {
    name,
    n,
    refN,
    psi: psi(a, e),
    ks: k ? { d: k.d, p: k.p } : null,
    chi2: c,
    significant: p < cfg.pValue,
    drives: drives(name, cfg),
  };
}

function unscored(
  name: string,
  n: number,
  refN: number,
  cfg: ScoreConfig,
  why: StatScore['skipped'],
): StatScore {
  return {
    name,
    n,
    refN,
    psi: null,
    ks: null,
    chi2: null,
    significant: false,
    drives: drives(name, cfg),
    skipped: why,
  };
}

const drives = (name: string, cfg: ScoreConfig) => cfg.driveWith.some((p) => matchesPattern(name, p));

/** The PSI of a statistic that passed its test (0 otherwise). */
export function significantPsi(s: StatScore): number {
  return s.significant && s.psi !== null ? s.psi : 0;
}

export interface Comparison {
  scores: StatScore[];
  /** The largest significant PSI among the statistics that drive. */
  score: number;
  state: DriftState;
  previous: DriftState;
  changed: boolean;
  /** Driving statistics that hold the state up (significant, PSI ≥ warn × clearRatio), largest first. */
  drivers: string[];
  /** The other statistics past the same bar: what else changed (detections, latency), largest first. */
  moved: string[];
}

/** One camera's comparator: scores each window against the reference and steps the state machine. */
export class DriftComparator {
  readonly machine: DriftStateMachine;

  constructor(
    private readonly cfg: DriftConfig,
    initial: DriftState = 'ok',
  ) {
    this.machine = new DriftStateMachine(cfg, initial);
  }

  compare(window: DriftProfile, reference: DriftProfile): Comparison {
    const scores = scoreProfiles(window, reference, this.cfg);
    const floor = this.cfg.psi.warn * this.cfg.hysteresis.clearRatio;
    const past = scores
      .filter((s) => significantPsi(s) >= floor)
      .sort((x, y) => significantPsi(y) - significantPsi(x));
    const top = Math.max(0, ...scores.filter((s) => s.drives).map(significantPsi));
    const drivers = past.filter((s) => s.drives).map((s) => s.name);
    const moved = past.filter((s) => !s.drives).map((s) => s.name);
    return { scores, score: top, drivers, moved, ...this.machine.update(top) };
  }
}

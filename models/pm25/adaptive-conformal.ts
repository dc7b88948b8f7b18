/**
 * Adaptive conformal inference (Gibbs & Candès 2021) on absolute log-space residuals: the miscoverage level
 * α_t moves after every scored pair (α_{t+1} = α_t + γ(α − err_t)), so the band widens when the world drifts
 * away from the site model and narrows back when it returns.
 */
export interface ConformalState {
  /** Target miscoverage (0.2 for the 80 % band, 0.05 for the 95 % band). */
  alpha: number;
  /** Current adapted level. */
  alphaT: number;
}

export function initialConformal(alpha: number): ConformalState {
  return { alpha, alphaT: alpha };
}

/** The (1 − α) empirical quantile of scores, with the split-conformal (n + 1) correction. */
export function conformalQuantile(scores: readonly number[], alphaT: number): number {
  if (scores.length === 0) return Infinity;
  if (alphaT <= 0) return Infinity;
  if (alphaT >= 1) return 0;
  const sorted = [...scores].sort((a, b) => a - b);
  const rank = Math.ceil((1 - alphaT) * (sorted.length + 1));
  return rank > sorted.length ? Infinity : sorted[Math.max(0, rank - 1)]!;
}

/** One ACI step: `score` is the new pair's residual, judged against the band the scores before it gave. */
export function updateConformal(
  state: ConformalState,
  pastScores: readonly number[],
  score: number,
  gamma: number,
): void {
  const err = score > conformalQuantile(pastScores, state.alphaT) ? 1 : 0;
  state.alphaT = Math.min(0.999, Math.max(0.001, state.alphaT + gamma * (state.alpha - err)));
}

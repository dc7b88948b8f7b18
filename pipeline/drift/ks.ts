import { sum } from './psi.js';

export interface KsResult {
  /** Largest gap between the two empirical CDFs, evaluated at the bin edges. */
  d: number;
  /** Asymptotic p-value (Kolmogorov distribution) at the effective sample size n·m/(n+m). */
  p: number;
  /** The effective sample size used. */
  ne: number;
}

/**
 * Two-sample Kolmogorov–Smirnov on binned data with ordered bins. Binning can only hide gaps, so D is a
 * lower bound of the unbinned statistic and the p-value errs towards "no drift". Null when a side is empty.
 */
export function ks(window: ArrayLike<number>, reference: ArrayLike<number>): KsResult | null {
  if (window.length !== reference.length) throw new Error('ks: bins differ');
  const n = sum(window);
  const m = sum(reference);
  if (!(n > 0) || !(m > 0)) return null;
  let ca = 0;
  let ce = 0;
  let d = 0;
  for (let i = 0; i < window.length; i++) {
    ca += window[i]!;
    ce += reference[i]!;
    d = Math.max(d, Math.abs(ca / n - ce / m));
  }
  const ne = (n * m) / (n + m);
  return { d, p: ksPValue(d, ne), ne };
}

/** P(D ≥ d) for the effective sample size ne, with Stephens' small-sample correction of λ. */
export function ksPValue(d: number, ne: number): number {
  const s = Math.sqrt(ne);
  return kolmogorovQ((s + 0.12 + 0.11 / s) * d);
}

/**
 * Q(λ) = 2 Σ_{j≥1} (−1)^{j−1} e^{−2j²λ²}, the Kolmogorov survival function. Below λ = 1.18 the
 * alternating series converges slowly, so the equivalent theta-function form is used there.
 */
export function kolmogorovQ(lambda: number): number {
  if (lambda <= 0) return 1;
  if (lambda < 1.18) {
    const k = (Math.PI * Math.PI) / (8 * lambda * lambda);
    let s = 0;
    for (let j = 1; j <= 6; j++) s += Math.exp(-(2 * j - 1) * (2 * j - 1) * k);
    return clamp01(1 - (Math.sqrt(2 * Math.PI) / lambda) * s);
  }
  let q = 0;
  for (let j = 1; j <= 100; j++) {
    const term = Math.exp(-2 * j * j * lambda * lambda);
    q += (j % 2 ? 2 : -2) * term;
    if (term < 1e-16) break;
  }
  return clamp01(q);
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

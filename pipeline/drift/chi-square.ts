import { sum } from './psi.js';

export interface ChiSquareResult {
  statistic: number;
  df: number;
  p: number;
}

/**
 * Pearson's chi-square test that two binned samples come from one distribution (a 2×k table), for bins
 * without an order (position cells, labels). Bins empty on both sides are left out of the table and of
 * the degrees of freedom. Null when a side is empty or only one bin is used.
 */
export function chiSquare(window: ArrayLike<number>, reference: ArrayLike<number>): ChiSquareResult | null {
  if (window.length !== reference.length) throw new Error('chi-square: bins differ');
  const n = sum(window);
  const m = sum(reference);
  if (!(n > 0) || !(m > 0)) return null;
  let statistic = 0;
  let used = 0;
  for (let i = 0; i < window.length; i++) {
    const a = window[i]!;
    const e = reference[i]!;
    const both = a + e;
    if (both === 0) continue;
    used++;
    const ea = (n * both) / (n + m);
    const ee = (m * both) / (n + m);
    statistic += ((a - ea) * (a - ea)) / ea + ((e - ee) * (e - ee)) / ee;
  }
  if (used < 2) return null;
  const df = used - 1;
  return { statistic, df, p: chiSquareSurvival(statistic, df) };
}

/** P(X ≥ x) for X ~ χ²(df): the regularized upper incomplete gamma Q(df/2, x/2). */
export function chiSquareSurvival(x: number, df: number): number {
  if (x <= 0) return 1;
  return gammaQ(df / 2, x / 2);
}

/** Regularized upper incomplete gamma: series below a + 1, Lentz's continued fraction above. */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const lnPre = a * Math.log(x) - x - lnGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let s = term;
    for (let k = 1; k < 1000; k++) {
      term *= x / (a + k);
      s += term;
      if (Math.abs(term) < Math.abs(s) * 1e-15) break;
    }
    return Math.max(0, 1 - s * Math.exp(lnPre));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.min(1, Math.exp(lnPre) * h);
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, nine coefficients: about 15 significant digits). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let s = c[0]!;
  for (let i = 1; i < 9; i++) s += c[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

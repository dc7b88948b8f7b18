/**
 * Ridge regression whose penalty pulls the slopes toward `target` (not toward zero) and leaves the intercept
 * free: with few pairs the fit stays near the physical prior, with many it follows the data. Regressors are
 * centred so the intercept does not trade off against the slopes.
 */
export function ridgeToward(
  xs: number[][],
  ys: number[],
  target: { intercept: number; slopes: number[] },
  lambda: number,
  /** Per-pair weights (exponential forgetting); all 1 when absent. */
  weights?: readonly number[],
): { intercept: number; slopes: number[] } {
  const n = xs.length;
  const w = (k: number) => weights?.[k] ?? 1;
  const p = target.slopes.length;
  if (n === 0) return { intercept: target.intercept, slopes: [...target.slopes] };
  const sw = xs.reduce((s, _x, k) => s + w(k), 0);
  const mx = Array.from({ length: p }, (_, j) => xs.reduce((s, x, k) => s + w(k) * x[j]!, 0) / sw);
  const my = ys.reduce((s, y, k) => s + w(k) * y, 0) / sw;
  // Weighted normal equations on centred data: (XᵀWX + λI) b = XᵀWy + λ b₀.
  const a = Array.from({ length: p }, (_, i) => Array.from({ length: p }, (_, j) => (i === j ? lambda : 0)));
  const rhs = target.slopes.map((b) => lambda * b);
  for (let k = 0; k < n; k++) {
    const xc = xs[k]!.map((v, j) => v - mx[j]!);
    const yc = ys[k]! - my;
    for (let i = 0; i < p; i++) {
      rhs[i]! += w(k) * xc[i]! * yc;
      for (let j = 0; j < p; j++) a[i]![j]! += w(k) * xc[i]! * xc[j]!;
    }
  }
  const slopes = solveLinear(a, rhs);
  return { intercept: my - slopes.reduce((s, b, j) => s + b * mx[j]!, 0), slopes };
}

/** Gaussian elimination with partial pivoting (p is at most 4 here). */
export function solveLinear(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[piv]![c]!)) piv = r;
    [m[c], m[piv]] = [m[piv]!, m[c]!];
    const d = m[c]![c]!;
    if (Math.abs(d) < 1e-12) throw new Error('singular system in ridge fit');
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / d;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((row, i) => row[n]! / row[i]!);
}

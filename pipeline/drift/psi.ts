/**
 * Population Stability Index of two binned samples: Σ (aᵢ − eᵢ)·ln(aᵢ/eᵢ) over bin shares, where a is
 * the window and e the reference. A bin empty on one side only gets half a count there (0.5/n): the
 * share we could not have seen with n samples, instead of an arbitrary floor that explodes on small
 * windows. Bins empty on both sides add nothing. NaN when either side has no samples.
 */
export function psi(window: ArrayLike<number>, reference: ArrayLike<number>): number {
  if (window.length !== reference.length) throw new Error('psi: bins differ');
  const na = sum(window);
  const ne = sum(reference);
  if (!(na > 0) || !(ne > 0)) return NaN;
  let total = 0;
  for (let i = 0; i < window.length; i++) {
    const a = window[i]!;
    const e = reference[i]!;
    if (a === 0 && e === 0) continue;
    const pa = a > 0 ? a / na : 0.5 / na;
    const pe = e > 0 ? e / ne : 0.5 / ne;
    total += (pa - pe) * Math.log(pa / pe);
  }
  return total;
}

export function sum(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s;
}

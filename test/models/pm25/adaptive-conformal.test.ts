import { describe, expect, it } from 'vitest';
import {
  conformalQuantile,
  initialConformal,
  updateConformal,
} from '../../../models/pm25/adaptive-conformal.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
// 1..9 in a shuffled order: the quantile must sort.
const nine = [7, 2, 9, 4, 1, 8, 3, 6, 5];

describe('conformalQuantile', () => {
  it('takes the ⌈(1 − α)(n + 1)⌉-th smallest score', () => {
    expect(conformalQuantile(nine, 0.2)).toBe(8); // ⌈0.8 · 10⌉ = 8
    expect(conformalQuantile(nine, 0.5)).toBe(5); // ⌈0.5 · 10⌉ = 5
    expect(conformalQuantile(range(19), 0.05)).toBe(19); // ⌈0.95 · 20⌉ = 19
    expect(conformalQuantile(range(99), 0.2)).toBe(80);
    expect(conformalQuantile(range(99), 0.05)).toBe(95);
    expect(conformalQuantile(nine, 0.95)).toBe(1); // ⌈0.05 · 10⌉ = 1
  });

  it('is infinite when n is too small for the level (the band cannot be bounded yet)', () => {
    expect(conformalQuantile(nine, 0.05)).toBe(Infinity); // ⌈0.95 · 10⌉ = 10 > 9
    expect(conformalQuantile(range(3), 0.2)).toBe(Infinity); // ⌈0.8 · 4⌉ = 4 > 3
    expect(conformalQuantile(range(4), 0.2)).toBe(4);
    expect(conformalQuantile([], 0.5)).toBe(Infinity);
  });

  it('gives an infinite band at α ≤ 0 and an empty one at α ≥ 1', () => {
    expect(conformalQuantile(nine, 0)).toBe(Infinity);
    expect(conformalQuantile(nine, -0.1)).toBe(Infinity);
    expect(conformalQuantile(nine, 1)).toBe(0);
    expect(conformalQuantile(nine, 1.5)).toBe(0);
  });

  it('widens the band as α falls: the 95 % level is never narrower than the 80 %', () => {
    const scores = range(50).map((i) => (i * 37) % 23);
    let prev = -Infinity;
    for (let a = 0.99; a > 0.01; a -= 0.01) {
      const q = conformalQuantile(scores, a);
      expect(q).toBeGreaterThanOrEqual(prev);
      prev = q;
    }
    expect(conformalQuantile(scores, 0.05)).toBeGreaterThan(conformalQuantile(scores, 0.2));
  });

  it('does not reorder the caller’s scores', () => {
    const copy = [...nine];
    conformalQuantile(copy, 0.2);
    expect(copy).toEqual(nine);
  });
});

describe('updateConformal (α_{t+1} = α_t + γ(α − err_t))', () => {
  it('starts at the target level', () => {
    expect(initialConformal(0.2)).toEqual({ alpha: 0.2, alphaT: 0.2 });
    expect(initialConformal(0.05)).toEqual({ alpha: 0.05, alphaT: 0.05 });
  });

  it('lowers α_t by γ(1 − α) after a miss, widening the band', () => {
    const s = initialConformal(0.2);
    updateConformal(s, nine, 8.5, 0.01); // the band at α_t = 0.2 is 8
    expect(s.alphaT).toBeCloseTo(0.2 - 0.01 * 0.8, 12);
    expect(s.alpha).toBe(0.2);
  });

  it('raises α_t by γ·α after a cover, narrowing the band', () => {
    const s = initialConformal(0.2);
    updateConformal(s, nine, 3, 0.01);
    expect(s.alphaT).toBeCloseTo(0.2 + 0.01 * 0.2, 12);
  });

  it('counts a score equal to the band edge as covered', () => {
    const s = initialConformal(0.2);
    updateConformal(s, nine, 8, 0.05);
    expect(s.alphaT).toBeCloseTo(0.2 + 0.05 * 0.2, 12);
  });

  it('judges the score against the band at the current α_t, not the target α', () => {
    // At α_t = 0.5 the band is 5; at the target 0.2 it would be 8. A score of 6 misses the narrower band.
    const s = { alpha: 0.2, alphaT: 0.5 };
    updateConformal(s, nine, 6, 0.1);
    expect(s.alphaT).toBeCloseTo(0.5 + 0.1 * (0.2 - 1), 12);
  });

  it('never misses with no past scores (the band is unbounded)', () => {
    const s = initialConformal(0.05);
    updateConformal(s, [], 1e9, 0.01);
    expect(s.alphaT).toBeCloseTo(0.05 + 0.01 * 0.05, 12);
  });

  it('keeps α_t inside [0.001, 0.999]', () => {
    const low = initialConformal(0.2);
    updateConformal(low, nine, 100, 0.5); // 0.2 − 0.4 < 0.001
    expect(low.alphaT).toBe(0.001);
    const high = { alpha: 0.9, alphaT: 0.99 };
    updateConformal(high, nine, 0, 0.5); // 0.99 + 0.45 > 0.999
    expect(high.alphaT).toBe(0.999);
  });

  it('widens after a drift and narrows back once the scores return', () => {
    const s = initialConformal(0.2);
    const past = range(40).map((i) => ((i * 7) % 10) / 10); // scores in [0, 0.9]
    const gamma = 0.05;
    for (let i = 0; i < 10; i++) updateConformal(s, past, 5, gamma); // every pair misses
    const drifted = s.alphaT;
    expect(drifted).toBeLessThan(0.2);
    expect(conformalQuantile(past, drifted)).toBeGreaterThan(conformalQuantile(past, 0.2));
    for (let i = 0; i < 10; i++) updateConformal(s, past, 0, gamma); // every pair covered
    expect(s.alphaT).toBeGreaterThan(drifted);
  });

  it('keeps the long-run miss rate within the Gibbs–Candès bound (max(α₁, 1 − α₁) + γ)/(γT) of α', () => {
    // A deterministic score stream whose scale doubles half-way: a fixed band would miss far too often.
    const alpha = 0.2;
    const gamma = 0.05;
    const T = 600;
    const s = initialConformal(alpha);
    const past: number[] = [];
    let misses = 0;
    for (let t = 0; t < T; t++) {
      const score = ((t * 0.618034) % 1) * (t < T / 2 ? 1 : 2);
      // err_t as the update defines it: the score lies above the band the past scores gave at α_t.
      if (score > conformalQuantile(past, s.alphaT)) misses++;
      updateConformal(s, past, score, gamma);
      past.push(score);
    }
    const bound = (Math.max(alpha, 1 - alpha) + gamma) / (gamma * T);
    expect(Math.abs(misses / T - alpha)).toBeLessThanOrEqual(bound);
    expect(misses).toBeGreaterThan(0);
  });
});

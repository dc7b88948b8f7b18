import { describe, expect, it } from 'vitest';
import { floatToHalf, halfArrayToFloat32, halfToFloat } from '../../../models/runtime/float16.js';

/**
 * The oracle is worked from IEEE 754 binary16 itself, in double arithmetic (exact for every value used
 * here): 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits; subnormals are multiples of 2^-24; the
 * largest finite value is 65504 and everything from 65520 (the midpoint to the next, unrepresentable,
 * 65536) rounds to infinity.
 */
function roundHalfEven(q: number): number {
  const f = Math.floor(q);
  const rest = q - f; // exact: q has at most 53 significant bits
  return rest > 0.5 || (rest === 0.5 && f % 2 === 1) ? f + 1 : f;
}

function oracleBits(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  // Exponent by repeated halving/doubling, not by the code under test's bit tricks.
  let e = 0;
  if (a >= 2 ** -14) {
    while (2 ** (e + 1) <= a) e++;
    while (2 ** e > a) e--;
  } else e = -14;
  const n = roundHalfEven(a / 2 ** (e - 10)); // units in the last place of the binade
  if (e === -14 && n < 1024) return sign | n; // subnormal (or zero)
  if (n === 2048) e += 1; // rounded up to the next binade
  const frac = n === 2048 ? 0 : n - 1024;
  if (e > 15) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | frac;
}

const hex = (h: number) => `0x${h.toString(16).padStart(4, '0')}`;

describe('halfToFloat: bit pattern -> number', () => {
  it.each([
    [0x0000, 0],
    [0x3c00, 1],
    [0x3c01, 1 + 2 ** -10],
    [0xc000, -2],
    [0x3800, 0.5],
    [0x3555, 0.333251953125],
    [0x7bff, 65504],
    [0xfbff, -65504],
    [0x0400, 2 ** -14], // smallest normal
    [0x03ff, 1023 * 2 ** -24], // largest subnormal
    [0x0001, 2 ** -24], // smallest subnormal
    [0x8001, -(2 ** -24)],
    [0x0200, 2 ** -15],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ])('%s', (bits, value) => {
    expect(halfToFloat(bits)).toBe(value);
  });

  it('keeps the sign of zero', () => {
    expect(Object.is(halfToFloat(0x8000), -0)).toBe(true);
    expect(Object.is(halfToFloat(0x0000), 0)).toBe(true);
  });

  it('reads every all-ones exponent with a fraction as NaN, either sign', () => {
    for (const bits of [0x7c01, 0x7e00, 0x7fff, 0xfc01, 0xfe00, 0xffff])
      expect(halfToFloat(bits), hex(bits)).toBeNaN();
  });

  it('agrees with the spec formula for all 65536 patterns', () => {
    for (let h = 0; h < 65536; h++) {
      const s = h & 0x8000 ? -1 : 1;
      const e = (h >> 10) & 31;
      const f = h & 1023;
      const want =
        e === 31 ? (f ? NaN : s * Infinity) : e === 0 ? (s * f) / 2 ** 24 : s * 2 ** (e - 25) * (1024 + f);
      if (Number.isNaN(want)) expect(halfToFloat(h), hex(h)).toBeNaN();
      else if (halfToFloat(h) !== want) expect(halfToFloat(h), hex(h)).toBe(want);
    }
  });
});

describe('floatToHalf: number -> bit pattern, round to nearest even', () => {
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [0.1, 0x2e66], // 0.0999755859375 is nearer than 0.10003662109375
    [1 / 3, 0x3555],
    [65504, 0x7bff],
    [2 ** -14, 0x0400],
    [2 ** -24, 0x0001],
    [1023 * 2 ** -24, 0x03ff],
  ])('%s -> exact or nearest', (value, bits) => {
    expect(hex(floatToHalf(value))).toBe(hex(bits));
  });

  it('keeps the sign of zero, and of values too small for a subnormal', () => {
    expect(floatToHalf(0)).toBe(0x0000);
    expect(floatToHalf(-0)).toBe(0x8000);
    expect(floatToHalf(1e-10)).toBe(0x0000);
    expect(floatToHalf(-1e-10)).toBe(0x8000);
    expect(floatToHalf(Number.MIN_VALUE)).toBe(0x0000);
  });

  it('rounds ties to even, in normal and subnormal range', () => {
    const ulp1 = 2 ** -10; // ulp of [1, 2)
    expect(hex(floatToHalf(1 + ulp1 / 2))).toBe('0x3c00'); // tie, 0x3c00 is even
    expect(hex(floatToHalf(1 + (3 * ulp1) / 2))).toBe('0x3c02'); // tie, 0x3c02 is even
    expect(hex(floatToHalf(1 + ulp1 / 2 + 2 ** -20))).toBe('0x3c01'); // just over the tie
    expect(hex(floatToHalf(1 + ulp1 / 2 - 2 ** -20))).toBe('0x3c00'); // just under
    expect(hex(floatToHalf(2 ** -25))).toBe('0x0000'); // half the smallest subnormal: tie to 0
    expect(hex(floatToHalf(3 * 2 ** -25))).toBe('0x0002'); // 1.5 units: tie to 2
    expect(hex(floatToHalf(5 * 2 ** -25))).toBe('0x0002'); // 2.5 units: tie to 2
    expect(hex(floatToHalf(2 ** -25 + 2 ** -35))).toBe('0x0001');
    expect(hex(floatToHalf(-(7 * 2 ** -25)))).toBe('0x8004'); // -3.5 units: tie to -4
  });

  it('carries a rounded-up fraction into the exponent', () => {
    expect(hex(floatToHalf(2047.5 * 2 ** -10 * 2 ** -1))).toBe(hex(0x3c00)); // 1 - 2^-12: up to 1.0
    expect(hex(floatToHalf(1023.5 * 2 ** -24))).toBe('0x0400'); // largest subnormal + ½: smallest normal
    expect(hex(floatToHalf(2 - 2 ** -12))).toBe('0x4000');
  });

  it('rounds the top of the range to 65504 or overflows to infinity at 65520', () => {
    expect(hex(floatToHalf(65519.99))).toBe('0x7bff');
    expect(hex(floatToHalf(65520))).toBe('0x7c00'); // tie between 65504 (odd) and 2^16: to infinity
    expect(hex(floatToHalf(-65520))).toBe('0xfc00');
    expect(hex(floatToHalf(1e6))).toBe('0x7c00');
    expect(hex(floatToHalf(-1e300))).toBe('0xfc00');
    expect(hex(floatToHalf(Infinity))).toBe('0x7c00');
    expect(hex(floatToHalf(-Infinity))).toBe('0xfc00');
  });

  it('maps NaN to a NaN pattern (all-ones exponent, non-zero fraction)', () => {
    const bits = floatToHalf(NaN);
    expect(bits & 0x7c00).toBe(0x7c00);
    expect(bits & 0x03ff).not.toBe(0);
    expect(halfToFloat(bits)).toBeNaN();
  });

  it('round-trips every finite half exactly', () => {
    for (let h = 0; h < 65536; h++) {
      if ((h & 0x7c00) === 0x7c00) continue;
      const back = floatToHalf(halfToFloat(h));
      if (back !== h) expect(hex(back), hex(h)).toBe(hex(h));
    }
  });

  it('matches the oracle at every midpoint between neighbouring halves and just either side of it', () => {
    for (let h = 0; h < 0x7bff; h++) {
      const lo = oracleValue(h);
      const hi = oracleValue(h + 1);
      const mid = (lo + hi) / 2; // exact in double
      for (const x of [mid, mid + (hi - lo) / 4096, mid - (hi - lo) / 4096, -mid]) {
        const got = floatToHalf(x);
        const want = oracleBits(x);
        if (got !== want) expect(`${x} -> ${hex(got)}`).toBe(`${x} -> ${hex(want)}`);
      }
    }
  });

  it('rounds a double correctly, not via float32 first (no double rounding)', () => {
    // 1 + 2^-11 + 2^-40 is just above the tie between 1 and 1 + 2^-10; rounded to float32 first it
    // becomes the tie itself and would go to even (1). Correct rounding gives 0x3c01.
    expect(hex(floatToHalf(1 + 2 ** -11 + 2 ** -40))).toBe('0x3c01');
    expect(hex(floatToHalf(-(1 + 2 ** -11 + 2 ** -40)))).toBe('0xbc01');
    // The same in subnormal range: just over half the smallest subnormal.
    expect(hex(floatToHalf(2 ** -25 + 2 ** -60))).toBe('0x0001');
    // and just under a tie that goes up must not be lifted onto it and rounded up.
    expect(hex(floatToHalf(1 + 3 * 2 ** -11 - 2 ** -40))).toBe('0x3c01');
  });

  it('matches the oracle for 200 000 random doubles across the whole range', () => {
    let seed = 0x9e3779b9;
    const rand = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    for (let i = 0; i < 200_000; i++) {
      // uniform mantissa (53 bits), exponent from well below the subnormals to above the overflow
      const x =
        (rand() < 0.5 ? -1 : 1) * (1 + rand() + rand() * 2 ** -32) * 2 ** Math.floor(rand() * 48 - 30);
      const got = floatToHalf(x);
      const want = oracleBits(x);
      if (got !== want) expect(`${x} -> ${hex(got)}`).toBe(`${x} -> ${hex(want)}`);
    }
  });

  it('gives the oracle’s pattern for the fp16 input lookup table the worker builds (v/255 and v)', () => {
    for (let v = 0; v < 256; v++) {
      expect(hex(floatToHalf(v * (1 / 255))), `v=${v}/255`).toBe(hex(oracleBits(v * (1 / 255))));
      expect(hex(floatToHalf(v)), `v=${v}`).toBe(hex(oracleBits(v)));
    }
  });
});

/** A half's value from the spec formula (positive, finite patterns). */
function oracleValue(h: number): number {
  const e = (h >> 10) & 31;
  const f = h & 1023;
  return e === 0 ? f * 2 ** -24 : 2 ** (e - 25) * (1024 + f);
}

describe('halfArrayToFloat32', () => {
  it('widens every pattern exactly, NaN as NaN', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const out = halfArrayToFloat32(all);
    expect(out).toBeInstanceOf(Float32Array);
    expect(out.length).toBe(65536);
    for (let h = 0; h < 65536; h++) {
      const want = halfToFloat(h);
      if (Number.isNaN(want)) expect(out[h], hex(h)).toBeNaN();
      else if (!Object.is(out[h], want)) expect(out[h], hex(h)).toBe(want);
    }
  });

  it('keeps order and length of a tensor’s data, and handles an empty one', () => {
    expect([...halfArrayToFloat32(Uint16Array.from([0x3c00, 0xc000, 0x7c00, 0x0001, 0x8000]))]).toEqual([
      1,
      -2,
      Infinity,
      2 ** -24,
      -0,
    ]);
    expect(halfArrayToFloat32(new Uint16Array(0)).length).toBe(0);
  });
});

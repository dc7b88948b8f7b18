/**
 * IEEE 754 half precision <-> number, for fp16 models: Node 20 has no Float16Array, so onnxruntime-node
 * hands fp16 tensors over as Uint16Array bit patterns and takes them the same way.
 */

/** Half-precision bit pattern -> number (exact). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -24 * frac; // zero and subnormals
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** number -> half-precision bit pattern, rounded to nearest even (overflow -> ±Infinity). */
export function floatToHalf(value: number): number {
  f32[0] = value;
  // Round to odd into float32 (truncate, then set the last bit when inexact): rounding that to half then
  // gives the double's own nearest half, never a tie float32 rounding made up (24 > 11 + 2 bits).
  if (f32[0] !== value && value === value) {
    if (Math.abs(f32[0]!) > Math.abs(value)) u32[0] = u32[0]! - 1;
    u32[0] = u32[0]! | 1;
  }
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the full mantissa (with its implicit 1) into place, then round.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    return sign | roundShift(m, shift);
  }
  // A carry out of the mantissa lands in the exponent, which is the right result (up to Infinity).
  return sign | ((e << 10) + roundShift(mant, 13));
}

/** m >> shift, rounded to nearest, ties to even. */
function roundShift(m: number, shift: number): number {
  const q = m >>> shift;
  const rest = m - q * 2 ** shift;
  const half = 2 ** (shift - 1);
  return rest > half || (rest === half && q & 1) ? q + 1 : q;
}

/** Widens a tensor's fp16 bit patterns to float32. */
export function halfArrayToFloat32(bits: Uint16Array): Float32Array {
  const table = halfTable();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]!]!;
  return out;
}

let table: Float32Array | undefined;
/** All 65536 halves as float32, built once: a lookup beats bit fiddling per element. */
function halfTable(): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = halfToFloat(h);
  }
  return table;
}

// Float tensor bytes <-> numbers, for value statistics (diff) and arithmetic merges.
//
// Owns: decoding little-endian float32/float64/float16/bfloat16 payloads into typed arrays and
// encoding them back, with float16 and bfloat16 converted by integer bit operations (round to nearest,
// ties to even) so that every machine produces the same bytes.
// Must never: guess a dtype (callers pass the pointer's dtype name), or touch non-float dtypes: integer
// and quantized tensors have no meaningful elementwise average.

import { endianness } from 'node:os';

export type FloatDtype = 'float32' | 'float64' | 'float16' | 'bfloat16';

const FLOATS: ReadonlySet<string> = new Set(['float32', 'float64', 'float16', 'bfloat16']);

/** True for the dtypes whose payloads this module decodes (raw or packed fixed-width, never varint). */
export function isFloatDtype(dtype: string): dtype is FloatDtype {
  return FLOATS.has(dtype);
}

export function elementSize(dtype: FloatDtype): number {
  return dtype === 'float64' ? 8 : dtype === 'float32' ? 4 : 2;
}

const LITTLE = endianness() === 'LE';

// Scratch views for reinterpreting bits one value at a time.
const scratch = new ArrayBuffer(8);
const f32 = new Float32Array(scratch, 0, 1);
const u32 = new Uint32Array(scratch, 0, 1);

/** float16 bits -> float32 bits (exact: every half value is a float value). */
export function halfToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // inf, NaN (payload kept)
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0; // signed zero
  // Subnormal half: normalise into a float32 normal.
  let e = 113;
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

/** float32 bits -> float16 bits, round to nearest even; overflow gives infinity, NaN stays NaN. */
export function floatBitsToHalf(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 112; // half's biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Result is a half subnormal (or zero): value = m * 2^-24 with m = M >> (126 - exp).
    const shift = 126 - exp;
    if (shift > 24) return sign; // below half the smallest subnormal
    const M = mant | 0x800000;
    let m = M >>> shift;
    const rem = M & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (m & 1) === 1)) m++;
    return sign | m; // m may reach 0x400: the smallest normal, encoded correctly by the carry
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++; // a carry into the exponent is correct rounding
  return sign | h;
}

/** bfloat16 bits -> float32 bits (exact). */
export function bfloatToFloatBits(b: number): number {
  return (b << 16) >>> 0;
}

/** float32 bits -> bfloat16 bits, round to nearest even; NaN stays a quiet NaN. */
export function floatBitsToBfloat(x: number): number {
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) | 0x40) & 0xffff;
  const lsb = (x >>> 16) & 1;
  return ((x + 0x7fff + lsb) >>> 16) & 0xffff;
}

export function floatToBits(v: number): number {
  f32[0] = v;
  return u32[0]!;
}

export function bitsToFloat(bits: number): number {
  u32[0] = bits >>> 0;
  return f32[0]!;
}

/** A copy of `buf` in a fresh ArrayBuffer, so typed-array views are aligned. */
function aligned(buf: Uint8Array): ArrayBuffer {
  const ab = new ArrayBuffer(buf.byteLength);
  new Uint8Array(ab).set(buf);
  return ab;
}

function swapped(buf: Uint8Array, width: number): Uint8Array {
  const out = new Uint8Array(buf.byteLength);
  for (let i = 0; i < buf.byteLength; i += width) for (let j = 0; j < width; j++) out[i + j] = buf[i + width - 1 - j]!;
  return out;
}

/**
 * Decodes a payload into numbers: float64 -> Float64Array, everything else -> Float32Array (half
 * and bfloat16 widen exactly). The byte length must be a multiple of the element size.
 */
export function decodeFloats(buf: Uint8Array, dtype: FloatDtype): Float32Array | Float64Array {
  const width = elementSize(dtype);
  if (buf.byteLength % width !== 0) throw new RangeError(`${dtype} payload of ${buf.byteLength} bytes is not a whole number of elements`);
  const le = LITTLE ? buf : swapped(buf, width);
  if (dtype === 'float64') return new Float64Array(aligned(le));
  if (dtype === 'float32') return new Float32Array(aligned(le));
  const halves = new Uint16Array(aligned(le));
  const bits = new Uint32Array(halves.length);
  if (dtype === 'float16') for (let i = 0; i < halves.length; i++) bits[i] = halfToFloatBits(halves[i]!);
  else for (let i = 0; i < halves.length; i++) bits[i] = bfloatToFloatBits(halves[i]!);
  return new Float32Array(bits.buffer);
}

/** Encodes numbers back into a payload of `dtype` (float32 and narrower values round to nearest even). */
export function encodeFloats(values: Float32Array | Float64Array, dtype: FloatDtype): Buffer {
  let out: Uint8Array;
  if (dtype === 'float64') {
    out = new Uint8Array(Float64Array.from(values).buffer);
  } else {
    const f = values instanceof Float32Array ? values : Float32Array.from(values);
    if (dtype === 'float32') {
      out = new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
    } else {
      const bits = new Uint32Array(f.buffer, f.byteOffset, f.length);
      const halves = new Uint16Array(f.length);
      if (dtype === 'float16') for (let i = 0; i < f.length; i++) halves[i] = floatBitsToHalf(bits[i]!);
      else for (let i = 0; i < f.length; i++) halves[i] = floatBitsToBfloat(bits[i]!);
      out = new Uint8Array(halves.buffer);
    }
  }
  if (!LITTLE) out = swapped(out, elementSize(dtype));
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

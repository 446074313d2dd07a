// Owns: float32 -> IEEE 754 binary16 conversion for the demo's fp16 model (Node 20 has no
// Float16Array). Rounds to nearest, ties to even, like numpy's astype(float16) and onnx's converters:
// overflow becomes infinity, values below half the smallest subnormal become signed zero, NaN stays NaN.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The binary16 bit pattern of a number (first rounded to float32). */
export function fp16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0); // inf, or a quiet NaN
  const e = exp - 127 + 15; // rebias
  if (e >= 0x1f) return sign | 0x7c00; // too large: infinity
  if (e <= 0) {
    // subnormal half: value * 2^24 as an integer, from the float's 24-bit significand
    if (e < -10) return sign;
    const shift = 14 - e;
    return sign | roundShift(mant | 0x800000, shift);
  }
  // normal: a carry out of the mantissa correctly bumps the exponent (up to infinity)
  return sign | (((e << 10) | (mant >>> 13)) + roundBit(mant, 13));
}

function roundShift(v: number, shift: number): number {
  return (v >>> shift) + roundBit(v, shift);
}

/** 1 when the `shift` low bits of v round the kept part up (nearest, ties to even). */
function roundBit(v: number, shift: number): number {
  const rem = v & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rem > half) return 1;
  if (rem < half) return 0;
  return (v >>> shift) & 1;
}

/** float32 little-endian bytes -> float16 little-endian bytes. */
export function float32ToFloat16Bytes(src: Buffer): Buffer {
  if (src.length % 4 !== 0) throw new RangeError('expected float32 bytes');
  const out = Buffer.allocUnsafe(src.length / 2);
  for (let i = 0, o = 0; i < src.length; i += 4, o += 2) out.writeUInt16LE(fp16Bits(src.readFloatLE(i)), o);
  return out;
}

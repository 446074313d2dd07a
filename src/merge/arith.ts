// Elementwise merge arithmetic for conflicting float tensors.
//
// Owns: the exact definition of `average` and `task-arithmetic` per dtype:
//   float32            average = round32((ours + theirs) / 2), computed in double, rounded once;
//                      task-arithmetic = round32(round32(base + round32(ours - base)) + round32(theirs - base)),
//                      i.e. base + (ours - base) + (theirs - base) evaluated left to right in float32, as
//                      numpy does for float32 arrays;
//   float16, bfloat16  values widened exactly to float32, the float32 formulas above, then rounded to
//                      the tensor's own type (nearest, ties to even, integer bit operations);
//   float64            the same formulas in double precision.
// Must never: be called for other dtypes (integers and quantized types have no meaningful average; the
// merge leaves those as conflicts), or for payloads of different lengths.

import { decodeFloats, encodeFloats, type FloatDtype } from '../tensor/floats.js';

export type ArithStrategy = 'average' | 'task-arithmetic';

export function combine(strategy: ArithStrategy, dtype: FloatDtype, ours: Buffer, theirs: Buffer, base?: Buffer): Buffer {
  const a = decodeFloats(ours, dtype);
  const b = decodeFloats(theirs, dtype);
  if (a.length !== b.length) throw new Error('merge arithmetic on tensors of different lengths (bug)');
  const wide = dtype === 'float64';
  const out = wide ? new Float64Array(a.length) : new Float32Array(a.length);
  if (strategy === 'average') {
    for (let i = 0; i < a.length; i++) out[i] = (a[i]! + b[i]!) / 2;
  } else {
    if (!base) throw new Error('task-arithmetic needs the base tensor (bug)');
    const o = decodeFloats(base, dtype);
    if (o.length !== a.length) throw new Error('merge arithmetic on tensors of different lengths (bug)');
    if (wide) {
      for (let i = 0; i < a.length; i++) out[i] = o[i]! + (a[i]! - o[i]!) + (b[i]! - o[i]!);
    } else {
      const f = Math.fround;
      for (let i = 0; i < a.length; i++) {
        const x = o[i]!;
        out[i] = f(x + f(a[i]! - x)) + f(b[i]! - x); // the Float32Array store rounds the last addition
      }
    }
  }
  return encodeFloats(out, dtype);
}

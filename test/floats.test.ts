// float16 and bfloat16 conversions by integer bit operations: every half and bfloat value round-trips,
// and float32 -> half/bfloat rounds to nearest with ties to even (checked against the neighbours), with
// the edge cases spelled out: overflow, subnormals, signed zeros, NaN.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bfloatToFloatBits,
  bitsToFloat,
  decodeFloats,
  encodeFloats,
  floatBitsToBfloat,
  floatBitsToHalf,
  floatToBits,
  halfToFloatBits,
} from '../src/tensor/floats.js';
import { prng } from './helpers/onnx-builder.js';

const half = (h: number) => bitsToFloat(halfToFloatBits(h));
const toHalf = (x: number) => floatBitsToHalf(floatToBits(x));
const bf = (b: number) => bitsToFloat(bfloatToFloatBits(b));
const toBf = (x: number) => floatBitsToBfloat(floatToBits(x));

test('every float16 and bfloat16 bit pattern survives widening and narrowing', () => {
  for (let h = 0; h < 0x10000; h++) {
    const x = half(h);
    if (Number.isNaN(x)) assert.ok(Number.isNaN(half(toHalf(x))), `half NaN ${h}`);
    else assert.equal(toHalf(x), h, `half ${h.toString(16)}`);
    const y = bf(h);
    if (Number.isNaN(y)) assert.ok(Number.isNaN(bf(toBf(y))));
    else assert.equal(toBf(y), h, `bfloat ${h.toString(16)}`);
  }
});

test('float16 values and rounding edge cases', () => {
  assert.equal(half(0x3c00), 1);
  assert.equal(half(0xc000), -2);
  assert.equal(half(0x7bff), 65504);
  assert.equal(half(0x0001), 2 ** -24);
  assert.equal(half(0x0400), 2 ** -14);
  assert.ok(Object.is(half(0x8000), -0));
  assert.equal(half(0x7c00), Infinity);
  assert.equal(toHalf(65519), 0x7bff); // below the midpoint to infinity
  assert.equal(toHalf(65520), 0x7c00); // the midpoint: ties to even, which is infinity
  assert.equal(toHalf(1e9), 0x7c00);
  assert.equal(toHalf(1 + 2 ** -11), 0x3c00); // tie, 1.0 is even
  assert.equal(toHalf(1 + 3 * 2 ** -11), 0x3c02); // tie, rounds up to even
  assert.equal(toHalf(2 ** -25), 0x0000); // half the smallest subnormal: tie to even zero
  assert.equal(toHalf(3 * 2 ** -26), 0x0001);
  assert.equal(toHalf(2 ** -14 - 2 ** -25), 0x0400); // rounds up from the subnormals into the normals
  assert.equal(toHalf(-0), 0x8000);
  assert.ok(Number.isNaN(half(toHalf(NaN))));
});

test('float32 -> float16 and bfloat16 is the nearest value, ties to even', () => {
  const rand = prng(11);
  const view = new Uint32Array(1);
  for (let i = 0; i < 20000; i++) {
    view[0] = (rand() * 2 ** 32) >>> 0;
    const x = bitsToFloat(view[0]!);
    if (!Number.isFinite(x)) continue;
    for (const [narrow, widen, max] of [
      [toHalf, half, 65504],
      [toBf, bf, 3.3895313892515355e38],
    ] as const) {
      const h = narrow(x);
      const y = widen(h);
      if (Math.abs(x) > max) continue;
      for (const n of [h - 1, h + 1]) {
        if (n < 0 || n > 0xffff || ((n ^ h) & 0x8000) !== 0) continue;
        const z = widen(n);
        if (!Number.isFinite(z)) continue;
        const dy = Math.abs(y - x);
        const dz = Math.abs(z - x);
        assert.ok(dy < dz || (dy === dz && (h & 1) === 0), `${x}: ${y} vs neighbour ${z}`);
      }
    }
  }
});

test('decode and encode payloads of every float dtype', () => {
  const f32 = Float32Array.of(1.5, -2.25, 0, 3.0e-8);
  for (const dtype of ['float32', 'float64', 'float16', 'bfloat16'] as const) {
    const bytes = encodeFloats(f32, dtype);
    assert.equal(bytes.length, 4 * (dtype === 'float64' ? 8 : dtype === 'float32' ? 4 : 2));
    const back = decodeFloats(bytes, dtype);
    assert.deepEqual(Array.from(back.slice(0, 3)), [1.5, -2.25, 0]);
    assert.ok(encodeFloats(back, dtype).equals(bytes));
  }
  // unaligned input views decode too
  const buf = Buffer.alloc(9);
  buf.writeFloatLE(7.5, 1);
  buf.writeFloatLE(-1, 5);
  assert.deepEqual(Array.from(decodeFloats(buf.subarray(1), 'float32')), [7.5, -1]);
  assert.throws(() => decodeFloats(Buffer.alloc(3), 'float16'), /whole number of elements/);
});

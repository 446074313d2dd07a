// Every encoding decodes to exactly the chunk's bytes, whatever the base (a good one, a poor one,
// misaligned buffers), and the predictors recover exact relationships the corpus has: fp16 rounding,
// per-channel int8 quantization, magnitude pruning with +0 and -0.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { f32BitsToF16Bits, f32ToBits } from '../src/codec/floats.js';
import { decodeObject, encodeObject, encodeStandalone, readHeader } from '../src/store/object.js';
import { inverse, Transform } from '../src/store/transforms.js';
import { sha256 } from '../src/store/store.js';
import { floatsBuffer, perturb, prng, seededFloats } from './helpers/onnx-builder.js';

const LIMIT = 1 << 30;

/** Round half to even, like numpy.rint: the int8 quantizers the corpus was made with. */
function rint(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The int8 prediction as the store defines it (docs/store-format.md), written the plain way. */
function referenceQuant(f: Float32Array, rows: number): Buffer {
  const per = f.length / rows;
  const q = Buffer.alloc(f.length);
  for (let r = 0; r < rows; r++) {
    let amax = 0;
    for (let i = r * per; i < (r + 1) * per; i++) if (Math.abs(f[i]) > amax || Number.isNaN(f[i])) amax = Math.abs(f[i]);
    const s = amax > 0 && Number.isFinite(amax) ? Math.fround(amax / 127) : 1;
    for (let i = r * per; i < (r + 1) * per; i++) {
      const v = rint(Math.fround(f[i] / s));
      q[i] = (Number.isNaN(v) ? 0 : Math.max(-127, Math.min(127, v))) & 0xff;
    }
  }
  return q;
}

function roundTrip(raw: Buffer, transform: Transform, width: number, bases: Buffer[], arg?: number): Buffer | undefined {
  const bs = bases.map((b) => ({ id: sha256(b), bytes: b, depth: 0 }));
  const obj = encodeObject(raw, { transform, width, bases: bs, arg });
  if (!obj) return undefined;
  const byId = new Map(bs.map((b) => [b.id, b.bytes]));
  const back = decodeObject(obj, LIMIT, (id) => byId.get(id)!);
  assert.ok(back.equals(raw), `transform ${transform} round-trips`);
  assert.deepEqual(readHeader(obj).bases, bs.map((b) => b.id));
  return obj;
}

function misaligned(b: Buffer): Buffer {
  const big = Buffer.alloc(b.length + 1);
  b.copy(big, 1);
  return big.subarray(1);
}

test('every transform round-trips on good, poor and misaligned bases', () => {
  const parent = floatsBuffer(seededFloats(1, 4099));
  const child = perturb(parent, 2, 0.5, 1e-3);
  const unrelated = floatsBuffer(seededFloats(3, 4099));
  for (const base of [parent, unrelated, misaligned(parent)]) {
    for (const raw of [child, misaligned(child)]) {
      roundTrip(raw, Transform.XorPlanes, 4, [base]);
      roundTrip(raw, Transform.MaskedXor, 4, [base]);
      roundTrip(raw, Transform.Dict, 4, [base]);
    }
  }
  roundTrip(child, Transform.Planes, 4, []);
  roundTrip(child, Transform.Identity, 1, []);
  assert.equal(encodeObject(child, { transform: Transform.XorPlanes, width: 4, bases: [{ id: sha256(parent), bytes: parent.subarray(4), depth: 0 }] }), undefined, 'XOR needs equal lengths');
});

test('XOR against the parent beats standalone on a fine-tune', () => {
  const parent = floatsBuffer(seededFloats(4, 100000));
  const child = perturb(parent, 5, 1, 1e-4);
  const xor = roundTrip(child, Transform.XorPlanes, 4, [parent])!;
  assert.ok(xor.length < encodeStandalone(child, 4).length * 0.7, `${xor.length} vs ${encodeStandalone(child, 4).length}`);
});

test('fp16 predicted from its fp32 parent costs almost nothing, and any fp16 still round-trips', () => {
  const parent = floatsBuffer(seededFloats(6, 50000));
  const half = Buffer.alloc(parent.length / 2);
  for (let i = 0; i < 50000; i++) half.writeUInt16LE(f32BitsToF16Bits(parent.readUInt32LE(i * 4)), i * 2);
  const obj = roundTrip(half, Transform.CastPredict, 2, [parent], 1)!;
  assert.ok(obj.length < 2000, `exact cast prediction: ${obj.length} bytes`);
  const noisy = Buffer.from(half);
  for (let i = 0; i < noisy.length; i += 7) noisy[i] ^= 1;
  roundTrip(noisy, Transform.CastPredict, 2, [parent], 1);
  roundTrip(half, Transform.CastPredict, 2, [misaligned(parent)], 2);
  // the conversion rounds to nearest even, including subnormals and overflow
  assert.equal(f32BitsToF16Bits(f32ToBits(1)), 0x3c00);
  assert.equal(f32BitsToF16Bits(f32ToBits(65520)), 0x7c00);
  assert.equal(f32BitsToF16Bits(f32ToBits(5.960464477539063e-8)), 0x0001);
  assert.equal(f32BitsToF16Bits(f32ToBits(1 + 2 ** -11)), 0x3c00, 'a tie rounds to even');
});

test('per-channel int8 quantization predicted from the fp32 parent costs almost nothing', () => {
  const rows = 64;
  const cols = 300;
  const parent = floatsBuffer(seededFloats(7, rows * cols));
  const q = referenceQuant(new Float32Array(parent.buffer, parent.byteOffset, rows * cols), rows);
  const perRow = roundTrip(q, Transform.QuantPredict, 1, [parent], rows)!;
  const perTensor = roundTrip(q, Transform.QuantPredict, 1, [parent], 1)!;
  assert.ok(perRow.length < 500, `exact per-row prediction: ${perRow.length} bytes`);
  assert.ok(perTensor.length > perRow.length);
  assert.equal(rint(2.5), 2);
  assert.equal(rint(-2.5), -2);
  assert.equal(rint(3.5), 4);
});

test('the int8 prediction is exactly the reference one: ties to even, clipping, NaN and infinite rows', () => {
  // Stored objects depend on it bit for bit: a faster prediction must not change one value.
  const rows = [
    [127, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5, -126.5, 3.5, -0, 0, 1e-30, -1e-30, 64.5, -64.5],
    [254, 1, 3, 5, -1, -3, -5, 253, -253, 2.0000001, 0.9999999, 7, 9, -7, -9, 11],
    [NaN, 1, 2, 3, -1, -2, -3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    [Infinity, 1, 2, 3, -1, -2, -3, 4, 5, 6, 7, 8, 9, 10, 11, -Infinity],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -0],
    [3.4e38, -3.4e38, 1e38, -1e38, 1, -1, 0.1, 5e37, -5e37, 2e38, 0, 0, 0, 0, 0, 0],
    ...Array.from({ length: 10 }, (_, r) => [...seededFloats(100 + r, 16)]),
  ];
  const f = new Float32Array(rows.flat());
  const parent = Buffer.from(f.buffer);
  for (const n of [rows.length, 2, 1]) {
    const params = Buffer.alloc(4);
    params.writeUInt32LE(n);
    const predicted = inverse(Transform.QuantPredict, [Buffer.alloc(f.length)], params, 1, [parent], f.length);
    assert.deepEqual([...predicted], [...referenceQuant(f, n)], `${n} rows`);
  }
});

test('pruned tensors: masked XOR keeps +0 and -0 and beats plain XOR', () => {
  const parent = floatsBuffer(seededFloats(8, 60000));
  const pruned = Buffer.from(parent);
  const r = prng(9);
  for (let i = 0; i < 60000; i++) {
    if (r() < 0.9) pruned.writeUInt32LE(r() < 0.5 ? 0 : 0x80000000, i * 4);
  }
  const masked = roundTrip(pruned, Transform.MaskedXor, 4, [parent])!;
  const xor = roundTrip(pruned, Transform.XorPlanes, 4, [parent])!;
  assert.ok(masked.length < xor.length / 2, `${masked.length} vs ${xor.length}`);
  const half = Buffer.alloc(2000);
  half.writeUInt16LE(0x8000, 10);
  roundTrip(half, Transform.MaskedXor, 2, [Buffer.alloc(2000, 3)]);
});

test('a dictionary finds rows sliced out of the parent', () => {
  const parent = floatsBuffer(seededFloats(10, 256 * 512));
  const rows: Buffer[] = [];
  for (let i = 0; i < 256; i += 2) rows.push(parent.subarray(i * 2048, (i + 1) * 2048));
  const sliced = Buffer.concat(rows);
  const dict = roundTrip(sliced, Transform.Dict, 4, [parent])!;
  assert.ok(dict.length < sliced.length / 50, `${dict.length} of ${sliced.length}`);
});

test('decoding refuses damaged objects instead of returning wrong bytes', () => {
  const raw = floatsBuffer(seededFloats(11, 10000));
  const obj = encodeStandalone(raw, 4);
  for (const cut of [10, 30, obj.length - 1]) assert.throws(() => decodeObject(obj.subarray(0, cut), LIMIT));
  const bad = Buffer.from(obj);
  bad[4] = 99;
  assert.throws(() => decodeObject(bad, LIMIT), /unknown transform 99/);
});

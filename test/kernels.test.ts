// The WebAssembly kernels (src/codec/kernels.wat) decode exactly what the JavaScript transforms
// encode, at every length around their 16-element groups, with the values that make rounding and
// masking hard (NaN, infinities, -0, ties); and the JavaScript reference path still decodes
// everything when the kernels are off.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { kernelsName } from '../src/codec/kernels.js';
import { decodeObject, encodeObject } from '../src/store/object.js';
import { sha256 } from '../src/store/store.js';
import { Transform } from '../src/store/transforms.js';
import { floatsBuffer, perturb, prng, seededFloats } from './helpers/onnx-builder.js';

const LIMIT = 1 << 30;

function roundTrip(raw: Buffer, transform: Transform, width: number, bases: Buffer[], arg?: number): void {
  const bs = bases.map((b) => ({ id: sha256(b), bytes: b, depth: 0 }));
  const obj = encodeObject(raw, { transform, width, bases: bs, arg });
  assert.ok(obj, `transform ${transform} applies (length ${raw.length})`);
  const byId = new Map(bs.map((b) => [b.id, b.bytes]));
  const back = decodeObject(obj, LIMIT, (id) => byId.get(id)!);
  assert.ok(back.equals(raw), `transform ${transform}, width ${width}, length ${raw.length} round-trips`);
}

test('the kernels are built and load', () => {
  assert.equal(kernelsName(), 'wasm-simd', 'dist/src/codec/kernels.wasm is missing: npm run build compiles it');
});

test('byte planes, XOR and masked XOR decode at every length around the 16-element groups', () => {
  for (const count of [16, 17, 31, 32, 33, 47, 63, 64, 65, 1000, 4099]) {
    const parent = floatsBuffer(seededFloats(count, count));
    const child = perturb(parent, count + 1, 0.5, 1e-3);
    const pruned = Buffer.from(child);
    const rnd = prng(count);
    for (let i = 0; i < count; i++) if (rnd() < 0.5) pruned.writeUInt32LE(rnd() < 0.5 ? 0 : 0x80000000, i * 4);
    for (const extra of [0, 1, 3]) {
      // trailing bytes that fill no element stay in the last plane
      const tail = Buffer.concat([child, Buffer.from([1, 2, 3].slice(0, extra))]);
      roundTrip(tail, Transform.Planes, 4, []);
      roundTrip(tail, Transform.Planes, 2, []);
    }
    roundTrip(child, Transform.XorPlanes, 4, [parent]);
    roundTrip(child, Transform.XorPlanes, 2, [parent]);
    roundTrip(pruned, Transform.MaskedXor, 4, [parent]);
    roundTrip(pruned, Transform.MaskedXor, 2, [parent]);
  }
});

test('int8 prediction matches the reference bit for bit: ties, NaN, infinities, -0, zero rows', () => {
  const rows = 8;
  const per = 37; // rows that do not start on a 16-element boundary
  const f = new Float32Array(rows * per);
  const rnd = prng(7);
  for (let i = 0; i < f.length; i++) f[i] = (rnd() - 0.5) * 0.2;
  // row 0: exact ties after scaling (max 127 makes s = 1): 0.5, 1.5, -2.5 round to even
  f[0] = 127;
  f.set([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, -0], 1);
  f[per + 3] = NaN; // row 1: scale 1, the NaN itself becomes 0
  f[2 * per + 5] = Infinity; // row 2: scale 1, clipped
  f[3 * per + 1] = -Infinity;
  for (let i = 4 * per; i < 5 * per; i++) f[i] = 0; // row 4: all zero
  for (let i = 5 * per; i < 6 * per; i++) f[i] = i % 2 ? -0 : 0;
  const base = Buffer.from(f.buffer);
  for (const r of [1, rows]) {
    // the model's int8 weights are the prediction itself, and a perturbed copy of it
    const q = Buffer.alloc(f.length);
    roundTrip(q, Transform.QuantPredict, 1, [base], r); // all-zero residual = the prediction XOR itself
    const noisy = Buffer.from(q);
    for (let i = 0; i < noisy.length; i += 3) noisy[i] = (rnd() * 256) | 0;
    roundTrip(noisy, Transform.QuantPredict, 1, [base], r);
  }
});

test('float16 and bfloat16 prediction matches the reference: rounding, subnormals, overflow, NaN', () => {
  for (const count of [16, 17, 33, 4099]) {
    const f = seededFloats(count + 100, count);
    const special = [65504, 65520, 1e-8, 6e-8, -3e-5, 2 ** -24, 2 ** -25, 1 + 2 ** -11, 1 + 3 * 2 ** -11, Infinity, -Infinity, NaN, -0];
    for (let i = 0; i < Math.min(count, special.length); i++) f[i] = special[i];
    const base = floatsBuffer(f);
    // ties and near-ties of the dropped bits, in groups of normal numbers (the vector path): rounding
    // to even keeps 0x1000 on an even half, carries it on an odd one; 0xfff never carries (bfloat16:
    // the same with 0x8000 and 0x7fff)
    const mants = [0x1000, 0x2000 | 0x1000, 0x2000 | 0xfff, 0x0fff, 0x1001, 0x3fff, 0x7fffff, 0x7fe000 | 0x1000, 0x8000, 0x18000, 0x7fff, 0x17fff];
    for (let i = 0; i < mants.length && 16 + i < count; i++) base.writeUInt32LE((((127 + (i % 3)) << 23) | mants[i]) >>> 0, (16 + i) * 4);
    for (const kind of [1, 2]) {
      const half = Buffer.alloc(count * 2);
      const rnd = prng(kind * count);
      for (let i = 0; i < half.length; i++) half[i] = (rnd() * 256) | 0;
      roundTrip(half, Transform.CastPredict, 2, [base], kind);
    }
  }
});

test('a dictionary of several bases decodes', () => {
  const a = floatsBuffer(seededFloats(21, 5000));
  const b = floatsBuffer(seededFloats(22, 5000));
  const raw = Buffer.concat([b.subarray(4000, 12000), a.subarray(0, 6000)]);
  roundTrip(raw, Transform.Dict, 4, [a, b]);
  roundTrip(raw, Transform.Dict, 4, [a]);
});

test('with the kernels off, the JavaScript transforms decode the same', () => {
  const file = fileURLToPath(new URL('./transforms.test.js', import.meta.url));
  const env: NodeJS.ProcessEnv = { ...process.env, MGIT_KERNELS: 'js' };
  delete env.NODE_TEST_CONTEXT; // a test run of its own, not a child of this one
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', file], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /# fail 0/);
});

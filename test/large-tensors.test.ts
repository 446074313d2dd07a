// Tensors larger than one 16 MiB piece, at library level (no git): the merge computes and stores them
// piece by piece and the result equals the formula everywhere, including across the piece boundary;
// value statistics walk two tensors whose pieces are cut differently (float32 against float16).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parsePointer, TENSOR_PIECE_BYTES } from '../src/codec/pointer.js';
import { diffModel } from '../src/diff/report.js';
import { cleanStream } from '../src/filter/clean.js';
import { reconstruct } from '../src/filter/smudge.js';
import { mergeModels } from '../src/merge/merge.js';
import { FileSource, PointerSource } from '../src/model/source.js';
import { CleanCache } from '../src/store/clean-cache.js';
import { ChunkStore } from '../src/store/store.js';
import { encodeFloats } from '../src/tensor/floats.js';
import { tempDir } from './helpers/git-repo.js';
import { DT, floatsBuffer, graph, model, node, tensor, valueInfo } from './helpers/onnx-builder.js';
import { payloadsOf } from './helpers/model-variants.js';

const N = 4_500_000; // 18 MB of float32: two pieces
const f = Math.fround;

function bigModel(values: Float32Array, dtype: number = DT.FLOAT): Buffer {
  const raw = dtype === DT.FLOAT ? floatsBuffer(values) : encodeFloats(values, 'float16');
  return model({
    graph: graph({
      name: 'big',
      nodes: [node({ opType: 'Identity', inputs: ['w'], outputs: ['y'] })],
      initializers: [tensor({ name: 'w', dtype, dims: [N], raw })],
      outputs: [valueInfo('y', dtype, [N])],
    }),
  });
}

test('merging a multi-piece tensor with task-arithmetic, piece by piece', async () => {
  const dir = tempDir('large');
  const store = new ChunkStore(path.join(dir, 'store'));
  fs.mkdirSync(store.objects, { recursive: true });
  fs.mkdirSync(store.tmp, { recursive: true });
  const cache = new CleanCache(store);
  const o = Float32Array.from({ length: N }, (_, i) => Math.sin(i) * 0.1);
  const a = o.map((x, i) => x + (i % 3) * 1e-3);
  const b = o.map((x, i) => x - (i % 5) * 2e-3);
  const version = async (label: string, v: Float32Array) => {
    const p = parsePointer(await cleanStream(store, cache, (async function* () {
      yield bigModel(v);
    })()));
    return new PointerSource(label, p, store);
  };
  const [so, sa, sb] = [await version('base', o), await version('ours', a), await version('theirs', b)];
  const part = sa.pointer.parts.find((p) => p.kind === 'tensor');
  assert.equal(part?.kind === 'tensor' ? part.pieces.length : 0, 2);
  const r = mergeModels(store, so, sa, sb, 'task-arithmetic');
  assert.equal(r.status, 'clean', JSON.stringify(r.conflicts));
  const file = path.join(dir, 'merged.onnx');
  fs.writeFileSync(file, Buffer.concat([...reconstruct(store, r.pointer!)]));
  const got = payloadsOf(file).get('w')!;
  const w = new Float32Array(got.buffer.slice(got.byteOffset, got.byteOffset + got.length));
  const boundary = TENSOR_PIECE_BYTES / 4;
  for (const i of [0, 1, boundary - 1, boundary, boundary + 1, N - 1, 12345, 3_999_999]) {
    assert.equal(w[i], f(f(o[i]! + f(a[i]! - o[i]!)) + f(b[i]! - o[i]!)), `element ${i}`);
  }
  for (let i = 0; i < N; i += 997) assert.equal(w[i], f(f(o[i]! + f(a[i]! - o[i]!)) + f(b[i]! - o[i]!)));

  // value statistics across differently cut pieces: float32 (2 pieces) against float16 (1 piece)
  const f32 = path.join(dir, 'f32.onnx');
  const f16 = path.join(dir, 'f16.onnx');
  fs.writeFileSync(f32, bigModel(o));
  fs.writeFileSync(f16, bigModel(o, DT.FLOAT16));
  const d = diffModel('x', new FileSource('f32', f32), new FileSource('f16', f16), { values: true });
  const c = d.tensors.changes.find((x) => x.name === 'w')!;
  assert.equal(c.class, 'retyped');
  assert.equal(c.stats!.elements, N);
  assert.ok(c.stats!.maxAbsDiff > 0 && c.stats!.maxAbsDiff <= 0.1 * 2 ** -11, String(c.stats!.maxAbsDiff));
});

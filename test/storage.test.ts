// Storage across versions: derived models are stored as deltas of their bases, repack re-chooses
// encodings without changing a pointer, delta chains stay bounded, gc deletes only what nothing needs,
// and stats add up to what the store holds.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { f32BitsToF16Bits } from '../src/codec/floats.js';
import { ChunkStore } from '../src/store/store.js';
import { floatsBuffer, mlpTensors, model, graph, node, perturb, seededFloats, tensor, valueInfo, DT, type TensorSpec } from './helpers/onnx-builder.js';
import { TestRepo } from './helpers/git-repo.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A valid model from tensor specs (MatMul/Add chain as in mlpModel), so variants can change weights. */
function modelOf(specs: TensorSpec[], width: number): Buffer {
  const nodes: Buffer[] = [];
  let h = 'x';
  const layers = specs.length / 2;
  for (let i = 0; i < layers; i++) {
    const out = i === layers - 1 ? 'y' : `h${i + 1}`;
    nodes.push(node({ opType: 'MatMul', inputs: [h, specs[2 * i].name], outputs: [`mm${i}`] }));
    nodes.push(node({ opType: 'Add', inputs: [`mm${i}`, specs[2 * i + 1].name], outputs: [out] }));
    h = out;
  }
  return model({
    graph: graph({
      name: 'g',
      nodes,
      initializers: specs.map((s) => tensor(s)),
      inputs: [valueInfo('x', DT.FLOAT, [1, width])],
      outputs: [valueInfo('y', specs[specs.length - 1].dtype, [1, width])],
    }),
  });
}

function storeDirBytes(repo: TestRepo): number {
  let total = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else total += fs.statSync(p).size;
    }
  };
  walk(repo.store);
  return total;
}

const W = 128;
const base = mlpTensors({ seed: 1, layers: 4, width: W });
const fineTune = (specs: TensorSpec[], seed: number, scale = 1e-3) => specs.map((s, i) => ({ ...s, raw: perturb(s.raw!, seed + i, 1, scale) }));
const toFp16 = (specs: TensorSpec[]) =>
  specs.map((s) => {
    const out = Buffer.alloc(s.raw!.length / 2);
    for (let i = 0; i < out.length / 2; i++) out.writeUInt16LE(f32BitsToF16Bits(s.raw!.readUInt32LE(i * 4)), i * 2);
    return { ...s, dtype: DT.FLOAT16, raw: out };
  });

test('derived models are stored as deltas; repack keeps every pointer and shrinks the store', () => {
  const repo = TestRepo.create();
  const files: Record<string, Buffer> = {
    'models/base.onnx': modelOf(base, W),
    'models/ft.onnx': modelOf(fineTune(base, 100), W),
    'models/half.onnx': modelOf(toFp16(base), W),
  };
  const standaloneObjects: number[] = [];
  for (const [p, b] of Object.entries(files)) {
    repo.write(p, b);
    repo.commitAll(p);
    standaloneObjects.push(storeDirBytes(repo));
  }
  const tree = repo.git('rev-parse', 'HEAD^{tree}').trim();
  const before = JSON.parse(repo.mgit('stats', '--json'));
  const r = JSON.parse(repo.mgit('repack', '--json'));
  assert.equal(r.unreadable.length, 0);
  assert.equal(repo.git('rev-parse', 'HEAD^{tree}').trim(), tree, 'no pointer changed');
  assert.equal(repo.storeObjects().length, 0, 'everything is packed');
  const after = JSON.parse(repo.mgit('stats', '--json'));
  assert.ok(after.storedBytes <= before.storedBytes, `${after.storedBytes} <= ${before.storedBytes}`);
  const half = after.models.find((m: { path: string }) => m.path === 'models/half.onnx');
  assert.ok(half.storedBytes < 5000, `fp16 copy predicted from its parent: ${half.storedBytes} bytes`);
  const ft = after.models.find((m: { path: string }) => m.path === 'models/ft.onnx');
  const b0 = after.models.find((m: { path: string }) => m.path === 'models/base.onnx');
  assert.ok(ft.storedBytes < b0.storedBytes * 0.8, `fine-tune as delta: ${ft.storedBytes} vs base ${b0.storedBytes}`);
  assert.ok(after.saved.delta > 0 && after.saved.compression > 0);
  // storedBytes accounts for the store folder within 5%
  const du = storeDirBytes(repo);
  assert.ok(Math.abs(du - after.storedBytes) / du < 0.05, `stats ${after.storedBytes} vs store ${du}`);

  for (const p of Object.keys(files)) fs.rmSync(repo.path(p));
  repo.git('checkout', '--', '.');
  for (const [p, b] of Object.entries(files)) assert.equal(sha(repo.read(p)), sha(b), p);
  assert.equal(repo.status(), '');
  const full = JSON.parse(repo.mgit('fsck', '--full', '--json'));
  assert.equal(full.ok, true);
  assert.deepEqual(full.mismatched, []);
});

test('a new version of a path is a delta of the previous one at clean time', () => {
  const repo = TestRepo.create();
  repo.write('m.onnx', modelOf(base, W));
  repo.commitAll('v1');
  const v1 = storeDirBytes(repo);
  repo.write('m.onnx', modelOf(fineTune(base, 7, 1e-4), W));
  repo.commitAll('v2');
  const v2 = storeDirBytes(repo) - v1;
  assert.ok(v2 < v1 * 0.7, `v2 adds ${v2} bytes, v1 took ${v1}`);
});

test('delta chains stay within the depth limit, and every version still checks out', () => {
  const repo = TestRepo.create();
  repo.git('config', 'mgit.deltaDepth', '3');
  let specs = mlpTensors({ seed: 9, layers: 2, width: 64 });
  const versions: Buffer[] = [];
  for (let v = 0; v < 8; v++) {
    specs = fineTune(specs, 1000 * v, 1e-4);
    versions.push(modelOf(specs, 64));
    repo.write('m.onnx', versions[v]);
    repo.commitAll(`v${v}`);
  }
  repo.mgit('repack');
  const store = new ChunkStore(repo.store);
  let deepest = 0;
  for (const id of store.ids()) deepest = Math.max(deepest, store.info(id)!.depth);
  assert.ok(deepest <= 3 && deepest >= 1, `deepest chain ${deepest}`);
  for (let v = 0; v < 8; v++) {
    repo.git('checkout', '-q', `HEAD~${7 - v}`, '--', 'm.onnx');
    assert.equal(sha(repo.read('m.onnx')), sha(versions[v]), `version ${v}`);
  }
});

test('gc deletes only chunks nothing needs, keeps delta bases, and honours the grace period', () => {
  const repo = TestRepo.create();
  repo.write('m.onnx', modelOf(base, W));
  repo.commitAll('base');
  repo.git('switch', '-q', '-c', 'experiment');
  const exp = modelOf(fineTune(base, 55), W);
  repo.write('m.onnx', exp);
  repo.commitAll('experiment');
  repo.git('switch', '-q', 'main');
  repo.mgit('repack');
  const all = new ChunkStore(repo.store);
  const total = [...all.ids()].length;

  // within the grace period nothing goes, even unreachable
  repo.git('branch', '-D', 'experiment');
  repo.git('reflog', 'expire', '--expire=now', '--all');
  let g = JSON.parse(repo.mgit('gc', '--json'));
  assert.equal(g.deletedObjects, 0, 'a fresh pack is within the grace period');
  g = JSON.parse(repo.mgit('gc', '--prune=now', '--json'));
  assert.ok(g.deletedObjects > 0, 'the experiment\'s chunks are gone');
  const left = [...new ChunkStore(repo.store).ids()].length;
  assert.ok(left < total);
  assert.equal(JSON.parse(repo.mgit('fsck', '--json')).ok, true, 'everything reachable still rebuilds');
  repo.checkoutAgain('m.onnx');
  assert.equal(sha(repo.read('m.onnx')), sha(modelOf(base, W)));

  // a chunk whose only user is a delta that is kept stays too: keep the experiment as a stash-like ref
  const repo2 = TestRepo.create();
  repo2.write('a.onnx', modelOf(base, W));
  repo2.commitAll('a');
  repo2.write('a.onnx', modelOf(fineTune(base, 77, 1e-4), W));
  repo2.commitAll('a2');
  repo2.mgit('repack');
  // rewrite history so that only v2 is reachable; v1's chunks are its delta bases
  repo2.git('checkout', '-q', '--orphan', 'only-v2');
  repo2.git('commit', '-q', '-m', 'v2 alone');
  repo2.git('branch', '-D', 'main');
  repo2.git('reflog', 'expire', '--expire=now', '--all');
  repo2.mgit('gc', '--prune=now');
  assert.equal(JSON.parse(repo2.mgit('fsck', '--json')).ok, true, 'bases of kept deltas survive gc');
});

test('a clean cache hit never returns a pointer whose chunks gc removed', () => {
  const repo = TestRepo.create();
  const m = modelOf(base, W);
  repo.write('m.onnx', m);
  repo.commitAll('m');
  repo.git('rm', '-q', 'm.onnx');
  repo.git('commit', '-q', '-m', 'gone');
  repo.git('reflog', 'expire', '--expire=now', '--all');
  // the commit that had it is still reachable from main's history: drop history entirely
  repo.git('checkout', '-q', '--orphan', 'fresh');
  repo.git('commit', '-q', '--allow-empty', '-m', 'fresh');
  repo.git('branch', '-D', 'main');
  repo.git('reflog', 'expire', '--expire=now', '--all');
  repo.mgit('gc', '--prune=now');
  repo.write('m.onnx', m);
  repo.commitAll('again');
  assert.equal(JSON.parse(repo.mgit('fsck', '--json')).ok, true);
  repo.checkoutAgain('m.onnx');
  assert.equal(sha(repo.read('m.onnx')), sha(m));
  void floatsBuffer;
});

test('an fp16 copy at a new path finds its float32 source among layers of one shape in newer models', () => {
  const repo = TestRepo.create();
  // every layer of these models is W x W: the newest float32 tensors of that shape are other.onnx's
  const other = mlpTensors({ seed: 7, layers: 4, width: W });
  repo.write('models/base.onnx', modelOf(base, W));
  repo.commitAll('base');
  repo.write('models/other.onnx', modelOf(other, W));
  repo.commitAll('an unrelated model of the same architecture');
  repo.write('models/half.onnx', modelOf(toFp16(base), W));
  repo.commitAll('base cast to float16');
  const stored = () => JSON.parse(repo.mgit('stats', '--json')).models.find((m: { path: string }) => m.path === 'models/half.onnx').storedBytes;
  assert.ok(stored() < 5000, `clean predicts the fp16 copy from base.onnx's tensors of the same name: ${stored()} bytes`);
  repo.mgit('repack');
  assert.ok(stored() < 5000, `and repack keeps it so: ${stored()} bytes`);
});

test('gc keeps the chunks of a clean-cache entry in use, and drops an entry before its chunks', () => {
  const repo = TestRepo.create();
  const m = modelOf(fineTune(base, 91, 1e-3), W);
  repo.write('x.onnx', m);
  repo.git('add', 'x.onnx'); // chunks and a cache entry; then nothing reachable names them
  repo.git('rm', '-q', '--cached', 'x.onnx');
  const store = new ChunkStore(repo.store);
  const ids = [...store.ids()];
  assert.ok(ids.length > 0);
  const cacheDir = path.join(repo.store, 'cache', 'clean');
  const entry = path.join(cacheDir, sha(m));
  assert.ok(fs.existsSync(entry), 'clean wrote a cache entry');
  const old = new Date(Date.now() - 3 * 3600 * 1000);
  const age = (f: string) => fs.utimesSync(f, old, old);
  for (const id of store.looseIds()) age(store.objectPath(id));
  age(entry);
  // a cache hit (here: git hash-object, which cleans without staging) marks the entry in use
  repo.git('hash-object', 'x.onnx');
  assert.ok(fs.statSync(entry).mtimeMs > old.getTime() + 3600 * 1000, 'the hit touched its entry');
  let g = JSON.parse(repo.mgit('gc', '--json'));
  assert.equal(g.deletedObjects, 0, 'chunks of an entry hit within the grace period are kept');
  assert.equal(g.cacheEntriesRemoved, 0);
  age(entry);
  g = JSON.parse(repo.mgit('gc', '--json'));
  assert.ok(g.deletedObjects >= ids.length, 'unused chunks older than the grace period go');
  assert.equal(g.cacheEntriesRemoved, 1, 'with the entry that named them');
  assert.ok(!fs.existsSync(entry));
  // the next add cleans the file in full again and stores its chunks again
  repo.git('add', 'x.onnx');
  repo.git('commit', '-q', '-m', 'x');
  assert.equal(JSON.parse(repo.mgit('fsck', '--json')).ok, true);
  repo.checkoutAgain('x.onnx');
  assert.equal(sha(repo.read('x.onnx')), sha(m));
});

test('a chunk used twice in one model and as a delta base checks out intact (read-ahead worker)', () => {
  const repo = TestRepo.create();
  const specs = mlpTensors({ seed: 31, layers: 4, width: W });
  // layer 2 repeats layer 0's weights (tied weights), and a fine-tune of layer 0 follows
  const tied = specs.map((s, i) => (i === 4 ? { ...s, raw: specs[0].raw } : s));
  const ft = tied.map((s, i) => (i === 6 ? { ...s, raw: perturb(specs[0].raw!, 3, 1, 1e-4) } : s));
  const a = modelOf(tied, W);
  const b = modelOf(ft, W);
  repo.write('a.onnx', a);
  repo.write('b.onnx', b);
  repo.commitAll('tied');
  repo.mgit('repack');
  for (const p of ['a.onnx', 'b.onnx']) fs.rmSync(repo.path(p));
  repo.git('checkout', '--', '.');
  assert.equal(sha(repo.read('a.onnx')), sha(a));
  assert.equal(sha(repo.read('b.onnx')), sha(b));
});

test('a declared lineage parent is a delta base even when tensor names differ', () => {
  const repo = TestRepo.create();
  repo.write('models/base.onnx', modelOf(base, W));
  repo.commitAll('base');
  // newer unrelated models with tensors of the same sizes: repack's search by size (relayouts) tries
  // the newest of those, so only a declared parent points at the right one
  for (let i = 0; i < 17; i++) repo.write(`others/m${i}.onnx`, modelOf(mlpTensors({ seed: 100 + i, layers: 4, width: W }), W));
  repo.commitAll('others');
  // an exporter renamed every tensor, and the weights were fine-tuned: nothing matches by name
  const renamed = fineTune(base, 500, 1e-4).map((s, i) => ({ ...s, name: `renamed_${i}` }));
  repo.write('models/child.onnx', modelOf(renamed, W));
  repo.commitAll('child');
  repo.mgit('repack');
  const alone = JSON.parse(repo.mgit('stats', '--json')).models.find((m: { path: string }) => m.path === 'models/child.onnx').storedBytes;
  repo.mgit('lineage', 'add', 'models/child.onnx', '--parent', 'models/base.onnx', '--relation', 'finetune');
  repo.mgit('repack');
  const withParent = JSON.parse(repo.mgit('stats', '--json')).models.find((m: { path: string }) => m.path === 'models/child.onnx').storedBytes;
  assert.ok(withParent < alone * 0.8, `with its declared parent ${withParent} bytes, without ${alone}`);
  assert.equal(JSON.parse(repo.mgit('fsck', '--full', '--json')).ok, true);
});

test('repack finds weights laid out again under other names and shapes (LSTM gates reordered by an exporter)', () => {
  const repo = TestRepo.create();
  const H = 64;
  const gate = H * H;
  // PyTorch keeps LSTM gates as i, f, g, o; ONNX's LSTM wants i, o, f, c: the same rows, reordered
  const reorder = (v: Float32Array) => {
    const out = new Float32Array(v.length);
    [0, 3, 1, 2].forEach((src, dst) => out.set(v.subarray(src * gate, (src + 1) * gate), dst * gate));
    return out;
  };
  const ih = seededFloats(7, 4 * gate);
  const hh = seededFloats(8, 4 * gate);
  const lstmModel = (specs: TensorSpec[]) => model({ graph: graph({ name: 'g', nodes: [], initializers: specs.map((s) => tensor(s)), inputs: [], outputs: [] }) });
  repo.write('torch/rnn.onnx', lstmModel([
    { name: 'rnn.weight_ih', dtype: DT.FLOAT, dims: [4 * H, H], raw: floatsBuffer(ih) },
    { name: 'rnn.weight_hh', dtype: DT.FLOAT, dims: [4 * H, H], raw: floatsBuffer(hh) },
  ]));
  repo.commitAll('torch export');
  const relaid = lstmModel([
    { name: 'onnx::LSTM_95', dtype: DT.FLOAT, dims: [1, 4 * H, H], raw: floatsBuffer(reorder(ih)) },
    { name: 'onnx::LSTM_96', dtype: DT.FLOAT, dims: [1, 4 * H, H], raw: floatsBuffer(reorder(hh)) },
  ]);
  repo.write('onnx/rnn.onnx', relaid);
  repo.commitAll('onnx export');
  repo.mgit('repack');
  const stats = JSON.parse(repo.mgit('stats', '--json')).models as { path: string; logicalBytes: number; storedBytes: number }[];
  const child = stats.find((m) => m.path === 'onnx/rnn.onnx')!;
  assert.ok(child.storedBytes < child.logicalBytes * 0.05, `the relaid model takes ${child.storedBytes} of ${child.logicalBytes} bytes`);
  assert.equal(JSON.parse(repo.mgit('fsck', '--full', '--json')).ok, true);
  repo.checkoutAgain('onnx/rnn.onnx');
  assert.equal(sha(repo.read('onnx/rnn.onnx')), sha(relaid));
});

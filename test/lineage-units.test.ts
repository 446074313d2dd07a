// Lineage pieces without git: the record format against fixed vectors (docs/lineage-spec.md), the
// graph (retractions, cycles), creation commands (no shell, placeholders as whole arguments), the
// graph drawing, sketches and the autopilot's ranking on synthetic tensors.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expandCommand, formatCommand, splitCommand, checkPlaceholders } from '../src/lineage/command.js';
import { drawGraph } from '../src/lineage/draw.js';
import { LineageGraph } from '../src/lineage/graph.js';
import type { IndexEntry, IndexedTensor } from '../src/lineage/local-index.js';
import { decodeRecord, encodeRecord, parseRecordPath, recordId, recordPath, type EdgeRecord } from '../src/lineage/record.js';
import { decodeSketch, encodeSketch, jaccard, samplePositions, similarity, skeletonSketch, sketchTensor } from '../src/lineage/sketch.js';
import { rankParents } from '../src/lineage/suggest.js';
import { prng } from './helpers/onnx-builder.js';

const A = '1'.repeat(64);
const B = '2'.repeat(64);
const C = '3'.repeat(64);

const EDGE: EdgeRecord = {
  kind: 'edge',
  child: A,
  childPath: 'models/sentiment.onnx',
  parents: [B, C],
  parentPaths: ['models/base.onnx', 'models/other base.onnx'],
  relation: 'merge',
  command: ['python', 'soup.py', '{parent0}', '{parent1}', '-o', '{child}'],
  meta: { task: 'sentiment', 'a.b': 'é "q"' },
};

test('records: canonical bytes and ids match the spec vectors', () => {
  const bytes = encodeRecord(EDGE);
  assert.equal(
    bytes.toString('utf8'),
    `{"v":1,"kind":"edge","child":"${A}","childPath":"models/sentiment.onnx","parents":["${B}","${C}"],"parentPaths":["models/base.onnx","models/other base.onnx"],"relation":"merge","command":["python","soup.py","{parent0}","{parent1}","-o","{child}"],"meta":{"a.b":"é \\"q\\"","task":"sentiment"}}\n`,
  );
  assert.equal(recordId(bytes), '4012ca8fbcb29b3db93cf19f088fcf56bf591cf939fe8ff3ba885ee369f750e2');
  const retract = encodeRecord({ kind: 'retract', child: A, edge: recordId(bytes) });
  assert.equal(retract.toString(), `{"v":1,"kind":"retract","child":"${A}","edge":"4012ca8fbcb29b3db93cf19f088fcf56bf591cf939fe8ff3ba885ee369f750e2"}\n`);
  assert.equal(recordId(retract), '9d4eb93c177e3ec854335716aa1880a7aad43bb8b12c7561294b837d05226092');
  assert.equal(recordPath(A, recordId(retract)), `v1/11/${A}/9d4eb93c177e3ec854335716aa1880a7aad43bb8b12c7561294b837d05226092.json`);
  // meta key order does not matter to the encoding
  const swapped = encodeRecord({ ...EDGE, meta: { 'a.b': 'é "q"', task: 'sentiment' } });
  assert.deepEqual(swapped, bytes);
});

test('records: decode checks canonical form, file name, folder, fields and limits', () => {
  const bytes = encodeRecord(EDGE);
  const id = recordId(bytes);
  const at = recordPath(A, id);
  assert.deepEqual(decodeRecord(bytes, at).record, EDGE);
  assert.deepEqual(parseRecordPath(at), { child: A, id });
  const bad = (b: Buffer | string, p = at) => assert.throws(() => decodeRecord(Buffer.from(b), p));
  bad(bytes.toString().replace('{"v":1,', '{ "v":1,')); // whitespace
  bad(bytes.toString().replace('\n', '')); // no final LF
  bad(bytes.toString().replace('"relation":"merge",', '').replace('"parents":', '"relation":"merge","parents":')); // key order
  bad(bytes, recordPath(A, B)); // name is not the hash
  bad(bytes, recordPath(B, id)); // filed under another child
  bad(bytes.toString().replace('"relation":"merge"', '"relation":"merge","extra":1')); // unknown field
  bad(encodeRecordUnsafe({ ...EDGE, relation: 'Bad Relation' }));
  assert.throws(() => decodeRecord(Buffer.from(bytes.toString().replace('{"v":1', '{"v":2'))), /newer/);
  assert.throws(() => encodeRecord({ ...EDGE, parents: [A] }), /own parent/);
  assert.throws(() => encodeRecord({ ...EDGE, parents: [B, B], parentPaths: ['a', 'b'] }), /twice/);
  assert.throws(() => encodeRecord({ ...EDGE, parentPaths: ['x'] }), /parentPaths/);
  assert.throws(() => encodeRecord({ ...EDGE, meta: { 'bad key': 'x' } }), /meta key/);
  // an unknown relation from a newer mgit still reads
  const future = encodeRecord({ ...EDGE, relation: 'distill-v2' });
  assert.equal((decodeRecord(future, recordPath(A, recordId(future))).record as EdgeRecord).relation, 'distill-v2');
});

function encodeRecordUnsafe(r: EdgeRecord): string {
  return JSON.stringify({ v: 1, kind: r.kind, child: r.child, childPath: r.childPath, parents: r.parents, parentPaths: r.parentPaths, relation: r.relation }) + '\n';
}

test('graph: retractions withdraw one record; parents keep their order; cycles are detected', () => {
  const e1: EdgeRecord = { kind: 'edge', child: C, childPath: 'c', parents: [B], parentPaths: ['b'], relation: 'finetune' };
  const e2: EdgeRecord = { kind: 'edge', child: B, childPath: 'b', parents: [A], parentPaths: ['a'], relation: 'quantize' };
  const id1 = recordId(encodeRecord(e1));
  const id2 = recordId(encodeRecord(e2));
  const g = new LineageGraph([
    [id1, e1],
    [id2, e2],
  ]);
  assert.deepEqual(g.parentsOf(C), [B]);
  assert.deepEqual(g.childrenOf(A), [B]);
  assert.equal(g.wouldCycle(A, [C]), true);
  assert.equal(g.wouldCycle(C, [A]), false);
  g.add('f'.repeat(64), { kind: 'retract', child: C, edge: id1 });
  assert.deepEqual(g.parentsOf(C), []);
  assert.deepEqual(
    g.edges.map((e) => e.id),
    [id2],
  );
});

test('commands: split like a shell without expanding anything; placeholders stay single arguments', () => {
  assert.deepEqual(splitCommand(`python "fine tune.py" --base {parent} --out={child} 'a b' c\\ d`), ['python', 'fine tune.py', '--base', '{parent}', '--out={child}', 'a b', 'c d']);
  for (const bad of ['a; rm -rf /', 'echo $HOME', 'a | b', 'x > y', 'echo `id`', '"unterminated', '']) assert.throws(() => splitCommand(bad), bad);
  assert.doesNotThrow(() => checkPlaceholders(['{child}', '{parent}', '{parent1}'], 2));
  assert.throws(() => checkPlaceholders(['{parent2}'], 2), /placeholder/);
  assert.throws(() => checkPlaceholders(['{home}'], 1), /placeholder/);
  const evil = 'models/x; rm -rf ~ $(id).onnx';
  const { argv, env } = expandCommand(['python', 'ft.py', '--base', '{parent}', '--out={child}'], { child: evil, parents: ['p.onnx'] });
  assert.deepEqual(argv, ['python', 'ft.py', '--base', 'p.onnx', `--out=${evil}`]);
  assert.equal(env.MGIT_CHILD, evil);
  assert.equal(env.MGIT_PARENT_0, 'p.onnx');
  const round = ['python', 'it\'s here.py', '{child}', 'a b'];
  assert.deepEqual(splitCommand(formatCommand(round)), round);
});

test('draw: lanes like git log --graph, children first, merges and splits', () => {
  const rows = drawGraph(
    [
      { key: 'soup', parents: ['a', 'b'] },
      { key: 'a', parents: ['base'] },
      { key: 'b', parents: ['base'] },
      { key: 'base', parents: [] },
    ],
    () => 0,
  );
  const text = rows.map((r) => r.chars.join('').trimEnd());
  assert.deepEqual(text, ['*', '|\\', '* |', '| *', '|/', '*']);
});

function floats(seed: number, n: number, scale = 1): Float32Array {
  const r = prng(seed);
  return Float32Array.from({ length: n }, () => (r() - 0.5) * scale);
}

function sketchOf(values: Float32Array) {
  const view = new DataView(values.buffer);
  return sketchTensor(values.length, 'float32', (off) => ({ view, offset: off }))!;
}

test('sketches: same positions for the same size; derived values correlate, independent ones do not', () => {
  assert.deepEqual(samplePositions(10_000), samplePositions(10_000));
  assert.equal(new Set(samplePositions(10_000)).size, 128);
  const base = floats(1, 10_000);
  const noise = floats(2, 10_000);
  const tuned = base.map((x, i) => x + 0.05 * noise[i]);
  const pruned = base.map((x) => (Math.abs(x) < 0.4 ? 0 : x));
  const other = floats(3, 10_000);
  assert.ok(similarity(sketchOf(tuned), sketchOf(base)) > 0.95);
  assert.ok(similarity(sketchOf(pruned), sketchOf(base)) > 0.99, 'a pruned tensor matches where it kept values');
  assert.ok(Math.abs(similarity(sketchOf(other), sketchOf(base))) < 0.35);
  const s = sketchOf(tuned);
  assert.deepEqual(decodeSketch(encodeSketch(s)), s);
  const g = skeletonSketch(Buffer.from('the same graph bytes, node names and attributes '.repeat(50)));
  assert.equal(jaccard(g, g), 1);
  assert.ok(jaccard(g, skeletonSketch(Buffer.from('something else entirely, other ops and other names'.repeat(50)))) < 0.2);
});

function entry(id: string, tensors: { name: string; values: Float32Array; chunk: string }[]): IndexEntry {
  const ts: IndexedTensor[] = tensors.map((t) => ({ name: t.name, dtype: 'float32', dims: [t.values.length], bytes: t.values.length * 4, chunks: [t.chunk], sketch: sketchOf(t.values) }));
  return { id, format: 'onnx', size: 0, skeleton: [], skeletonSketch: new Uint32Array(0), tensors: ts, partial: false };
}

test('ranking: identical chunks, then similar values; independent weights are never suggested', () => {
  const w = floats(10, 4096);
  const bias = floats(11, 512);
  const parent = entry(A, [
    { name: 'w', values: w, chunk: 'c1' },
    { name: 'b', values: bias, chunk: 'c2' },
  ]);
  const unrelated = entry(B, [
    { name: 'w', values: floats(20, 4096), chunk: 'c3' },
    { name: 'b', values: floats(21, 512), chunk: 'c4' },
  ]);
  const child = entry(C, [
    { name: 'w', values: w.map((x, i) => x * (1 + 0.01 * Math.sin(i))), chunk: 'c5' },
    { name: 'b', values: bias, chunk: 'c2' },
  ]);
  const ranked = rankParents(child, [
    { id: B, path: 'unrelated.onnx', seq: 1, entry: unrelated },
    { id: A, path: 'parent.onnx', seq: 0, entry: parent },
  ]);
  assert.deepEqual(
    ranked.map((s) => s.path),
    ['parent.onnx'],
  );
  assert.equal(ranked[0].relation, 'finetune');
  assert.ok(ranked[0].shared > 0.1 && ranked[0].shared < 0.2);
  const all = rankParents(child, [{ id: B, path: 'unrelated.onnx', entry: unrelated }], { threshold: 0 });
  assert.ok(all[0].score < 0.2, `unrelated scored ${all[0].score}`);
});

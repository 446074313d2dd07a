// Diff and merge over the shared corpus's known relations (real models): re-exports show no tensor
// changes, structured pruning shows reshaped tensors, fine-tunes show which layers changed and which
// stayed frozen, quantized variants show the dtype change, and the graph diff of simplified graphs says
// what the simplifier did (BatchNorm folded into Conv weights) instead of calling the graphs equal.
// Runs when MGIT_CORPUS points at the corpus.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { ModelGraphDiff } from '../src/diff/graph.js';
import { diffModel, type ModelDiff } from '../src/diff/report.js';
import { FileSource } from '../src/model/source.js';
import { TestRepo } from './helpers/git-repo.js';

const corpus = process.env.MGIT_CORPUS;
const skip = corpus ? false : 'MGIT_CORPUS not set: corpus tests skipped';

function diff(a: string, b: string, opts = { graph: true, values: false }): ModelDiff {
  const sa = new FileSource(a, path.join(corpus!, a));
  const sb = new FileSource(b, path.join(corpus!, b));
  try {
    return diffModel(`${a} -> ${b}`, sa, sb, { ...opts, all: true });
  } finally {
    sa.close();
    sb.close();
  }
}

const names = (d: ModelDiff, cls: string) => d.tensors.changes.filter((c) => c.class === cls).map((c) => c.name).sort();
const count = (d: ModelDiff, cls: string) => d.tensors.summary[cls as keyof ModelDiff['tensors']['summary']].count;
const graph = (d: ModelDiff): ModelGraphDiff => {
  assert.ok(d.graph && !('error' in d.graph), JSON.stringify(d.graph));
  return d.graph as ModelGraphDiff;
};
const noTensorChange = (d: ModelDiff) => ['changed', 'reshaped', 'retyped', 'added'].every((k) => count(d, k) === 0);

test('corpus: every known relation diffs, tensors and graphs, without errors', { skip }, () => {
  const edges: [string, string][] = [];
  const fam = JSON.parse(fs.readFileSync(path.join(corpus!, 'real/families.json'), 'utf8')) as Record<string, { edges: [string, string, string][] }>;
  for (const [f, v] of Object.entries(fam)) for (const [child, parent] of v.edges) edges.push([`real/${f}/${parent}`, `real/${f}/${child}`]);
  const lin = JSON.parse(fs.readFileSync(path.join(corpus!, 'digits/lineage.json'), 'utf8')) as {
    nodes: Record<string, { file: string }>;
    edges: { child: string; parent: string }[];
  };
  for (const e of lin.edges) edges.push([`digits/${lin.nodes[e.parent]!.file}`, `digits/${lin.nodes[e.child]!.file}`]);
  assert.ok(edges.length >= 60);
  for (const [a, b] of edges) {
    const d = diff(a, b);
    const g = graph(d).graph;
    // a model whose tensors and skeleton are the same has no graph changes, and the other way round
    if (d.status === 'identical') assert.equal(g.changes.length, 0, `${a} -> ${b}`);
    // every node is accounted for exactly once
    assert.equal(g.nodes.unchanged + g.nodes.contextual + g.nodes.modified + g.nodes.removed, g.nodes.a, `${a} -> ${b}`);
    assert.equal(g.nodes.unchanged + g.nodes.contextual + g.nodes.modified + g.nodes.added, g.nodes.b, `${a} -> ${b}`);
  }
});

test('corpus: re-exports show no tensor changes', { skip }, () => {
  for (const [a, b] of [
    ['digits/base_v2.onnx', 'digits/base_v2_opset17.onnx'],
    ['real/silero/v5pkg_op15.onnx', 'real/silero/v5_op13.onnx'],
    ['real/winml/candy.onnx', 'real/winml/candy_prerelease_metadata.onnx'],
    ['real/winml/candy.onnx', 'real/winml/candy_prerelease_2018-12.onnx'],
    ['real/winml/candy.onnx', 'real/winml/fns-candy_manual.onnx'],
    ['real/winml/candy.onnx', 'real/winml/Candy_2018-03.onnx'],
    ['real/winml/SqueezeNet_fp16.onnx', 'real/winml/squeezenet_dao_fp16.onnx'],
    ['real/linzaer/RFB-320.onnx', 'real/linzaer/RFB-320_without_postprocessing.onnx'],
  ]) {
    const d = diff(a!, b!);
    assert.ok(noTensorChange(d), `${a} -> ${b}: ${JSON.stringify(d.tensors.summary)}`);
  }
  // the opset re-export: same tensors, the opset change reported by the graph diff
  const op = diff('digits/base_v2.onnx', 'digits/base_v2_opset17.onnx');
  assert.equal(count(op, 'unchanged'), 12);
  assert.deepEqual(graph(op).opsets, [{ domain: 'ai.onnx', a: 13, b: 17 }]);
  assert.equal(graph(op).graph.changes.length, 0);
  // an exporter that renamed every weight: the same bytes are found under the new names
  const candy = diff('real/winml/candy.onnx', 'real/winml/Candy_2018-03.onnx');
  assert.equal(count(candy, 'renamed'), 64);
  assert.equal(count(candy, 'unchanged'), 0);
  assert.equal(graph(candy).graph.nodes.added + graph(candy).graph.nodes.removed, 0);
});

test('corpus: fine-tunes show the layers that changed, frozen layers unchanged', { skip }, () => {
  const conv = ['onnx::Conv_45', 'onnx::Conv_46', 'onnx::Conv_48', 'onnx::Conv_49', 'onnx::Conv_51', 'onnx::Conv_52'];
  const parity = diff('digits/base_v2.onnx', 'digits/ft_parity_probe.onnx'); // only a new 2-class head
  assert.deepEqual(names(parity, 'reshaped'), ['head.bias', 'head.weight']);
  assert.deepEqual(names(parity, 'unchanged'), [...conv, 'fcs.0.bias', 'fcs.0.weight', 'fcs.1.bias', 'fcs.1.weight'].sort());
  const lt5 = diff('digits/base_v2.onnx', 'digits/ft_lt5_partial.onnx'); // head + fcs.1 trained
  assert.deepEqual(names(lt5, 'changed'), ['fcs.1.bias', 'fcs.1.weight']);
  assert.deepEqual(names(lt5, 'reshaped'), ['head.bias', 'head.weight']);
  assert.deepEqual(names(lt5, 'unchanged'), [...conv, 'fcs.0.bias', 'fcs.0.weight'].sort());
  const lora = diff('digits/base_v2.onnx', 'digits/ft_inverted_lora.onnx'); // LoRA merged into the Linears
  assert.deepEqual(names(lora, 'changed'), ['fcs.0.weight', 'fcs.1.weight', 'head.weight']);
  const g = graph(lora).graph;
  assert.deepEqual(g.changes.map((c) => `${c.status}:${c.b!.op}`), ['contextual:Gemm', 'contextual:Gemm', 'contextual:Gemm']);
});

test('corpus: pruning shows reshaped tensors (structured) and sparsity (unstructured)', { skip }, () => {
  const s = diff('digits/base_v2.onnx', 'digits/pruned_struct_fc1.onnx');
  assert.deepEqual(names(s, 'reshaped'), ['fcs.0.bias', 'fcs.0.weight', 'fcs.1.weight']);
  assert.equal(count(s, 'changed'), 0);
  const w = s.tensors.changes.find((c) => c.name === 'fcs.0.weight')!;
  assert.deepEqual([w.a!.dims, w.b!.dims], [[768, 1536], [384, 1536]]);
  const gs = graph(s).graph;
  assert.equal(gs.nodes.modified, 2);
  assert.equal(gs.nodes.added + gs.nodes.removed, 0);
  const u = diff('digits/base_v2.onnx', 'digits/pruned_lin90_oneshot.onnx', { graph: false, values: true });
  for (const c of u.tensors.changes.filter((x) => x.class === 'changed')) {
    assert.ok(c.stats!.sparsityB > 0.89 && c.stats!.sparsityA < 0.01, `${c.name}: ${JSON.stringify(c.stats)}`);
  }
});

test('corpus: quantized variants show the dtype change', { skip }, () => {
  const h = diff('digits/base_v2.onnx', 'digits/quant_fp16.onnx', { graph: true, values: true });
  assert.equal(count(h, 'retyped'), 12);
  assert.deepEqual(h.tensors.dtypes.float16, { a: 0, b: 3107540 });
  for (const c of h.tensors.changes) assert.ok(c.stats!.relL2! < 1e-3, `${c.name}: fp16 rounding only`);
  assert.equal(graph(h).graph.nodes.added, 2); // the two Casts at input and output
  const q = diff('digits/base_v2.onnx', 'digits/quant_int8_wo.onnx');
  assert.equal(q.tensors.dtypes.int8!.a, 0);
  assert.equal(q.tensors.dtypes.int8!.b, 1553770);
  const added = graph(q).graph.changes.filter((c) => c.status === 'added').map((c) => c.b!.op);
  assert.deepEqual(added, Array(6).fill('DequantizeLinear'));
});

test('corpus: the graph diff of a simplified graph is honest', { skip }, () => {
  // linzaer: onnx-simplifier folded every BatchNormalization into its Conv and the shape arithmetic into constants
  const d = diff('real/linzaer/RFB-320_without_postprocessing.onnx', 'real/linzaer/RFB-320_simplified.onnx');
  const g = graph(d).graph;
  const removed = g.changes.filter((c) => c.status === 'removed').map((c) => c.a!.op);
  assert.equal(removed.filter((o) => o === 'BatchNormalization').length, 35);
  const convs = g.changes.filter((c) => c.b?.op === 'Conv');
  assert.equal(convs.length, 35);
  for (const c of convs) {
    assert.equal(c.status, 'modified'); // a bias input appeared
    assert.ok(c.weights!.some((w) => w.change === 'changed' && w.slot === '1'), 'the folded weight is reported as changed');
  }
  assert.equal(g.nodes.added, 0);
  assert.ok(g.divergence > 0.3);
  // yunet: BatchNorm folded at export time, so the Conv weights differ under the same structure: contextual
  const y = graph(diff('real/yunet/yunet_2021-12.onnx', 'real/yunet/final_320_simplify.onnx')).graph;
  assert.equal(y.changes.filter((c) => c.status === 'contextual' && c.b!.op === 'Conv').length, 43);
  assert.ok(y.inputs.some((i) => i.name === 'input' && i.b === 'float32[1,3,320,320]'));
});

test('corpus: digitnet history through git, and a real weight-space merge through the driver', { skip }, async () => {
  const repo = TestRepo.create();
  for (const v of ['base_v1', 'base_v2', 'base_v3']) {
    repo.write('models/digitnet.onnx', fs.readFileSync(path.join(corpus!, `digits/${v}.onnx`)));
    repo.commitAll(v);
  }
  const r = JSON.parse(repo.mgit('diff', '--format=json', '--values', '--graph', 'HEAD~1', 'HEAD', '--', 'models/digitnet.onnx'));
  assert.equal(r.models[0].tensors.summary.changed.count, 12);
  assert.equal(r.models[0].graph.graph.nodes.contextual, 6);
  assert.equal(r.models[0].graph.graph.nodes.unchanged, 7);
  // two fine-tunes of base_v2, merged by averaging: loads in onnxruntime, close to the recorded soup
  repo.write('models/digitnet.onnx', fs.readFileSync(path.join(corpus!, 'digits/base_v2.onnx')));
  repo.commitAll('back to v2');
  repo.git('branch', 'b');
  repo.write('models/digitnet.onnx', fs.readFileSync(path.join(corpus!, 'digits/ft_rot90_full.onnx')));
  repo.commitAll('rot90');
  repo.git('checkout', '-q', 'b');
  repo.write('models/digitnet.onnx', fs.readFileSync(path.join(corpus!, 'digits/ft_rot90_full_b.onnx')));
  repo.commitAll('rot90 b');
  repo.git('checkout', '-q', 'main');
  assert.equal(repo.tryGit('merge', '-m', 'm', 'b').status, 1);
  repo.git('merge', '--abort');
  const m = repo.tryGit('-c', 'mgit.mergeStrategy=average', 'merge', '-m', 'm', 'b');
  assert.equal(m.status, 0, m.stderr);
  const ort = await import('onnxruntime-node');
  const input = new ort.Tensor('float32', Float32Array.from({ length: 64 }, (_, i) => (i % 9) / 8), [1, 1, 8, 8]);
  const logits = async (file: string) => {
    const s = await ort.InferenceSession.create(fs.readFileSync(file));
    return Array.from((await s.run({ [s.inputNames[0]!]: input }))[s.outputNames[0]!]!.data as Float32Array);
  };
  const merged = await logits(repo.path('models/digitnet.onnx'));
  const soup = await logits(path.join(corpus!, 'digits/merge_soup_rot90.onnx'));
  assert.equal(merged.length, 10);
  const scale = Math.max(...soup.map(Math.abs));
  merged.forEach((x, i) => assert.ok(Math.abs(x - soup[i]!) < 0.05 * scale, `logit ${i}: ${x} vs soup ${soup[i]}`));
});

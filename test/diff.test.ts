// git mgit diff through real git: tensor classes from pointers alone (the store emptied), value
// statistics and --tolerance, the graph diff (ops, attributes, renamed nodes, contextual nodes), every
// way to name versions (work tree, --cached, revisions, two files, REV:path), the three output formats,
// and the opt-in driver for plain git diff.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { run, tempDir, TestRepo } from './helpers/git-repo.js';
import { DT, floatsBuffer, seededFloats } from './helpers/onnx-builder.js';
import { runPage } from './helpers/fake-dom.js';
import { mapFloats, variantModel, variantTensors } from './helpers/model-variants.js';

const base = variantTensors({ layers: 3 });
const raw = (name: string) => base.find((t) => t.name === name)!.raw!;

interface Json {
  models: {
    path: string;
    status: string;
    tensors: {
      summary: Record<string, { count: number; bytesA: number; bytesB: number }>;
      changes: { class: string; name: string; oldName?: string; stats?: Record<string, number | null>; statsSkipped?: string; withinTolerance?: boolean; b?: { inSkeleton?: boolean } }[];
      dtypes: Record<string, { a: number; b: number }>;
      skeleton: { same: boolean };
    };
    graph?: {
      error?: string;
      graph: {
        nodes: Record<string, number>;
        changes: { status: string; a?: { name: string; op: string }; b?: { name: string; op: string }; opChanged?: boolean; renamed?: boolean; attrs?: unknown[] }[];
        edges: { added: number; removed: number };
      };
    };
  }[];
}

function json(repo: TestRepo, ...args: string[]): Json {
  return JSON.parse(repo.mgit('diff', '--format=json', ...args)) as Json;
}

const count = (m: Json['models'][0], cls: string) => m.tensors.summary[cls]!.count;

/** A repository with two commits of m.onnx: base, then `next`. */
function twoVersions(next: Buffer): TestRepo {
  const repo = TestRepo.create();
  repo.write('m.onnx', variantModel({ layers: 3 }));
  repo.commitAll('base');
  repo.write('m.onnx', next);
  repo.commitAll('next');
  return repo;
}

test('tensor classes come from the pointers alone, with the chunk store emptied', () => {
  const changed = mapFloats(raw('layer0.weight'), (x) => x + 0.25);
  const next = variantModel({
    layers: 3,
    replace: {
      'layer0.weight': changed, // changed
      'layer1.weight': { raw: raw('layer1.weight'), dims: [32, 8] }, // reshaped (same bytes, other shape)
    },
    rename: { 'layer2.weight': 'block2.w' }, // renamed: same bytes, other name
    extra: [{ name: 'extra.table', dtype: DT.FLOAT, dims: [64], raw: floatsBuffer(seededFloats(9, 64)) }], // added
  });
  const repo = twoVersions(next);
  fs.rmSync(path.join(repo.store, 'objects'), { recursive: true });
  const m = json(repo, 'HEAD~1', 'HEAD', '--values').models[0]!;
  assert.equal(m.path, 'm.onnx');
  assert.equal(m.status, 'modified');
  assert.equal(count(m, 'changed'), 1);
  assert.equal(count(m, 'reshaped'), 1);
  assert.equal(count(m, 'renamed'), 1);
  assert.equal(count(m, 'added'), 1);
  assert.equal(count(m, 'removed'), 0);
  assert.equal(m.tensors.summary.changed!.bytesB, 1024);
  assert.equal(m.tensors.summary.added!.bytesB, 256);
  const renamed = m.tensors.changes.find((c) => c.class === 'renamed')!;
  assert.deepEqual([renamed.oldName, renamed.name], ['layer2.weight', 'block2.w']);
  // no chunks: statistics say why they are missing instead of failing
  assert.equal(m.tensors.changes.find((c) => c.class === 'changed')!.statsSkipped, 'chunks not in the local store');
  // text output: one line per change, no color when stdout is not a terminal
  const text = repo.mgit('diff', 'HEAD~1', 'HEAD');
  assert.match(text, /~ layer0\.weight {2}float32 \[16,16\]/);
  assert.match(text, /# layer1\.weight {2}float32 \[16,16\] -> \[32,8\]/);
  assert.match(text, /> layer2\.weight -> block2\.w/);
  assert.doesNotMatch(text, /\x1b\[/);
  assert.match(repo.mgit('diff', 'HEAD~1', 'HEAD', '--color=always'), /\x1b\[33m~ layer0\.weight/);
});

test('value statistics, sparsity, small tensors from the skeleton, and --tolerance', () => {
  const w = raw('layer0.weight');
  const exact = mapFloats(w, (x, i) => (i < 3 ? x + 0.5 : i < 67 ? 0 : x)); // 3 moved by 0.5, 64 zeroed
  const noise = mapFloats(raw('layer1.weight'), (x) => Math.fround(x * (1 + 1e-7)));
  const bias = mapFloats(raw('layer2.bias'), (x) => x + 1); // 64 bytes: kept in the skeleton
  const repo = twoVersions(variantModel({ layers: 3, replace: { 'layer0.weight': exact, 'layer1.weight': noise, 'layer2.bias': bias } }));
  const m = json(repo, 'HEAD~1', 'HEAD', '--values').models[0]!;
  const c = m.tensors.changes.find((x) => x.name === 'layer0.weight')!;
  const before = Array.from(new Float32Array(w.buffer.slice(w.byteOffset, w.byteOffset + w.length)));
  const zeroed = before.slice(3, 67);
  assert.equal(c.stats!.elements, 256);
  assert.equal(c.stats!.changedShare, 67 / 256);
  assert.equal(c.stats!.sparsityA, 0);
  assert.equal(c.stats!.sparsityB, 64 / 256);
  const maxZeroed = Math.max(...zeroed.map(Math.abs));
  assert.ok(Math.abs(c.stats!.maxAbsDiff! - Math.max(0.5, maxZeroed)) < 1e-6);
  const sumAbs = [0, 1, 2].reduce((a, i) => a + Math.abs(Math.fround(before[i]! + 0.5) - before[i]!), 0) + zeroed.reduce((a, x) => a + Math.abs(x), 0);
  assert.ok(Math.abs(c.stats!.meanAbsDiff! - sumAbs / 256) < 1e-9);
  // the small bias lives in the skeleton, and still shows, with values
  const b = m.tensors.changes.find((x) => x.name === 'layer2.bias')!;
  assert.equal(b.class, 'changed');
  assert.equal(b.b!.inSkeleton, true);
  assert.ok(Math.abs(b.stats!.maxAbsDiff! - 1) < 1e-6);
  // numerical noise is a change without tolerance, and unchanged within it
  assert.equal(m.tensors.changes.find((x) => x.name === 'layer1.weight')!.class, 'changed');
  const t = json(repo, 'HEAD~1', 'HEAD', '--tolerance=1e-6').models[0]!;
  const n = t.tensors.changes.find((x) => x.name === 'layer1.weight')!;
  assert.equal(n.class, 'unchanged');
  assert.equal(n.withinTolerance, true);
  assert.equal(count(t, 'changed'), 2);
  assert.equal(run('git', ['mgit', 'diff', '--tolerance=-1', 'HEAD~1', 'HEAD'], { cwd: repo.dir, env: repo.env }).status, 129);
});

test('float16 and bfloat16 tensors get statistics through integer bit conversions', () => {
  const halves = (vals: number[]) => Buffer.from(new Uint16Array(vals).buffer);
  // float16: 1.0 = 0x3c00, 1.5 = 0x3e00, 2.0 = 0x4000, 0; bfloat16: 1.0 = 0x3f80, 1.5 = 0x3fc0
  const h0 = halves(Array.from({ length: 64 }, (_, i) => (i % 2 ? 0x3c00 : 0)));
  const h1 = halves(Array.from({ length: 64 }, (_, i) => (i % 2 ? (i === 1 ? 0x4000 : 0x3e00) : 0)));
  const b0 = halves(Array.from({ length: 64 }, () => 0x3f80));
  const b1 = halves(Array.from({ length: 64 }, (_, i) => (i === 0 ? 0x3fc0 : 0x3f80)));
  const mk = (h: Buffer, b: Buffer) =>
    variantModel({
      layers: 3,
      extra: [
        { name: 'half', dtype: DT.FLOAT16, dims: [64], raw: h },
        { name: 'brain', dtype: 16, dims: [64], raw: b },
      ],
    });
  const repo = TestRepo.create();
  repo.write('m.onnx', mk(h0, b0));
  repo.commitAll('a');
  repo.write('m.onnx', mk(h1, b1));
  repo.commitAll('b');
  const m = json(repo, 'HEAD~1', 'HEAD', '--values').models[0]!;
  const half = m.tensors.changes.find((x) => x.name === 'half')!.stats!;
  assert.equal(half.maxAbsDiff, 1);
  assert.equal(half.changedShare, 32 / 64);
  assert.equal(half.sparsityA, 0.5);
  assert.equal(half.meanAbsDiff, (1 + 31 * 0.5) / 64);
  const brain = m.tensors.changes.find((x) => x.name === 'brain')!.stats!;
  assert.equal(brain.maxAbsDiff, 0.5);
  assert.equal(brain.changedShare, 1 / 64);
});

test('work tree, --cached, revisions with paths, two files and REV:path blobs', () => {
  const repo = TestRepo.create();
  repo.write('models/a.onnx', variantModel({ layers: 2 }));
  repo.write('models/b.onnx', variantModel({ layers: 2, seed: 2 }));
  repo.write('notes.txt', 'hello\n');
  repo.commitAll('base');
  const edited = variantModel({ layers: 2, replace: { 'layer1.weight': mapFloats(variantTensors()[2]!.raw!, (x) => -x) } });
  repo.write('models/a.onnx', edited);
  repo.write('notes.txt', 'changed\n');
  // work tree vs index: only the model, not the text file
  let r = json(repo);
  assert.deepEqual(
    r.models.map((m) => m.path),
    ['models/a.onnx'],
  );
  assert.equal(count(r.models[0]!, 'changed'), 1);
  assert.equal(json(repo, '--cached').models.length, 0);
  repo.git('add', '-A');
  assert.equal(json(repo).models.length, 0);
  r = json(repo, '--cached');
  assert.equal(r.models.length, 1);
  repo.git('commit', '-q', '-m', 'edit');
  // revisions, restricted by path; from a subdirectory too
  assert.equal(json(repo, 'HEAD~1', 'HEAD', '--', 'models/b.onnx').models.length, 0);
  assert.equal(json(repo, 'HEAD~1', 'HEAD', '--', 'models/a.onnx').models.length, 1);
  const sub = JSON.parse(run('git', ['mgit', 'diff', '--format=json', 'HEAD~1', 'HEAD', '--', 'a.onnx'], { cwd: repo.path('models'), env: repo.env }).stdout) as Json;
  assert.equal(sub.models[0]!.path, 'models/a.onnx');
  // two different models: files in the work tree, blobs by name, and files outside any repository
  const two = json(repo, 'models/a.onnx', 'models/b.onnx');
  assert.equal(two.models.length, 1);
  assert.equal(count(two.models[0]!, 'changed'), 4);
  const blobs = json(repo, 'HEAD~1:models/a.onnx', 'HEAD:models/a.onnx');
  assert.equal(count(blobs.models[0]!, 'changed'), 1);
  const outside = tempDir('outside');
  fs.writeFileSync(path.join(outside, 'x.onnx'), variantModel({ layers: 2 }));
  fs.writeFileSync(path.join(outside, 'y.onnx'), edited);
  const o = run('git', ['mgit', 'diff', '--format=json', 'x.onnx', 'y.onnx'], { cwd: outside });
  assert.equal(o.status, 0, o.stderr);
  assert.equal(count((JSON.parse(o.stdout) as Json).models[0]!, 'changed'), 1);
  // --exit-code
  assert.equal(repo.tryMgit('diff', '--exit-code', 'HEAD~1', 'HEAD').status, 1);
  assert.equal(repo.tryMgit('diff', '--exit-code', 'HEAD', 'HEAD').status, 0);
  const bad = repo.tryMgit('diff', 'HEAD:nope.onnx', 'models/a.onnx');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /HEAD:nope\.onnx/);
});

test('graph diff: ops changed, nodes inserted, renamed nodes matched, contextual nodes marked', () => {
  const a = variantModel({ layers: 3 });
  const b = variantModel({ layers: 3, biasOp: 'Sub', insert: 'Relu', replace: { 'layer2.weight': mapFloats(raw('layer2.weight'), (x) => x * 2) } });
  const repo = twoVersions(b);
  void a;
  const g = json(repo, 'HEAD~1', 'HEAD', '--graph').models[0]!.graph!;
  assert.equal(g.error, undefined);
  const d = g.graph;
  assert.equal(d.nodes.a, 6);
  assert.equal(d.nodes.b, 7);
  assert.equal(d.nodes.added, 1);
  assert.equal(d.nodes.removed, 0);
  assert.equal(d.nodes.modified, 3); // three Add -> Sub
  assert.equal(d.nodes.contextual, 1); // the MatMul whose weight doubled
  const relu = d.changes.find((c) => c.status === 'added')!;
  assert.equal(relu.b!.op, 'Relu');
  const sub = d.changes.filter((c) => c.opChanged);
  assert.deepEqual(
    sub.map((c) => `${c.a!.op}->${c.b!.op}`),
    ['Add->Sub', 'Add->Sub', 'Add->Sub'],
  );
  const ctx = d.changes.find((c) => c.status === 'contextual')!;
  assert.equal(ctx.b!.name, 'matmul_2');
  assert.equal(d.edges.added, 2); // add_0 -> act_0 -> matmul_1 replaces add_0 -> matmul_1
  assert.equal(d.edges.removed, 1);
  const text = repo.mgit('diff', 'HEAD~1', 'HEAD', '--graph');
  assert.match(text, /\+ Relu act_0/);
  assert.match(text, /~ Add -> Sub add_0/);
  assert.match(text, /\* MatMul matmul_2 {2}weights changed: layer2\.weight/);
});

test('graph diff matches nodes by structure and neighbourhood when an exporter renames them all', () => {
  const repo = TestRepo.create();
  const m = variantModel({ layers: 3 });
  repo.write('a.onnx', m);
  // same graph, every node renamed: rewrite the node names in the bytes (same lengths)
  const renamed = Buffer.from(m.toString('latin1').replace(/matmul_/g, 'MatMul#').replace(/add_/g, 'Plus'), 'latin1');
  repo.write('b.onnx', renamed);
  const d = json(repo, 'a.onnx', 'b.onnx', '--graph').models[0]!.graph!.graph;
  assert.equal(d.nodes.unchanged, 6);
  assert.equal(d.nodes.added + d.nodes.removed + d.nodes.modified, 0);
  assert.equal(d.edges.added + d.edges.removed, 0);
});

test('html is one self-contained page and model text cannot break out of it', () => {
  const evil = '</script><img src=x onerror=alert(1)>';
  const repo = TestRepo.create();
  repo.write('m.onnx', variantModel({ layers: 2 }));
  repo.commitAll('a');
  repo.write('m.onnx', variantModel({ layers: 2, rename: { 'layer0.weight': evil } }));
  repo.commitAll('b');
  const out = path.join(tempDir('html'), 'diff.html');
  repo.mgit('diff', 'HEAD~1', 'HEAD', '--graph', '--format=html', '-o', out);
  const html = fs.readFileSync(out, 'utf8');
  assert.match(html, /^<!doctype html>/);
  assert.doesNotMatch(html, /<script[^>]*\ssrc=|<link[^>]*href=|https?:\/\//);
  assert.ok(!html.includes(evil), 'raw model text must not appear in the page');
  assert.equal((html.match(/<\/script>/g) ?? []).length, 2);
  const data = html.slice(html.indexOf('id="data">') + 10, html.indexOf('</script>'));
  const parsed = JSON.parse(data) as Json;
  assert.equal(parsed.models[0]!.tensors.changes.find((c) => c.class === 'renamed')!.name, evil);
  // the page's script runs: it draws the tensors and the graph, and every handler works
  const page = runPage(html);
  assert.ok(page.elements > 20 && page.handlers > 5, JSON.stringify(page).slice(0, 200));
  assert.ok(page.text.some((t) => t.includes(evil)), 'names reach the page as text');
  assert.ok(page.text.some((t) => t.startsWith('MatMul matmul_0')));
});

test('plain git diff: pointer lines by default, tensor summary with the opt-in driver', () => {
  const repo = twoVersions(variantModel({ layers: 3, replace: { 'layer0.weight': mapFloats(raw('layer0.weight'), (x) => x + 1) } }));
  const plain = repo.git('diff', 'HEAD~1', 'HEAD');
  assert.match(plain, /^-tensor [0-9a-f]{64} 1024 float32 \[16,16\] layer0\.weight$/m);
  repo.mgit('install', '--local', '--diff-driver');
  assert.equal(repo.git('config', 'diff.mgit.command').trim(), 'git-mgit diff-driver');
  const driven = repo.git('diff', 'HEAD~1', 'HEAD');
  assert.match(driven, /^mgit diff a\/m\.onnx b\/m\.onnx$/m);
  assert.match(driven, /~ layer0\.weight {2}float32 \[16,16\]/);
  assert.doesNotMatch(driven, /^-tensor /m);
  // the work tree side (not yet hashed by git) and a deleted model
  repo.write('m.onnx', variantModel({ layers: 3 }));
  assert.match(repo.git('diff'), /~ layer0\.weight/);
  repo.git('rm', '-q', '-f', 'm.onnx');
  assert.match(repo.git('diff', '--cached'), /tensors: 6 removed/);
  // --no-ext-diff still gives the pointer text
  assert.match(repo.git('diff', '--no-ext-diff', '--cached'), /^-tensor /m);
});

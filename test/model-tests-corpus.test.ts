// Accuracy tests on the digits family (runs when MGIT_CORPUS is set): each model, committed through
// mgit, passes a built-in accuracy test on its own task (lineage.json eval.task; the input and label
// transforms mirror corpus/tools/eval_ort.js) at its recorded accuracy, measured by onnxruntime-node
// in the pre-commit hook; a model with corrupted weights fails and the commit is refused.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestRepo } from './helpers/git-repo.js';

const corpus = process.env.MGIT_CORPUS;
const skip = corpus ? false : 'MGIT_CORPUS not set: corpus tests skipped';

const MODELS = ['base_v2', 'ft_parity_probe', 'ft_lt5_partial', 'ft_rot90_full', 'ft_inverted_lora', 'quant_fp16', 'merge_soup_rot90'];

interface Node {
  file: string;
  sha256: Record<string, string>;
  eval: { task: string; acc_onnx: number };
}

/** The labelled test set of one task, in the dataset format of docs/tests.md. */
function taskDataset(ts: { shape: number[]; X_digits10: number[]; y_digits10: number[] }, name: string) {
  const [N] = ts.shape;
  const P = 64;
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < N; i++) {
    const lab = ts.y_digits10[i];
    if (name === 'lt5' && lab >= 5) continue;
    const img = ts.X_digits10.slice(i * P, (i + 1) * P);
    let out = img;
    if (name === 'inverted') out = img.map((v) => 1 - v);
    if (name === 'rot90') {
      out = new Array<number>(P);
      for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) out[r * 8 + c] = img[c * 8 + (7 - r)];
    }
    x.push(...out);
    y.push(name === 'parity' ? lab % 2 : lab);
  }
  return { input: 'input', output: 'logits', dims: [1, 8, 8], x, y };
}

test('digits: every model passes an accuracy test at its recorded accuracy; corrupted weights refuse the commit', { skip }, () => {
  const dir = path.join(corpus!, 'digits');
  const lin = JSON.parse(fs.readFileSync(path.join(dir, 'lineage.json'), 'utf8')) as { nodes: Record<string, Node> };
  const ts = JSON.parse(fs.readFileSync(path.join(dir, 'testset.json'), 'utf8')) as { shape: number[]; X_digits10: number[]; y_digits10: number[] };
  const repo = TestRepo.create();
  const byTask = new Map<string, string[]>();
  for (const m of MODELS) {
    const n = lin.nodes[m];
    repo.write(`models/${n.file}`, fs.readFileSync(path.join(dir, n.file)));
    byTask.set(n.eval.task, [...(byTask.get(n.eval.task) ?? []), m]);
  }
  for (const [task, models] of byTask) {
    repo.write(`tests/${task}.json`, JSON.stringify(taskDataset(ts, task)));
    const threshold = Math.min(...models.map((m) => lin.nodes[m].eval.acc_onnx)) - 0.01;
    repo.mgit('test', 'add', '--name', `acc-${task}`, ...models.flatMap((m) => ['--model', `models/${lin.nodes[m].file}`]), '--accuracy', `tests/${task}.json`, '--threshold', threshold.toFixed(4));
  }
  repo.git('add', '-A');
  const r = repo.tryGit('commit', '-q', '-m', 'digits family');
  assert.equal(r.status, 0, r.stderr);
  const notes = repo.mgit('test', 'show', '--json');
  const results = (JSON.parse(notes) as { results: { status: string; path: string; metrics: { accuracy: number } }[] }).results;
  assert.equal(results.length, MODELS.length);
  for (const m of MODELS) {
    const n = lin.nodes[m];
    const res = results.find((x) => x.path === `models/${n.file}`);
    assert.ok(res, m);
    assert.equal(res.status, 'pass', m);
    assert.ok(Math.abs(res.metrics.accuracy - n.eval.acc_onnx) <= 0.005, `${m}: ${res.metrics.accuracy} vs recorded ${n.eval.acc_onnx}`);
  }
  // corrupted weights: a stretch of the largest tensor overwritten with huge values
  const file = `models/${lin.nodes.base_v2.file}`;
  const bytes = Buffer.from(repo.read(file));
  bytes.fill(0x7f, 1_000_000, 3_000_000);
  repo.write(file, bytes);
  const bad = repo.tryGit('commit', '-a', '-q', '-m', 'broken base');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /FAIL {2}acc-digits10 {2}models\/base_v2\.onnx .*\n {6}accuracy 0\.\d+ < threshold/);
  assert.match(bad.stderr, /commit refused/);
});

test('digits cascade: a new base re-creates the fine-tunes (task-vector and a command), tests them, a failing child stops its subtree', { skip }, () => {
  const dir = path.join(corpus!, 'digits');
  const lin = JSON.parse(fs.readFileSync(path.join(dir, 'lineage.json'), 'utf8')) as { nodes: Record<string, Node> };
  const ts = JSON.parse(fs.readFileSync(path.join(dir, 'testset.json'), 'utf8')) as { shape: number[]; X_digits10: number[]; y_digits10: number[] };
  const repo = TestRepo.create();
  const kids = ['ft_lt5_partial', 'ft_inverted_lora', 'ft_parity_probe', 'ft_rot90_full', 'ft_rot90_full_b', 'merge_soup_rot90', 'quant_fp16'];
  const at = (m: string) => `models/${m}.onnx`;
  repo.write(at('base'), fs.readFileSync(path.join(dir, 'base_v2.onnx')));
  for (const k of kids) repo.write(at(k), fs.readFileSync(path.join(dir, lin.nodes[k].file)));
  // the "quantizer": the parent with a doc_string added (a real one would convert it)
  repo.write('make.mjs', "import fs from 'node:fs';\nconst [p, c] = process.argv.slice(2);\nfs.writeFileSync(c, Buffer.concat([fs.readFileSync(p), Buffer.from([0x32, 8]), Buffer.from('cascaded')]));\n");
  const tasks = new Set(kids.map((k) => lin.nodes[k].eval.task));
  for (const task of tasks) {
    repo.write(`tests/${task}.json`, JSON.stringify(taskDataset(ts, task)));
    const models = kids.filter((k) => lin.nodes[k].eval.task === task && k !== 'ft_rot90_full');
    if (models.length) repo.mgit('test', 'add', '--name', `acc-${task}`, ...models.flatMap((m) => ['--model', at(m)]), '--accuracy', `tests/${task}.json`, '--threshold', '0.9');
  }
  // a test ft_rot90_full (0.94 recorded) cannot pass: its re-creation fails, so the merge below it stops
  repo.mgit('test', 'add', '--name', 'acc-rot90-strict', '--model', at('ft_rot90_full'), '--accuracy', 'tests/rot90.json', '--threshold', '1');
  repo.git('add', '-A');
  repo.git('commit', '-q', '--no-verify', '-m', 'digits family');
  for (const k of ['ft_lt5_partial', 'ft_inverted_lora', 'ft_parity_probe', 'ft_rot90_full', 'ft_rot90_full_b']) repo.mgit('lineage', 'add', at(k), '--parent', at('base'), '--relation', 'finetune');
  repo.mgit('lineage', 'add', at('merge_soup_rot90'), '--parent', at('ft_rot90_full'), '--parent', at('ft_rot90_full_b'), '--relation', 'merge');
  repo.mgit('lineage', 'add', at('quant_fp16'), '--parent', at('base'), '--relation', 'quantize', '--command', `${process.execPath} make.mjs {parent} {child}`);
  // the new base version
  repo.write(at('base'), fs.readFileSync(path.join(dir, 'base_v3.onnx')));
  repo.git('commit', '-q', '--no-verify', '-am', 'base v3');
  const r = repo.tryMgit('cascade', at('base'), '--json');
  assert.equal(r.status, 1, r.stderr);
  const out = JSON.parse(r.stdout) as { commit?: string; steps: { path: string; recipe: string; status: string; detail: string; newVersion?: string; parents: string[]; tests: { test: string; status: string; metrics: { accuracy?: number } }[] }[] };
  const step = (k: string) => out.steps.find((s) => s.path === at(k))!;
  for (const k of ['ft_lt5_partial', 'ft_inverted_lora', 'ft_parity_probe', 'ft_rot90_full_b']) {
    const s = step(k);
    assert.equal(s.status, 'updated', `${k}: ${s.detail}`);
    assert.equal(s.recipe, 'task-vector');
    assert.equal(s.tests.length, 1);
    assert.equal(s.tests[0].status, 'pass');
    process.stderr.write(`${k}: task-vector on base_v3, accuracy ${s.tests[0].metrics.accuracy} (recorded on base_v2: ${lin.nodes[k].eval.acc_onnx})\n`);
  }
  assert.equal(step('quant_fp16').recipe, 'command');
  assert.equal(step('quant_fp16').status, 'updated', step('quant_fp16').detail);
  assert.equal(step('ft_rot90_full').status, 'failed');
  assert.match(step('ft_rot90_full').detail, /tests failed: acc-rot90-strict \(accuracy 0\.\d+ < threshold 1/);
  assert.equal(step('merge_soup_rot90').status, 'skipped');
  // committed: the updated models, with lineage edges to base_v3
  assert.ok(out.commit);
  const changed = repo.git('diff', '--name-only', 'HEAD~1', 'HEAD').trim().split('\n').sort();
  assert.deepEqual(changed, ['ft_inverted_lora', 'ft_lt5_partial', 'ft_parity_probe', 'ft_rot90_full_b', 'quant_fp16'].map(at));
  const v3 = lin.nodes.base_v3.sha256;
  for (const k of ['ft_lt5_partial', 'quant_fp16']) assert.deepEqual(step(k).parents, [v3['base_v3.onnx']]);
  const records = repo.git('ls-tree', '-r', '--name-only', 'refs/mgit/lineage');
  for (const k of ['ft_lt5_partial', 'ft_parity_probe', 'quant_fp16']) assert.ok(records.includes(step(k).newVersion!));
});

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

// git mgit cascade (issue 6): a new base version re-creates its downstream models in topological
// order: fine-tunes by the built-in task-vector recipe (child' = new base + (child - old base)) and by
// a trusted creation command; tests run on the re-created models; lineage edges point to the new
// parents; a failing child stops only its own subtree.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { TestRepo } from './helpers/git-repo.js';
import { finetuned, mlpWith } from './helpers/lineage-models.js';
import { mlpTensors, seededFloats } from './helpers/onnx-builder.js';
import { floats, payloadsOf } from './helpers/model-variants.js';

const WIDTH = 16;
const opts = { width: WIDTH, layers: 2 };

interface Step {
  path: string;
  recipe: string;
  status: string;
  detail: string;
  oldVersion: string;
  newVersion?: string;
  parents: string[];
  tests: { test: string; status: string }[];
}

test('cascade: task-vector and command recipes, tests, lineage to new parents, failures stop only their subtree', () => {
  const repo = TestRepo.create();
  const base = mlpTensors({ seed: 1, ...opts });
  const ftA = finetuned(base, 11, { fraction: 0.5, scale: 0.05 });
  repo.write('models/base.onnx', mlpWith(base, opts));
  repo.write('models/ft_a.onnx', mlpWith(ftA, opts));
  repo.write('models/grand.onnx', mlpWith(finetuned(ftA, 12), opts));
  repo.write('models/ft_cmd.onnx', mlpWith(base, { ...opts, producer: 'copied' }));
  repo.write('models/ft_bad.onnx', mlpWith(finetuned(base, 13), opts));
  repo.write('models/below_bad.onnx', mlpWith(finetuned(finetuned(base, 13), 14), opts));
  // the "training script": the parent with a doc_string added (a real one would fine-tune it)
  repo.write('make.mjs', "import fs from 'node:fs';\nconst [p, c, fail] = process.argv.slice(2);\nif (fail) { console.error('training diverged'); process.exit(3); }\nfs.writeFileSync(c, Buffer.concat([fs.readFileSync(p), Buffer.from([0x32, 8]), Buffer.from('cascaded')]));\n");
  repo.write('golden.json', JSON.stringify({ inputs: { x: { dims: [1, WIDTH], data: Array.from(seededFloats(3, WIDTH)) } } }));
  repo.commitAll('family');
  repo.mgit('lineage', 'add', 'models/ft_a.onnx', '--parent', 'models/base.onnx', '--relation', 'finetune');
  repo.mgit('lineage', 'add', 'models/grand.onnx', '--parent', 'models/ft_a.onnx', '--relation', 'finetune');
  repo.mgit('lineage', 'add', 'models/ft_cmd.onnx', '--parent', 'models/base.onnx', '--relation', 'other', '--command', `${process.execPath} make.mjs {parent} {child}`);
  repo.mgit('lineage', 'add', 'models/ft_bad.onnx', '--parent', 'models/base.onnx', '--relation', 'other', '--command', `${process.execPath} make.mjs {parent} {child} fail`);
  repo.mgit('lineage', 'add', 'models/below_bad.onnx', '--parent', 'models/ft_bad.onnx', '--relation', 'finetune');

  // a new base version; a golden test recorded on it guards the command-made copy
  const newBase = finetuned(base, 50, { fraction: 1, scale: 0.01 });
  repo.write('models/base.onnx', mlpWith(newBase, opts));
  repo.mgit('test', 'add', '--name', 'golden', '--model', 'models/ft_cmd.onnx', '--golden', 'golden.json', '--record', 'models/base.onnx');
  repo.commitAll('new base');
  const before = repo.git('rev-parse', 'HEAD').trim();

  const r = repo.tryMgit('cascade', 'models/base.onnx', '--json');
  assert.equal(r.status, 1, r.stderr); // one child failed
  const out = JSON.parse(r.stdout) as { commit?: string; steps: Step[] };
  const step = (p: string) => out.steps.find((s) => s.path === `models/${p}.onnx`)!;
  assert.deepEqual(
    out.steps.map((s) => [s.path, s.recipe, s.status]).sort(),
    [
      ['models/below_bad.onnx', 'none', 'skipped'],
      ['models/ft_a.onnx', 'task-vector', 'updated'],
      ['models/ft_bad.onnx', 'command', 'failed'],
      ['models/ft_cmd.onnx', 'command', 'updated'],
      ['models/grand.onnx', 'task-vector', 'updated'],
    ],
  );
  assert.match(step('ft_bad').detail, /creation command failed \(exit 3\): training diverged/);
  // topological: grand after ft_a, from ft_a's new version
  const order = out.steps.map((s) => s.path);
  assert.ok(order.indexOf('models/grand.onnx') > order.indexOf('models/ft_a.onnx'));
  assert.deepEqual(step('grand').parents, [step('ft_a').newVersion]);
  assert.deepEqual(step('ft_cmd').tests.map((t) => [t.test, t.status]), [['golden', 'pass']]);

  // committed on top of the new base, with the re-created models only
  assert.ok(out.commit);
  assert.equal(repo.git('rev-parse', 'HEAD~1').trim(), before);
  assert.deepEqual(repo.git('diff', '--name-only', 'HEAD~1', 'HEAD').trim().split('\n').sort(), ['models/ft_a.onnx', 'models/ft_cmd.onnx', 'models/grand.onnx']);
  assert.equal(repo.status(), '');

  // task-vector arithmetic: ft_a' = new base + (ft_a - old base), tensor by tensor
  const got = payloadsOf(repo.path('models/ft_a.onnx'));
  for (let i = 0; i < base.length; i++) {
    const o = floats(base[i].raw!);
    const a = floats(ftA[i].raw!);
    const b = floats(newBase[i].raw!);
    const g = floats(got.get(base[i].name)!);
    for (let j = 0; j < o.length; j++) {
      const want = Math.fround(Math.fround(o[j] + Math.fround(a[j] - o[j])) + Math.fround(b[j] - o[j]));
      assert.equal(g[j], want, `${base[i].name}[${j}]`);
    }
  }
  // the command's output, from the new base
  assert.deepEqual(repo.read('models/ft_cmd.onnx'), Buffer.concat([repo.read('models/base.onnx'), Buffer.from([0x32, 8]), Buffer.from('cascaded')]));

  // lineage edges from the new parent versions
  const records = repo.git('ls-tree', '-r', '--name-only', 'refs/mgit/lineage');
  for (const p of ['ft_a', 'grand', 'ft_cmd']) assert.ok(records.includes(step(p).newVersion!), `edge of ${p}`);
  const edges = JSON.parse(repo.mgit('log-lineage', 'models/grand.onnx', '--json')) as unknown;
  assert.ok(JSON.stringify(edges).includes(step('ft_a').newVersion!));
});

test('cascade never runs an untrusted creation command', () => {
  const repo = TestRepo.create();
  const base = mlpTensors({ seed: 1, ...opts });
  repo.write('models/base.onnx', mlpWith(base, opts));
  repo.write('models/q.onnx', mlpWith(finetuned(base, 3), opts));
  repo.write('marker.mjs', "import fs from 'node:fs';\nfs.writeFileSync('ran', '');\n");
  repo.commitAll('family');
  repo.mgit('lineage', 'add', 'models/q.onnx', '--parent', 'models/base.onnx', '--relation', 'quantize', '--command', `${process.execPath} marker.mjs {parent} {child}`);
  repo.mgit('trust', '--all', '--revoke');
  repo.write('models/base.onnx', mlpWith(finetuned(base, 9), opts));
  repo.commitAll('new base');
  const r = repo.tryMgit('cascade', 'models/base.onnx', '--no-commit', '--json');
  const out = JSON.parse(r.stdout) as { steps: Step[] };
  assert.equal(out.steps.length, 1);
  assert.equal(out.steps[0].status, 'skipped');
  assert.match(out.steps[0].detail, /creation command is not trusted here \(git mgit trust [0-9a-f]{12}\)/);
  assert.equal(fs.existsSync(repo.path('ran')), false);
  assert.equal(repo.status(), '');
});

test('cascade prefers the edge with a trusted creation command when a model has several edges to the parent', () => {
  const repo = TestRepo.create();
  const base = mlpTensors({ seed: 1, ...opts });
  repo.write('models/base.onnx', mlpWith(base, opts));
  repo.write('models/ft.onnx', mlpWith(finetuned(base, 3), opts));
  repo.write('make.mjs', "import fs from 'node:fs';\nconst [p, c] = process.argv.slice(2);\nfs.writeFileSync(c, Buffer.concat([fs.readFileSync(p), Buffer.from([0x32, 8]), Buffer.from('cascaded')]));\n");
  repo.commitAll('family');
  // The same fact declared in two clones, once with the creation command (trusted: typed here) and
  // once without; a later declaration in one clone would replace the record, so the command edge
  // comes in as a remote's lineage (the union every read takes).
  repo.mgit('lineage', 'add', 'models/ft.onnx', '--parent', 'models/base.onnx', '--relation', 'finetune', '--command', `${process.execPath} make.mjs {parent} {child}`);
  const theirs = repo.git('rev-parse', 'refs/mgit/lineage').trim();
  type E = { record: string; command?: string[]; implicit?: boolean };
  const live = () => (JSON.parse(repo.mgit('log-lineage', '--json')) as { edges: E[] }).edges.filter((e) => !e.implicit);
  const cmdId = live()[0].record;
  // a plain edge whose record sorts before the command edge's (the one a first-match would take)
  for (let i = 0; ; i++) {
    assert.ok(i < 32);
    repo.git('update-ref', '-d', 'refs/mgit/remotes/up/lineage');
    repo.git('update-ref', '-d', 'refs/mgit/lineage');
    repo.mgit('lineage', 'add', 'models/ft.onnx', '--parent', 'models/base.onnx', '--relation', 'finetune', '--meta', `n=${i}`);
    repo.git('update-ref', 'refs/mgit/remotes/up/lineage', theirs);
    const edges = live();
    assert.equal(edges.length, 2);
    if (edges.some((e) => !e.command && e.record < cmdId)) break;
  }
  repo.write('models/base.onnx', mlpWith(finetuned(base, 9), opts));
  repo.commitAll('new base');
  const r = repo.tryMgit('cascade', 'models/base.onnx', '--no-commit', '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { steps: Step[] };
  assert.deepEqual(out.steps.map((s) => [s.path, s.recipe, s.status]), [['models/ft.onnx', 'command', 'updated']]);
  assert.ok(repo.read('models/ft.onnx').includes(Buffer.from('cascaded')));
});

test('cascade reports a child without a recipe as skipped, not failed', () => {
  const repo = TestRepo.create();
  const base = mlpTensors({ seed: 1, ...opts });
  repo.write('models/base.onnx', mlpWith(base, opts));
  repo.write('models/q.onnx', mlpWith(finetuned(base, 3), opts));
  repo.commitAll('family');
  repo.mgit('lineage', 'add', 'models/q.onnx', '--parent', 'models/base.onnx', '--relation', 'quantize');
  repo.write('models/base.onnx', mlpWith(finetuned(base, 9), opts));
  repo.commitAll('new base');
  const r = repo.tryMgit('cascade', 'models/base.onnx', '--no-commit');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^skip {3}models\/q\.onnx \(none\): no creation command, and a quantize edge has no built-in recipe$/m);
  assert.doesNotMatch(r.stderr, /FAIL/);
});

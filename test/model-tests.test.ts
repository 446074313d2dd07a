// Model tests on commit (issue 6): the registry, built-in golden tests with real onnxruntime, command
// tests, the pre-commit hook on staged versions (partial staging, commit -a, commit <paths>), notes
// written by post-commit, a chained user hook and a husky-style core.hooksPath.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run, tempDir, TestRepo } from './helpers/git-repo.js';
import { finetuned, mlpWith } from './helpers/lineage-models.js';
import { mlpTensors, seededFloats } from './helpers/onnx-builder.js';

const WIDTH = 16;
const LAYERS = 2;
const mlp = (seed: number) => mlpTensors({ seed, width: WIDTH, layers: LAYERS });
const build = (specs: ReturnType<typeof mlp>) => mlpWith(specs, { width: WIDTH, layers: LAYERS });
const good = () => build(mlp(1));
/** the same model with a tenth of its weights badly damaged */
const corrupted = () => build(finetuned(mlp(1), 7, { fraction: 0.1, scale: 5 }));
/** a tiny change, well inside the golden tolerance of other tests */
const retrained = () => build(finetuned(mlp(1), 5, { fraction: 0.01, scale: 1e-7 }));

function goldenRepo(opts: { hooksPath?: string } = {}): TestRepo {
  const repo = TestRepo.create({ install: false });
  if (opts.hooksPath) repo.git('config', 'core.hooksPath', opts.hooksPath);
  repo.mgit('install', '--local');
  repo.mgit('track', '*.onnx');
  repo.write('models/base.onnx', good());
  repo.write('tests/base-golden.json', JSON.stringify({ inputs: { x: { dims: [1, WIDTH], data: Array.from(seededFloats(99, WIDTH)) } } }));
  repo.mgit('test', 'add', '--name', 'golden', '--model', 'models/*.onnx', '--golden', 'tests/base-golden.json', '--tolerance', '1e-4', '--record', 'models/base.onnx');
  return repo;
}

test('golden test: recorded outputs pass, the result is a note on the commit', () => {
  const repo = goldenRepo();
  const reg = JSON.parse(repo.read('.mgit/tests.json').toString()) as { tests: { name: string; kind: string }[] };
  assert.deepEqual(reg.tests.map((t) => [t.name, t.kind]), [['golden', 'golden']]);
  repo.git('add', '-A');
  const r = repo.tryGit('commit', '-q', '-m', 'base');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /PASS {2}golden {2}models\/base\.onnx/);
  const log = repo.git('log', '--notes=mgit/tests', '-1');
  assert.match(log, /mgit-test pass golden [0-9a-f]{64} [0-9.]+s \{"max_abs_diff":0\} models\/base\.onnx/);
  const shown = JSON.parse(repo.mgit('test', 'show', '--json')) as { results: { status: string; test: string }[] };
  assert.deepEqual(shown.results.map((x) => [x.status, x.test]), [['pass', 'golden']]);
  // install configured notes to follow rewrites and merge without conflicts
  assert.match(repo.git('config', '--get-all', 'notes.rewriteRef'), /refs\/notes\/mgit\/tests/);
  assert.equal(repo.git('config', 'notes.mgit/tests.mergeStrategy').trim(), 'cat_sort_uniq');
  // amend carries the note along
  repo.git('commit', '--amend', '-q', '-m', 'base (amended)', '--no-verify');
  assert.match(repo.git('log', '--notes=mgit/tests', '-1'), /mgit-test pass golden/);
});

test('corrupted weights fail: commit -a is refused with a readable report; --no-verify skips', () => {
  const repo = goldenRepo();
  repo.commitAll('base');
  repo.write('models/base.onnx', corrupted());
  const r = repo.tryGit('commit', '-a', '-q', '-m', 'broken');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /FAIL {2}golden {2}models\/base\.onnx/);
  assert.match(r.stderr, /max \|diff\| .* > tolerance 0\.0001 \(worst: y\[\d+\]/);
  assert.match(r.stderr, /1 of 1 model test\(s\) failed: commit refused/);
  assert.equal(repo.git('rev-list', '--count', 'HEAD').trim(), '1');
  assert.equal(fs.existsSync(repo.path('.git/mgit/tests-pending.json')), false);
  // the standalone runner agrees, with JSON and exit code 1
  const t = repo.tryMgit('test', '--json');
  assert.equal(t.status, 1);
  assert.equal((JSON.parse(t.stdout) as { status: string }[])[0].status, 'fail');
  const skip = repo.tryGit('commit', '-a', '-q', '--no-verify', '-m', 'broken anyway');
  assert.equal(skip.status, 0, skip.stderr);
  assert.equal(repo.git('rev-list', '--count', 'HEAD').trim(), '2');
});

test('pre-commit tests the staged version, not the work tree (partial staging, commit <paths>)', () => {
  const repo = goldenRepo();
  repo.commitAll('base');
  // a good staged version with a broken file in the work tree: the commit tests what it commits
  repo.write('models/base.onnx', good()); // same bytes: nothing staged changes
  repo.write('models/other.onnx', good());
  repo.git('add', 'models/other.onnx');
  repo.write('models/other.onnx', corrupted());
  let r = repo.tryGit('commit', '-q', '-m', 'other');
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stderr, /PASS {2}golden {2}models\/other\.onnx/);
  // a broken staged version with a good work-tree file is refused
  repo.git('add', 'models/other.onnx');
  repo.write('models/other.onnx', good());
  r = repo.tryGit('commit', '-q', '-m', 'broken staged');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /FAIL {2}golden {2}models\/other\.onnx/);
  // commit <paths> tests the work-tree file it takes (git's temporary index)
  repo.git('reset', '-q');
  repo.write('models/other.onnx', corrupted());
  r = repo.tryGit('commit', '-q', '-m', 'by path', 'models/other.onnx');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /FAIL {2}golden {2}models\/other\.onnx/);
  repo.write('models/other.onnx', retrained());
  r = repo.tryGit('commit', '-q', '-m', 'by path', 'models/other.onnx');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /PASS {2}golden {2}models\/other\.onnx/);
});

test('an existing user hook still runs; a husky-style core.hooksPath gets the hooks', () => {
  const repo = TestRepo.create({ install: false });
  repo.git('config', 'core.hooksPath', '.husky/_');
  const log = repo.path('user-hook.log');
  repo.write('.husky/_/pre-commit', `#!/bin/sh\necho ran >> "${log}"\n`);
  fs.chmodSync(repo.path('.husky/_/pre-commit'), 0o755);
  repo.mgit('install', '--local');
  repo.mgit('track', '*.onnx');
  assert.ok(fs.existsSync(repo.path('.husky/_/pre-commit.mgit-chained')));
  repo.write('models/base.onnx', good());
  repo.write('tests/base-golden.json', JSON.stringify({ inputs: { x: { dims: [1, WIDTH], data: Array.from(seededFloats(99, WIDTH)) } } }));
  repo.mgit('test', 'add', '--name', 'golden', '--model', 'models/*.onnx', '--golden', 'tests/base-golden.json', '--record', 'models/base.onnx');
  repo.commitAll('base');
  assert.match(repo.git('log', '--notes=mgit/tests', '-1'), /mgit-test pass golden/);
  repo.write('models/base.onnx', corrupted());
  const r = repo.tryGit('commit', '-a', '-q', '-m', 'broken');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /FAIL {2}golden/);
  assert.equal(fs.readFileSync(log, 'utf8'), 'ran\nran\n');
});

test('commits in a repository without tests do not start mgit in pre-commit', () => {
  const repo = TestRepo.create();
  const script = repo.read('.git/hooks/pre-commit').toString();
  assert.match(script, /if \[ -f "\$\(git rev-parse --show-toplevel\)\/\.mgit\/tests\.json" \]; then exec git mgit hook pre-commit/);
  repo.write('a.txt', 'x');
  repo.commitAll('no tests');
});

test('command tests get {model} and {path} as whole arguments, never through a shell', () => {
  const repo = TestRepo.create();
  repo.write('models/we ird;$(x).onnx', good());
  repo.write('check.mjs', `import fs from 'node:fs';
const [model, p] = process.argv.slice(2);
const size = fs.statSync(model).size;
console.log('mgit-metrics: ' + JSON.stringify({ bytes: size }));
process.exit(p.endsWith('.onnx') && size > 1000 ? 0 : 1);
`);
  repo.mgit('test', 'add', '--name', 'size', '--model', 'models/**', '--', process.execPath, 'check.mjs', '{model}', '{path}');
  repo.git('add', '-A');
  const r = repo.tryGit('commit', '-q', '-m', 'm');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(repo.mgit('test', '--all', '--json').replace(/^[^[]*/, '')) as { status: string; path: string; metrics: { bytes: number } }[];
  assert.equal(out.length, 1);
  assert.equal(out[0].status, 'pass');
  assert.equal(out[0].path, 'models/we ird;$(x).onnx');
  assert.equal(out[0].metrics.bytes, good().length);
});

test('descendants of a changed model are reported stale (mgit.testDownstream)', () => {
  const repo = goldenRepo();
  repo.write('models/child.onnx', build(mlp(2)));
  repo.write('models/grandchild.onnx', build(mlp(3)));
  // the golden test applies only to base here
  repo.mgit('test', 'add', '--name', 'golden', '--model', 'models/base.onnx', '--golden', 'tests/base-golden.json');
  repo.commitAll('family');
  repo.mgit('lineage', 'add', 'models/child.onnx', '--parent', 'models/base.onnx', '--relation', 'finetune');
  repo.mgit('lineage', 'add', 'models/grandchild.onnx', '--parent', 'models/child.onnx', '--relation', 'finetune');
  repo.write('models/base.onnx', retrained());
  let r = repo.tryGit('commit', '-a', '-q', '-m', 'retrain base');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /STALE models\/child\.onnx: its lineage parent models\/base\.onnx changed/);
  assert.doesNotMatch(r.stderr, /grandchild/);
  repo.git('config', 'mgit.testDownstream', 'all');
  repo.git('reset', '-q', '--hard', 'HEAD~1');
  repo.write('models/base.onnx', retrained());
  r = repo.tryGit('commit', '-a', '-q', '-m', 'retrain base');
  assert.match(r.stderr, /STALE models\/grandchild\.onnx/);
  const down = JSON.parse(repo.mgit('test', '--downstream', 'models/base.onnx', '--json')) as { path: string }[];
  assert.deepEqual(down.map((d) => d.path), ['models/base.onnx']);
  // stale descendants block only when configured
  repo.git('config', 'mgit.testStaleBlocks', 'true');
  repo.git('reset', '-q', '--hard', 'HEAD~1');
  repo.write('models/base.onnx', retrained());
  r = repo.tryGit('commit', '-a', '-q', '-m', 'retrain base again');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /stale and mgit\.testStaleBlocks is set: commit refused/);
});

test('{parent} is the file of the primary lineage parent version', () => {
  const repo = TestRepo.create();
  repo.write('models/base.onnx', good());
  repo.write('models/child.onnx', retrained());
  repo.commitAll('family');
  repo.mgit('lineage', 'add', 'models/child.onnx', '--parent', 'models/base.onnx', '--relation', 'finetune');
  repo.write('cmp.mjs', `import fs from 'node:fs';
const [model, parent] = process.argv.slice(2);
console.log('parent=' + (parent ? fs.statSync(parent).size : 'none'));
process.exit(parent && !fs.readFileSync(model).equals(fs.readFileSync(parent)) ? 0 : 1);
`);
  repo.mgit('test', 'add', '--name', 'vs-parent', '--model', 'models/child.onnx', '--', process.execPath, 'cmp.mjs', '{model}', '{parent}');
  const out = JSON.parse(repo.mgit('test', 'models/child.onnx', '--json')) as { status: string; detail: string }[];
  assert.equal(out[0].status, 'pass', out[0].detail);
  assert.equal(out[0].detail, `parent=${good().length}`);
});

test('a test that runs too long is stopped and fails', () => {
  const repo = TestRepo.create();
  repo.write('m.onnx', good());
  repo.write('slow.mjs', 'setTimeout(() => {}, 60000);\n');
  repo.mgit('test', 'add', '--name', 'slow', '--model', '*.onnx', '--timeout', '1', '--', process.execPath, 'slow.mjs', '{model}');
  repo.git('add', '-A');
  const start = Date.now();
  const r = repo.tryGit('commit', '-q', '-m', 'slow');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /TIMEOUT {2}slow {2}m\.onnx .*\n {6}stopped after 1s/);
  assert.ok(Date.now() - start < 30000);
});

test('tests keyed by model type (lineage meta model_type) apply to new versions of such models', () => {
  const repo = TestRepo.create();
  repo.write('models/base.onnx', good());
  repo.write('models/clf.onnx', retrained());
  repo.commitAll('family');
  repo.mgit('lineage', 'add', 'models/clf.onnx', '--parent', 'models/base.onnx', '--relation', 'finetune', '--meta', 'model_type=classifier');
  repo.write('ok.mjs', "console.log('checked ' + process.argv[3]);\n");
  repo.mgit('test', 'add', '--name', 'clf', '--type', 'classifier', '--', process.execPath, 'ok.mjs', '{model}', '{path}');
  assert.match(repo.mgit('test', 'list'), /^clf\tcommand\ttype:classifier$/m);
  const all = JSON.parse(repo.mgit('test', '--all', '--json')) as { path: string }[];
  assert.deepEqual(all.map((r) => r.path), ['models/clf.onnx']);
  // a new, staged version has no edges yet: the type of the version in HEAD applies
  repo.write('models/clf.onnx', corrupted());
  repo.write('models/base.onnx', build(mlp(4)));
  const r = repo.tryGit('commit', '-a', '-q', '-m', 'retrain');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /PASS {2}clf {2}models\/clf\.onnx/);
  assert.doesNotMatch(r.stderr, /models\/base\.onnx \(/);
});

test('test-result notes travel with plain git push and git fetch; concurrent notes merge by union', () => {
  const remote = tempDir('origin');
  run('git', ['init', '-q', '--bare', '-b', 'main', remote]);
  const remoteNotes = () => run('git', ['rev-parse', '-q', '--verify', 'refs/notes/mgit/tests'], { cwd: remote }).stdout.trim();
  const results = (repo: TestRepo, rev: string) => (JSON.parse(repo.mgit('test', 'show', rev, '--json')) as { results: { status: string; test: string }[] }).results.map((r) => `${r.status} ${r.test}`);
  const a = goldenRepo();
  a.git('add', '-A');
  assert.equal(a.tryGit('commit', '-q', '-m', 'base').status, 0);
  a.git('remote', 'add', 'origin', remote);
  a.git('push', '-q', 'origin', 'main');
  assert.equal(remoteNotes(), a.git('rev-parse', 'refs/notes/mgit/tests').trim(), 'plain git push carried the notes');

  const dir = path.join(tempDir('clone-b'), 'c');
  const b = new TestRepo(dir);
  assert.equal(run('git', ['clone', '-q', remote, dir], { env: b.env }).status, 0);
  b.mgit('install', '--local');
  assert.match(b.git('config', '--get-all', 'remote.origin.fetch'), /\+refs\/notes\/mgit\/tests\*:refs\/notes\/mgit\/remotes\/origin\/tests\*/);
  b.git('fetch', '-q');
  assert.equal(b.tryGit('rev-parse', '-q', '--verify', 'refs/notes/mgit/tests').status, 1, 'a fetch never writes the local notes');
  assert.deepEqual(results(b, 'HEAD'), ['pass golden'], 'plain git fetch brought them; test show reads the union');

  // both clones commit tested models concurrently; b's push finds the remote notes moved on
  a.write('models/base.onnx', retrained());
  assert.equal(a.tryGit('commit', '-a', '-q', '-m', 'retrain in a').status, 0);
  a.git('push', '-q', 'origin', 'main');
  b.git('switch', '-q', '-c', 'work');
  b.write('models/base.onnx', build(finetuned(mlp(1), 6, { fraction: 0.01, scale: 1e-7 })));
  assert.equal(b.tryGit('commit', '-a', '-q', '-m', 'retrain in b').status, 0);
  const push = b.tryGit('push', '-q', 'origin', 'work');
  assert.equal(push.status, 0, push.stderr);
  assert.doesNotMatch(push.stderr, /warning/);
  const merged = b.git('rev-parse', 'refs/notes/mgit/tests').trim();
  assert.equal(remoteNotes(), merged);
  assert.match(b.git('log', '--notes=mgit/tests', '-1', 'origin/main'), /mgit-test pass golden/, "a's result is in b's own notes after the merge");
  a.git('fetch', '-q');
  assert.deepEqual(results(a, 'origin/work'), ['pass golden']);
  a.mgit('uninstall', '--local');
  assert.doesNotMatch(a.git('config', '--get-all', 'remote.origin.fetch'), /mgit/);
});

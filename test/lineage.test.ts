// Lineage through the real CLI and real git: declaring and withdrawing edges by PATH[@REV], the JSON /
// dot / mermaid / text views, edges surviving amend and rebase, the autopilot (suggest, --auto,
// mgit.autoLineage at commit time), and parentVersions for the store's delta encoder.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parentVersions } from '../src/lineage/parents.js';
import { Repo } from '../src/repo.js';
import { run, TestRepo } from './helpers/git-repo.js';
import { baseModel, baseTensors, finetuned, mlpWith, quantizedFp16 } from './helpers/lineage-models.js';

interface JsonView {
  nodes: { path: string | null; versions: { id: string; commit?: string; message?: string; staged?: boolean }[] }[];
  edges: { child: string | null; parent: string | null; relation: string; childVersion: string; parentVersion: string; childCommit?: string; parentCommit?: string; implicit?: boolean; record?: string; command?: string[]; commandTrusted?: boolean; meta?: Record<string, string>; auto?: string }[];
}

function view(repo: TestRepo, ...args: string[]): JsonView {
  return JSON.parse(repo.mgit('log-lineage', '--format=json', ...args)) as JsonView;
}

function provenance(v: JsonView): string[] {
  return v.edges.filter((e) => !e.implicit).map((e) => `${e.child} <- ${e.relation} ${e.parent}`);
}

function sha(repo: TestRepo, rev: string, path: string): string {
  return /sha256 ([0-9a-f]{64})/.exec(repo.git('cat-file', 'blob', `${rev}:${path}`))![1];
}

/** base (two versions), a fine-tune of base v1, an unrelated model. */
function family(): TestRepo {
  const repo = TestRepo.create();
  repo.write('README.md', 'models\n');
  repo.write('models/base.onnx', baseModel(1));
  repo.commitAll('base v1');
  repo.write('models/base.onnx', mlpWith(finetuned(baseTensors(1), 7)));
  repo.commitAll('base v2');
  repo.write('models/ft.onnx', mlpWith(finetuned(baseTensors(1), 100, { scale: 0.1 })));
  repo.write('models/other.onnx', baseModel(2));
  repo.commitAll('ft and other');
  return repo;
}

test('lineage add: PATH@REV names any version; edges show with commits in every format', () => {
  const repo = family();
  const statusBefore = repo.status();
  const indexBefore = repo.git('ls-files', '-s');
  const out = repo.mgit('lineage', 'add', 'models/ft.onnx', '--parent', 'models/base.onnx@HEAD~2', '--relation', 'finetune', '--command', 'python finetune.py --base {parent} --out {child}', '--meta', 'task=demo');
  assert.match(out, /models\/ft\.onnx \([0-9a-f]{8}\) <- finetune models\/base\.onnx \([0-9a-f]{8}\): recorded/);
  assert.equal(repo.status(), statusBefore, 'no work-tree change');
  assert.equal(repo.git('ls-files', '-s'), indexBefore, 'no index change');

  const v = view(repo);
  assert.deepEqual(
    v.nodes.map((n) => [n.path, n.versions.length]),
    [
      ['models/ft.onnx', 1],
      ['models/other.onnx', 1],
      ['models/base.onnx', 2],
    ],
  );
  const edge = v.edges.find((e) => !e.implicit)!;
  assert.equal(edge.child, 'models/ft.onnx');
  assert.equal(edge.parent, 'models/base.onnx');
  assert.equal(edge.relation, 'finetune');
  assert.equal(edge.childVersion, sha(repo, 'HEAD', 'models/ft.onnx'));
  assert.equal(edge.parentVersion, sha(repo, 'HEAD~2', 'models/base.onnx'));
  assert.equal(edge.childCommit, repo.git('rev-parse', 'HEAD').trim());
  assert.equal(edge.parentCommit, repo.git('rev-parse', 'HEAD~2').trim());
  assert.deepEqual(edge.command, ['python', 'finetune.py', '--base', '{parent}', '--out', '{child}']);
  assert.equal(edge.commandTrusted, true, 'a command typed here is trusted here');
  assert.deepEqual(edge.meta, { task: 'demo' });
  const implicit = v.edges.filter((e) => e.implicit);
  assert.deepEqual(
    implicit.map((e) => [e.child, e.relation, e.childVersion, e.parentVersion]),
    [['models/base.onnx', 'version', sha(repo, 'HEAD', 'models/base.onnx'), sha(repo, 'HEAD~2', 'models/base.onnx')]],
  );

  const human = repo.mgit('log-lineage');
  assert.match(human, /^\* models\/ft\.onnx$/m);
  assert.match(human, /<- finetune models\/base\.onnx@[0-9a-f]{8}/);
  assert.match(human, /-> finetune models\/ft\.onnx@/);
  assert.match(human, /command: python finetune\.py --base \{parent\} --out \{child\} \(trusted\)/);
  assert.doesNotMatch(human, /\x1b\[/, 'no colours when stdout is not a terminal');
  assert.match(repo.mgit('log-lineage', '--color=always'), /\x1b\[/);
  assert.match(repo.mgit('log-lineage', '--format=dot'), /^digraph lineage \{[\s\S]*m\d -> m\d \[label="finetune\\n/m);
  assert.match(repo.mgit('log-lineage', '--format=mermaid'), /^flowchart TD\n[\s\S]*m\d -->\|finetune\| m\d/);

  // filters: descendants of base v1 reach ft (and base v2 through git's version order); other is left out
  const desc = view(repo, 'models/base.onnx@HEAD~2', '--descendants');
  assert.deepEqual(desc.nodes.map((n) => n.path).sort(), ['models/base.onnx', 'models/ft.onnx']);
  const anc = view(repo, 'models/ft.onnx', '--ancestors');
  assert.deepEqual(anc.nodes.map((n) => n.path).sort(), ['models/base.onnx', 'models/ft.onnx']);
  assert.deepEqual(view(repo, 'models/other.onnx').edges, []);

  // the same declaration again changes nothing
  const tip = repo.git('rev-parse', 'refs/mgit/lineage');
  assert.match(repo.mgit('lineage', 'add', 'models/ft.onnx', '--parent', 'models/base.onnx@HEAD~2', '--relation', 'finetune', '--command', 'python finetune.py --base {parent} --out {child}', '--meta', 'task=demo'), /already recorded/);
  assert.equal(repo.git('rev-parse', 'refs/mgit/lineage'), tip);
});

test('lineage add refuses what it cannot record, with usable errors', () => {
  const repo = family();
  const usage = repo.tryMgit('lineage', 'add', 'models/ft.onnx', '--parent', 'models/base.onnx', '--relation', 'tuned');
  assert.equal(usage.status, 129);
  assert.match(usage.stderr, /unknown relation "tuned"[\s\S]*finetune/);
  assert.equal(repo.tryMgit('lineage', 'add', 'models/ft.onnx', '--relation', 'finetune').status, 129, 'no parent');
  assert.equal(repo.tryMgit('lineage', 'add', 'models/ft.onnx', '--parent', 'models/base.onnx').status, 129, 'no relation');
  const notModel = repo.tryMgit('lineage', 'add', 'README.md', '--parent', 'models/base.onnx', '--relation', 'other');
  assert.equal(notModel.status, 1);
  assert.match(notModel.stderr, /not stored by mgit/);
  assert.match(repo.tryMgit('lineage', 'add', 'models/nope.onnx', '--parent', 'models/base.onnx', '--relation', 'other').stderr, /no such model/);
  assert.match(repo.tryMgit('lineage', 'add', 'models/ft.onnx', '--parent', 'models/base.onnx', '--relation', 'other', '--command', 'python x.py > {child}').stderr, /shell/);

  repo.mgit('lineage', 'add', 'models/ft.onnx', '--parent', 'models/base.onnx', '--relation', 'finetune');
  const cycle = repo.tryMgit('lineage', 'add', 'models/base.onnx', '--parent', 'models/ft.onnx', '--relation', 'other');
  assert.equal(cycle.status, 1);
  assert.match(cycle.stderr, /cycle/);
  // base v1 is an ancestor of base v2 by git history, so it cannot derive from ft either
  assert.match(repo.tryMgit('lineage', 'add', 'models/base.onnx@HEAD~2', '--parent', 'models/ft.onnx', '--relation', 'other').stderr, /cycle/);
});

test('lineage rm writes a retraction; declaring the edge again brings it back; staged versions are the default', () => {
  const repo = family();
  repo.mgit('lineage', 'add', 'models/ft.onnx', '--parent', 'models/base.onnx', '--relation', 'finetune');
  assert.deepEqual(provenance(view(repo)), ['models/ft.onnx <- finetune models/base.onnx']);
  assert.match(repo.mgit('lineage', 'rm', 'models/ft.onnx'), /withdrew finetune edge/);
  assert.deepEqual(provenance(view(repo)), []);
  assert.equal(repo.tryMgit('lineage', 'rm', 'models/ft.onnx').status, 1, 'nothing left to withdraw');
  repo.mgit('lineage', 'add', 'models/ft.onnx', '--parent', 'models/base.onnx', '--relation', 'finetune');
  assert.deepEqual(provenance(view(repo)), ['models/ft.onnx <- finetune models/base.onnx']);
  assert.equal(repo.git('ls-tree', '-r', '--name-only', 'refs/mgit/lineage').trim().split('\n').length, 3, 'edge, retraction, edge again (gen 1)');

  // the same edge with another command replaces the old record (a retraction plus the new edge)
  repo.mgit('lineage', 'add', 'models/ft.onnx', '--parent', 'models/base.onnx', '--relation', 'finetune', '--command', 'python a.py {child}');
  const replaced = JSON.parse(repo.mgit('lineage', 'add', 'models/ft.onnx', '--parent', 'models/base.onnx', '--relation', 'finetune', '--command', 'python b.py {child}', '--json')) as { status: string };
  assert.equal(replaced.status, 'replaced');
  const live = view(repo).edges.filter((e) => !e.implicit);
  assert.deepEqual(
    live.map((e) => e.command),
    [['python', 'b.py', '{child}']],
  );

  // a staged new version of ft is what `models/ft.onnx` names until it is committed
  repo.write('models/ft.onnx', mlpWith(finetuned(baseTensors(1), 200)));
  repo.git('add', 'models/ft.onnx');
  const staged = /sha256 ([0-9a-f]{64})/.exec(repo.git('cat-file', 'blob', ':models/ft.onnx'))![1];
  repo.mgit('lineage', 'add', 'models/ft.onnx', '--parent', 'models/ft.onnx@HEAD', '--relation', 'finetune');
  const v = view(repo, 'models/ft.onnx');
  const ft = v.nodes.find((n) => n.path === 'models/ft.onnx')!;
  assert.equal(ft.versions[0].id, staged);
  assert.equal(ft.versions[0].staged, true);
  assert.ok(v.edges.some((e) => !e.implicit && e.childVersion === staged));
});

test('edges survive amend and rebase of the commits that added the models', () => {
  const repo = TestRepo.create();
  repo.write('models/base.onnx', baseModel(1));
  repo.commitAll('base');
  repo.git('switch', '-q', '-c', 'work');
  repo.write('models/ft.onnx', mlpWith(finetuned(baseTensors(1), 3)));
  repo.commitAll('ft');
  repo.write('models/fp16.onnx', mlpWith(quantizedFp16(baseTensors(1))));
  repo.commitAll('fp16');
  repo.mgit('lineage', 'add', 'models/ft.onnx', '--parent', 'models/base.onnx', '--relation', 'finetune');
  repo.mgit('lineage', 'add', 'models/fp16.onnx', '--parent', 'models/base.onnx', '--relation', 'quantize');
  const before = provenance(view(repo)).sort();
  assert.equal(before.length, 2);

  repo.git('commit', '-q', '--amend', '-m', 'fp16, amended');
  repo.git('switch', '-q', 'main');
  repo.write('README.md', 'main moved on\n');
  repo.commitAll('readme');
  repo.git('switch', '-q', 'work');
  repo.git('rebase', '-q', 'main');
  // only the rewritten history is left
  repo.git('reflog', 'expire', '--expire=now', '--all');
  repo.git('gc', '-q', '--prune=now');

  const v = view(repo);
  assert.deepEqual(provenance(v).sort(), before);
  const fp16 = v.edges.find((e) => e.child === 'models/fp16.onnx')!;
  assert.equal(fp16.childCommit, repo.git('rev-parse', 'work').trim(), 'resolved to the rewritten commit');
  assert.equal(v.nodes.find((n) => n.path === 'models/fp16.onnx')!.versions[0].message, 'fp16, amended');
});

test('autopilot: suggest ranks the true parent; --auto records it; mgit.autoLineage does it at commit time', () => {
  const repo = TestRepo.create();
  const base = baseTensors(1);
  repo.write('models/base.onnx', mlpWith(base));
  repo.write('models/other.onnx', baseModel(2)); // same architecture, independent weights
  repo.commitAll('bases');
  repo.write('models/ft.onnx', mlpWith(finetuned(base, 9)));
  repo.commitAll('ft');
  const s = JSON.parse(repo.mgit('lineage', 'suggest', 'models/ft.onnx', '--json')) as { suggestions: { path: string; relation: string; score: number }[] };
  assert.deepEqual(
    s.suggestions.map((x) => x.path),
    ['models/base.onnx'],
    'the independent model is not suggested',
  );
  assert.equal(s.suggestions[0].relation, 'finetune');
  assert.match(repo.mgit('lineage', 'suggest', 'models/ft.onnx'), /finetune\s+models\/base\.onnx/);

  // an untracked file is read from the work tree
  repo.write('models/new.onnx', mlpWith(quantizedFp16(base)));
  const q = JSON.parse(repo.mgit('lineage', 'suggest', 'models/new.onnx', '--json')) as { suggestions: { path: string; relation: string }[] };
  assert.equal(q.suggestions[0].path, 'models/base.onnx');
  assert.equal(q.suggestions[0].relation, 'quantize');

  const added = JSON.parse(repo.mgit('lineage', 'add', 'models/ft.onnx', '--auto', '--json')) as { parentPaths: string[]; relation: string; auto: string };
  assert.deepEqual(added.parentPaths, ['models/base.onnx']);
  assert.equal(added.relation, 'finetune');
  assert.match(added.auto, /score/);

  repo.git('config', 'mgit.autoLineage', 'true');
  repo.git('add', 'models/new.onnx');
  const commit = run('git', ['commit', '-q', '-m', 'fp16'], { cwd: repo.dir, env: repo.env });
  assert.equal(commit.status, 0);
  assert.match(commit.stderr, /lineage: models\/new\.onnx <- quantize models\/base\.onnx/);
  const v = view(repo);
  assert.deepEqual(provenance(v).sort(), ['models/ft.onnx <- finetune models/base.onnx', 'models/new.onnx <- quantize models/base.onnx']);
  assert.ok(v.edges.every((e) => e.implicit || e.auto), 'autopilot edges say so');

  // a new version at the same path is git's own version edge: no provenance is added
  repo.write('models/new.onnx', mlpWith(quantizedFp16(finetuned(base, 10))));
  repo.commitAll('fp16 v2');
  assert.equal(provenance(view(repo)).length, 2);
});

test('concurrent writers: every record lands (compare-and-swap on the ref, retried)', async () => {
  const repo = TestRepo.create();
  const base = baseTensors(1);
  repo.write('models/base.onnx', mlpWith(base));
  for (let i = 0; i < 4; i++) repo.write(`models/ft${i}.onnx`, mlpWith(finetuned(base, 50 + i)));
  repo.commitAll('models');
  const { spawn } = await import('node:child_process');
  const one = (i: number) =>
    new Promise<number>((resolve) => {
      const p = spawn('git', ['mgit', 'lineage', 'add', `models/ft${i}.onnx`, '--parent', 'models/base.onnx', '--relation', 'finetune'], { cwd: repo.dir, env: repo.env, stdio: 'ignore' });
      p.on('close', (code) => resolve(code ?? 1));
    });
  assert.deepEqual(await Promise.all([0, 1, 2, 3].map(one)), [0, 0, 0, 0]);
  assert.equal(provenance(view(repo)).length, 4);
  assert.equal(repo.git('ls-tree', '-r', '--name-only', 'refs/mgit/lineage').trim().split('\n').length, 4);
});

test('parentVersions gives the delta encoder the declared parents, retractions applied', () => {
  const repo = family();
  repo.mgit('lineage', 'add', 'models/ft.onnx', '--parent', 'models/base.onnx@HEAD~2', '--parent', 'models/other.onnx', '--relation', 'merge');
  const r = Repo.find(repo.dir)!;
  const child = sha(repo, 'HEAD', 'models/ft.onnx');
  assert.deepEqual(parentVersions(r, child), [sha(repo, 'HEAD~2', 'models/base.onnx'), sha(repo, 'HEAD', 'models/other.onnx')]);
  assert.deepEqual(parentVersions(r, sha(repo, 'HEAD', 'models/other.onnx')), []);
  assert.deepEqual(parentVersions(r, 'not-an-id'), []);
  repo.mgit('lineage', 'rm', 'models/ft.onnx');
  assert.deepEqual(parentVersions(r, child), []);
});

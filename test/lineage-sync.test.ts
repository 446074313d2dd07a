// Lineage between clones: plain `git push` carries it (the pre-push hook), plain `git fetch` brings it
// (the fetch refspec), `git mgit lineage push|fetch` merge it; two clones that add different edges and
// the same edge end with the union, no conflict and no duplicate; retractions travel too; commands that
// arrive from a remote are untrusted until `git mgit trust`.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { run, tempDir, TestRepo } from './helpers/git-repo.js';
import { baseModel, baseTensors, finetuned, mlpWith, quantizedFp16 } from './helpers/lineage-models.js';

interface Edge {
  child: string;
  parent: string;
  relation: string;
  implicit?: boolean;
  record: string;
  commandTrusted?: boolean;
}

function edges(repo: TestRepo): string[] {
  const v = JSON.parse(repo.mgit('log-lineage', '--json')) as { edges: Edge[] };
  return v.edges
    .filter((e) => !e.implicit)
    .map((e) => `${e.child} <- ${e.relation} ${e.parent}`)
    .sort();
}

function records(repo: TestRepo, ref = 'refs/mgit/lineage'): string[] {
  return repo.git('ls-tree', '-r', '--name-only', ref).trim().split('\n').filter(Boolean);
}

function cloneOf(remote: string, tag: string): TestRepo {
  const dir = path.join(tempDir(tag), 'c');
  const r = new TestRepo(dir);
  assert.equal(run('git', ['clone', '-q', remote, dir], { env: r.env }).status, 0);
  r.git('config', 'gc.auto', '0');
  r.mgit('install', '--local');
  return r;
}

test('lineage travels with plain git push and git fetch; two clones merge to the union', () => {
  const remote = tempDir('origin');
  run('git', ['init', '-q', '--bare', '-b', 'main', remote]);
  const a = TestRepo.create();
  const base = baseTensors(1);
  a.write('models/base.onnx', mlpWith(base));
  a.write('models/ft1.onnx', mlpWith(finetuned(base, 11)));
  a.write('models/ft2.onnx', mlpWith(finetuned(base, 12)));
  a.write('models/fp16.onnx', mlpWith(quantizedFp16(base)));
  a.write('models/other.onnx', baseModel(5));
  a.commitAll('models');
  a.git('remote', 'add', 'origin', remote);
  a.git('push', '-q', 'origin', 'main');
  assert.equal(run('git', ['for-each-ref', 'refs/mgit/'], { cwd: remote }).stdout, '', 'no lineage yet: nothing pushed');

  // pointers are enough for lineage: the clone needs no chunks (it checks out pointers)
  const b = cloneOf(remote, 'clone-b');
  assert.match(b.git('config', '--get-all', 'remote.origin.fetch'), /\+refs\/mgit\/lineage\*:refs\/mgit\/remotes\/origin\/lineage\*/);

  // A: e1 and the shared e3; B: e2 and the shared e3 (identical declarations)
  a.mgit('lineage', 'add', 'models/ft1.onnx', '--parent', 'models/base.onnx', '--relation', 'finetune', '--command', 'python ft.py {parent} {child}');
  a.mgit('lineage', 'add', 'models/fp16.onnx', '--parent', 'models/base.onnx', '--relation', 'quantize');
  b.mgit('lineage', 'add', 'models/ft2.onnx', '--parent', 'models/base.onnx', '--relation', 'finetune');
  b.mgit('lineage', 'add', 'models/fp16.onnx', '--parent', 'models/base.onnx', '--relation', 'quantize');

  // A pushes code with plain git push: the pre-push hook pushes lineage too
  a.write('notes.txt', 'a\n');
  a.commitAll('notes');
  a.git('push', '-q', 'origin', 'main');
  assert.equal(run('git', ['rev-parse', 'refs/mgit/lineage'], { cwd: remote }).stdout.trim(), a.git('rev-parse', 'refs/mgit/lineage').trim());

  // B's push of lineage is rejected at first (A was first): it fetches, merges and pushes the union
  assert.match(b.mgit('lineage', 'push'), /pushed \(merged the remote's lineage first\)/);
  const union = ['models/fp16.onnx <- quantize models/base.onnx', 'models/ft1.onnx <- finetune models/base.onnx', 'models/ft2.onnx <- finetune models/base.onnx'];
  assert.deepEqual(edges(b), union);
  assert.equal(records(b).length, 3, 'the shared edge is one record');
  const merge = b.git('rev-list', '--parents', '-n', '1', 'refs/mgit/lineage').trim().split(' ');
  assert.equal(merge.length, 3, 'a merge commit with two parents');

  // A: a plain git fetch brings B's records; they are visible before any merge...
  a.git('fetch', '-q', 'origin');
  assert.deepEqual(edges(a), union);
  // ...and lineage fetch makes them local (a fast-forward: A's records are in the union)
  assert.match(a.mgit('lineage', 'fetch'), /updated \(fast-forward\)/);
  assert.equal(a.git('rev-parse', 'refs/mgit/lineage'), b.git('rev-parse', 'refs/mgit/lineage'));
  assert.match(a.mgit('lineage', 'fetch'), /already up to date/);
  assert.deepEqual(records(a), records(b));

  // retractions travel like edges
  a.mgit('lineage', 'rm', 'models/ft1.onnx');
  assert.match(a.mgit('lineage', 'push', 'origin'), /origin: pushed/);
  b.git('fetch', '-q');
  assert.deepEqual(edges(b), union.filter((e) => !e.startsWith('models/ft1')));
  b.mgit('lineage', 'fetch', 'origin');
  assert.equal(b.git('rev-parse', 'refs/mgit/lineage'), a.git('rev-parse', 'refs/mgit/lineage'));

  // a URL instead of a remote name works too
  const c = TestRepo.create();
  assert.match(c.mgit('lineage', 'fetch', remote), /updated \(fast-forward\)/);
  assert.equal(c.git('rev-parse', 'refs/mgit/lineage'), a.git('rev-parse', 'refs/mgit/lineage'));
  assert.equal(c.git('for-each-ref', 'refs/mgit/fetch-tmp/'), '', 'no temporary ref left behind');
});

test('commands from a remote are untrusted until git mgit trust', () => {
  const remote = tempDir('origin');
  run('git', ['init', '-q', '--bare', '-b', 'main', remote]);
  const a = TestRepo.create();
  const base = baseTensors(1);
  a.write('models/base.onnx', mlpWith(base));
  a.write('models/ft.onnx', mlpWith(finetuned(base, 3)));
  a.commitAll('models');
  a.git('remote', 'add', 'origin', remote);
  a.mgit('lineage', 'add', 'models/ft.onnx', '--parent', 'models/base.onnx', '--relation', 'finetune', '--command', 'python ft.py --base {parent} --out {child}');
  a.git('push', '-q', 'origin', 'main');

  const b = cloneOf(remote, 'clone-t');
  b.mgit('lineage', 'fetch');
  const list = () => JSON.parse(b.mgit('trust', '--json')) as { record: string; trusted: boolean; command: string[] }[];
  const [row] = list();
  assert.equal(row.trusted, false);
  assert.deepEqual(row.command, ['python', 'ft.py', '--base', '{parent}', '--out', '{child}']);
  assert.match(b.mgit('trust'), /UNTRUSTED [0-9a-f]{12} {2}models\/ft\.onnx <- finetune models\/base\.onnx/);
  assert.match(b.mgit('log-lineage'), /\(untrusted: git mgit trust\)/);
  b.mgit('trust', row.record.slice(0, 8));
  assert.equal(list()[0].trusted, true);
  assert.match(b.mgit('log-lineage'), /\(trusted\)/);
  b.mgit('trust', '--revoke', row.record.slice(0, 8));
  assert.equal(list()[0].trusted, false);
  assert.equal(b.tryMgit('trust', 'ffff').status, 1);
  // trust is local: nothing about it is pushed
  assert.deepEqual(JSON.parse(a.mgit('trust', '--json')).map((r: { trusted: boolean }) => r.trusted), [true]);
});

test('a broken record from a remote is ignored with a warning; install and uninstall manage the refspec', () => {
  const a = TestRepo.create();
  a.write('models/base.onnx', baseModel(1));
  a.write('models/ft.onnx', mlpWith(finetuned(baseTensors(1), 4)));
  a.commitAll('models');
  a.mgit('lineage', 'add', 'models/ft.onnx', '--parent', 'models/base.onnx', '--relation', 'finetune');
  // a remote-tracking lineage ref holding a real record filed under a name that is not its hash, and junk
  const good = a.git('ls-tree', '-r', 'refs/mgit/lineage').trim().split('\t')[0].split(' ')[2];
  const junk = a.git('hash-object', '-w', '--no-filters', a.path('models/base.onnx')).trim();
  const env = { ...a.env, GIT_INDEX_FILE: a.path('.git/tmp-index') };
  run('git', ['update-index', '--add', '--cacheinfo', `100644,${good},v1/aa/${'a'.repeat(64)}/${'b'.repeat(64)}.json`], { cwd: a.dir, env });
  run('git', ['update-index', '--add', '--cacheinfo', `100644,${junk},v1/zz/junk`], { cwd: a.dir, env });
  const tree = run('git', ['write-tree'], { cwd: a.dir, env }).stdout.trim();
  const forged = run('git', ['commit-tree', tree, '-m', 'forged'], { cwd: a.dir, env: a.env }).stdout.trim();
  a.git('update-ref', 'refs/mgit/remotes/evil/lineage', forged);
  const r = a.tryMgit('log-lineage', '--json');
  assert.equal(r.status, 0);
  assert.match(r.stderr, /warning: 2 invalid lineage record\(s\) ignored/);
  assert.equal((JSON.parse(r.stdout) as { edges: Edge[] }).edges.filter((e) => !e.implicit).length, 1);

  const remote = tempDir('origin');
  run('git', ['init', '-q', '--bare', '-b', 'main', remote]);
  a.git('remote', 'add', 'up', remote);
  assert.match(a.mgit('install', '--local'), /remote up: git fetch now brings its lineage/);
  assert.match(a.git('config', '--get-all', 'remote.up.fetch'), /refs\/mgit\/lineage\*/);
  a.mgit('uninstall', '--local');
  assert.doesNotMatch(a.git('config', '--get-all', 'remote.up.fetch'), /mgit/);
});

// Every file of the shared model corpus round-trips byte for byte through add, commit, rm, checkout,
// a second worktree, git archive and a branch switch. Runs when MGIT_CORPUS points at the corpus
// (`.ci/run` sets it); a clone without it skips, and says so.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { run, tempDir, TestRepo } from './helpers/git-repo.js';

const corpus = process.env.MGIT_CORPUS;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function corpusFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.onnx(\.data)?$/.test(e.name)) out.push(path.relative(root, p));
    }
  };
  walk(root);
  return out.sort();
}

test('corpus: every model round-trips byte for byte through every checkout path', { skip: corpus ? false : 'MGIT_CORPUS not set: corpus tests skipped' }, () => {
  const files = corpusFiles(corpus!);
  assert.ok(files.length >= 80, `found ${files.length} corpus files`);
  const repo = TestRepo.create({ track: ['*.onnx', '*.onnx.data'] });
  const want = new Map<string, string>();
  for (const f of files) {
    const b = fs.readFileSync(path.join(corpus!, f));
    want.set(f, sha(b));
    repo.write(f, b);
  }
  repo.commitAll('corpus');
  const check = (dir: string, where: string) => {
    for (const [f, h] of want) assert.equal(sha(fs.readFileSync(path.join(dir, f))), h, `${where}: ${f}`);
  };
  for (const top of new Set(files.map((f) => f.split('/')[0]))) fs.rmSync(repo.path(top), { recursive: true });
  repo.git('checkout', '--', '.');
  check(repo.dir, 'checkout');
  assert.equal(repo.status(), '');

  const wt = path.join(tempDir('corpus-wt'), 'wt');
  repo.git('worktree', 'add', '-q', '-b', 'wt', wt);
  check(wt, 'worktree');
  assert.equal(run('git', ['status', '--porcelain'], { cwd: wt, env: repo.env }).stdout, '');

  const out = tempDir('corpus-archive');
  assert.equal(spawnSync('tar', ['-x', '-C', out], { input: repo.gitBytes('archive', 'HEAD') }).status, 0);
  check(out, 'archive');

  repo.git('switch', '-q', '-c', 'empty');
  repo.git('rm', '-q', '-r', '.');
  repo.git('commit', '-q', '-m', 'nothing');
  repo.git('switch', '-q', 'main');
  check(repo.dir, 'branch switch');
  assert.equal(repo.status(), '');
  assert.equal(JSON.parse(repo.mgit('fsck', '--json')).ok, true);
});

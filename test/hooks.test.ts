// Hook installation: our scripts land in the hooks path git uses (core.hooksPath included), an
// existing hook is chained and still runs with its arguments and stdin, uninstall restores it, and
// the filter process gives fresh clones their hooks.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { mlpModel } from './helpers/onnx-builder.js';
import { run, tempDir, TestRepo } from './helpers/git-repo.js';

const HOOKS = ['pre-commit', 'post-commit', 'pre-push'];

test('install writes marked hooks; uninstall removes them', () => {
  const repo = TestRepo.create();
  for (const h of HOOKS) {
    const f = repo.path(`.git/hooks/${h}`);
    assert.match(fs.readFileSync(f, 'utf8'), /# mgit hook v1:/);
    assert.ok(fs.statSync(f).mode & 0o100, `${h} is executable`);
  }
  assert.equal(repo.mgit('install', '--local').includes('hook'), false, 'a second install changes nothing');
  repo.mgit('uninstall', '--local');
  for (const h of HOOKS) assert.equal(fs.existsSync(repo.path(`.git/hooks/${h}`)), false);
  assert.equal(repo.tryGit('config', '--local', '--get', 'filter.mgit.process').status, 1);
});

test('an existing hook is chained, keeps running with its arguments and stdin, and comes back on uninstall', () => {
  const repo = TestRepo.create({ install: false });
  const log = repo.path('hook.log');
  const userPrePush = `#!/bin/sh\necho "user pre-push $1 $2" >> "${log}"\ncat >> "${log}"\n`;
  const userPreCommit = `#!/bin/sh\necho "user pre-commit" >> "${log}"\n`;
  fs.writeFileSync(repo.path('.git/hooks/pre-push'), userPrePush, { mode: 0o755 });
  fs.writeFileSync(repo.path('.git/hooks/pre-commit'), userPreCommit, { mode: 0o755 });
  const out = repo.mgit('install', '--local');
  assert.match(out, /hook pre-push: chained/);
  repo.mgit('track', '*.onnx');
  repo.write('m.onnx', mlpModel({ seed: 1 }));
  repo.commitAll('m');
  assert.match(fs.readFileSync(log, 'utf8'), /user pre-commit/);

  const remote = tempDir('remote');
  run('git', ['init', '-q', '--bare', remote], { env: repo.env });
  repo.git('remote', 'add', 'origin', remote);
  repo.git('push', '-q', 'origin', 'main');
  const text = fs.readFileSync(log, 'utf8');
  assert.match(text, new RegExp(`user pre-push origin ${remote.replace(/[/.]/g, '\\$&')}`));
  assert.match(text, /refs\/heads\/main [0-9a-f]{40} refs\/heads\/main 0{40}/, 'the chained hook got git\'s stdin');

  // a failing user hook still blocks the commit
  fs.writeFileSync(repo.path('.git/hooks/pre-commit.mgit-chained'), '#!/bin/sh\nexit 3\n', { mode: 0o755 });
  repo.write('n.onnx', mlpModel({ seed: 2 }));
  repo.git('add', 'n.onnx');
  assert.notEqual(repo.tryGit('commit', '-q', '-m', 'n').status, 0);

  repo.mgit('uninstall', '--local');
  assert.equal(fs.readFileSync(repo.path('.git/hooks/pre-push'), 'utf8'), userPrePush);
  assert.equal(fs.existsSync(repo.path('.git/hooks/pre-push.mgit-chained')), false);
});

test('hooks go where core.hooksPath points (husky style)', () => {
  const repo = TestRepo.create({ install: false });
  repo.git('config', 'core.hooksPath', '.husky/_');
  repo.mgit('install', '--local');
  assert.ok(fs.existsSync(repo.path('.husky/_/pre-commit')));
  assert.equal(fs.existsSync(repo.path('.git/hooks/pre-commit')), false);
  assert.equal(run('git', ['mgit', 'hook', 'pre-commit'], { cwd: repo.dir, env: repo.env }).status, 0);
  assert.equal(run('git', ['mgit', 'hook', 'no-such-hook'], { cwd: repo.dir, env: repo.env }).status, 0, 'unknown hooks succeed');
});

test('the filter process installs missing hooks in a fresh clone, and leaves user hooks alone', () => {
  const src = TestRepo.create();
  src.write('m.onnx', mlpModel({ seed: 3 }));
  src.commitAll('m');
  // a global install, as users do it once per machine
  src.mgit('install');
  const dst = path.join(tempDir('clone'), 'c');
  // the clone's checkout runs the filter; chunks come from the source's store through a shared
  // alternate store is not needed here: skip smudge, we only care about hooks
  const env = { ...src.env, GIT_MGIT_SKIP_SMUDGE: '1' };
  assert.equal(run('git', ['clone', '-q', src.dir, dst], { env }).status, 0);
  for (const h of HOOKS) assert.match(fs.readFileSync(path.join(dst, '.git/hooks', h), 'utf8'), /# mgit hook v1:/, `${h} installed by the filter`);

  const dst2 = path.join(tempDir('clone2'), 'c');
  run('git', ['init', '-q', dst2], { env });
  fs.writeFileSync(path.join(dst2, '.git/hooks/pre-commit'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  run('git', ['remote', 'add', 'origin', src.dir], { cwd: dst2, env });
  run('git', ['pull', '-q', 'origin', 'main'], { cwd: dst2, env });
  assert.equal(fs.readFileSync(path.join(dst2, '.git/hooks/pre-commit'), 'utf8'), '#!/bin/sh\nexit 0\n');
  assert.ok(fs.existsSync(path.join(dst2, '.git/hooks/pre-push')));
  src.mgit('uninstall', '--skip-repo');
});

test('a reader that stops early gets no stack trace (EPIPE exits quietly)', () => {
  const repo = TestRepo.create();
  // more output than a pipe buffers (64 KiB), so mgit is still writing when the reader goes away
  for (let i = 0; i < 400; i++) repo.write(`a-rather-long-folder-name-to-make-lines-long/model-number-${i}.onnx`, Buffer.from(`x${i}`));
  repo.commitAll('many');
  const r = run('sh', ['-c', 'git mgit ls-files --json | head -c 10'], { cwd: repo.dir, env: repo.env });
  assert.equal(r.stdout.length, 10);
  assert.doesNotMatch(r.stderr, /EPIPE|at .*\.js:\d+/);
});

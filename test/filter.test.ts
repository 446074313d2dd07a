// The filter driver end to end, through the real git binary: every way git checks files out gives
// back the exact bytes that were added, git status stays clean, bad input is stored losslessly,
// damage is named, and crashes or concurrent writers lose nothing.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  constantNodeModel,
  externalDataModel,
  floatsBuffer,
  graph,
  ifSubgraphModel,
  mlpModel,
  model,
  prng,
  seededFloats,
  sparseModel,
  tensor,
  typedFieldsModel,
  DT,
} from './helpers/onnx-builder.js';
import { run, tempDir, TestRepo } from './helpers/git-repo.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function randomBytes(seed: number, n: number): Buffer {
  const r = prng(seed);
  return Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
}

/** Every kind of file a user may put under an mgit pattern. */
function fixtures(): Record<string, Buffer> {
  const ext = externalDataModel({ layers: 3, width: 32 });
  const mlp = mlpModel({ seed: 3, layers: 3, width: 64 });
  return {
    'models/mlp.onnx': mlp,
    'models/constants.onnx': constantNodeModel(),
    'models/if-subgraph.onnx': ifSubgraphModel(),
    'models/sparse.onnx': sparseModel(),
    'models/typed-fields.onnx': typedFieldsModel(),
    'models/ext/model.onnx': ext.onnx,
    'models/ext/model.onnx.data': ext.data,
    'models/no-tensors.onnx': model({ graph: graph({ name: 'empty', nodes: [] }) }),
    'bad/truncated.onnx': mlp.subarray(0, Math.floor(mlp.length * 0.6)),
    'bad/random.onnx': randomBytes(7, 50000),
    'bad/empty.onnx': Buffer.alloc(0),
    'bad/broken-pointer.onnx': Buffer.from('mgit-pointer v1\nformat raw\nsize 999999999999999\nsha256 xyz\n'),
    'bad/crlf-text.onnx': Buffer.from('line one\r\nline two\r\n'),
  };
}

function writeAll(repo: TestRepo, files: Record<string, Buffer>): void {
  for (const [p, b] of Object.entries(files)) repo.write(p, b);
}

function assertFiles(dir: string, files: Record<string, Buffer>, where: string): void {
  for (const [p, b] of Object.entries(files)) {
    const got = fs.readFileSync(path.join(dir, p));
    assert.equal(sha(got), sha(b), `${where}: ${p} differs (${got.length} vs ${b.length} bytes)`);
  }
}

test('every file round-trips byte for byte through checkout, worktree, archive and branch switch', () => {
  const repo = TestRepo.create({ track: ['*.onnx', '*.onnx.data'] });
  const files = fixtures();
  writeAll(repo, files);
  repo.commitAll('models');

  // git stores pointers, not models
  for (const p of Object.keys(files)) {
    const blob = repo.gitBytes('cat-file', 'blob', `HEAD:${p}`);
    if (p !== 'bad/empty.onnx') assert.match(blob.toString('latin1'), /^mgit-pointer v1\n/, `${p} is stored as a pointer`);
    assert.ok(blob.length < 4096, `${p}: pointer of ${blob.length} bytes`);
  }

  fs.rmSync(repo.path('models'), { recursive: true });
  fs.rmSync(repo.path('bad'), { recursive: true });
  repo.git('checkout', '--', '.');
  assertFiles(repo.dir, files, 'checkout');
  assert.equal(repo.status(), '');

  const wt = path.join(tempDir('wt'), 'wt');
  repo.git('worktree', 'add', '-q', wt);
  assertFiles(wt, files, 'worktree');
  assert.equal(run('git', ['status', '--porcelain'], { cwd: wt, env: repo.env }).stdout, '');

  const tarDir = tempDir('archive');
  const tar = repo.gitBytes('archive', '--format=tar', 'HEAD');
  const x = spawnSync('tar', ['-x', '-C', tarDir], { input: tar });
  assert.equal(x.status, 0);
  assertFiles(tarDir, files, 'archive');

  repo.git('switch', '-q', '-c', 'other');
  const changed = mlpModel({ seed: 99, layers: 3, width: 64 });
  repo.write('models/mlp.onnx', changed);
  repo.commitAll('retrain');
  repo.git('switch', '-q', 'main');
  assertFiles(repo.dir, files, 'switch back');
  repo.git('switch', '-q', 'other');
  assert.equal(sha(repo.read('models/mlp.onnx')), sha(changed));
  assert.equal(repo.status(), '');
  assert.equal(repo.mgit('fsck').trim().split('\n').pop()?.endsWith('ok'), true);
});

test('identical tensors are stored once, whatever file they are in', () => {
  const repo = TestRepo.create();
  const a = mlpModel({ seed: 5, layers: 4, width: 64 });
  repo.write('a.onnx', a);
  repo.commitAll('a');
  const before = repo.storeObjects().length;
  repo.write('copy/a.onnx', a);
  repo.commitAll('copy');
  assert.equal(repo.storeObjects().length, before, 'a copy adds no chunk');
  const pa = repo.git('cat-file', 'blob', 'HEAD:a.onnx');
  assert.equal(repo.git('cat-file', 'blob', 'HEAD:copy/a.onnx'), pa);
});

test('git status stays clean after touch, re-add and renormalize', () => {
  const repo = TestRepo.create();
  repo.write('m.onnx', mlpModel({ seed: 8, layers: 2, width: 64 }));
  repo.commitAll('m');
  const tree = repo.git('rev-parse', 'HEAD^{tree}');
  const t = new Date(Date.now() + 5000);
  fs.utimesSync(repo.path('m.onnx'), t, t);
  assert.equal(repo.status(), '');
  repo.git('add', 'm.onnx');
  repo.git('add', '--renormalize', '.');
  assert.equal(repo.git('write-tree').trim(), tree.trim());
  assert.equal(repo.status(), '');
});

test('pointers are pure: same bytes, same pointer, in repositories with different histories', () => {
  const m = mlpModel({ seed: 11, layers: 3, width: 48 });
  const r1 = TestRepo.create();
  r1.write('m.onnx', m);
  r1.commitAll('one');
  const r2 = TestRepo.create();
  r2.write('x/other.onnx', mlpModel({ seed: 12, layers: 3, width: 48 }));
  r2.commitAll('first');
  r2.write('elsewhere/m.onnx', m);
  r2.commitAll('second');
  const b1 = r1.git('rev-parse', 'HEAD:m.onnx');
  const b2 = r2.git('rev-parse', 'HEAD:elsewhere/m.onnx');
  assert.equal(b1, b2);

  // clean(pointer) == pointer, through the one-shot command and through the process filter
  const pointer = r1.gitBytes('cat-file', 'blob', 'HEAD:m.onnx');
  const again = run('git', ['mgit', 'clean'], { cwd: r1.dir, env: r1.env, input: pointer });
  assert.equal(again.status, 0);
  assert.deepEqual(again.out, pointer);
  r1.write('pointer-copy.onnx', pointer);
  assert.equal(r1.git('hash-object', 'pointer-copy.onnx'), b1);
  // one-shot clean of the model gives the process filter's pointer, and one-shot smudge the model
  const viaOneShot = run('git', ['mgit', 'clean', '--', 'm.onnx'], { cwd: r2.dir, env: r2.env, input: m });
  assert.deepEqual(viaOneShot.out, pointer);
  const smudged = run('git', ['mgit', 'smudge', '--', 'm.onnx'], { cwd: r2.dir, env: r2.env, input: pointer });
  assert.equal(sha(smudged.out), sha(m));
});

test('one git add stores good and bad files alike; the filter never aborts the whole add', () => {
  const repo = TestRepo.create();
  const files = {
    'good.onnx': mlpModel({ seed: 2 }),
    'random.onnx': randomBytes(3, 10000),
    'empty.onnx': Buffer.alloc(0),
    'newer-pointer.onnx': Buffer.from('mgit-pointer v2\nsomething a newer mgit wrote\n'),
  };
  writeAll(repo, files);
  repo.commitAll('mixed');
  // a pointer of a newer version passes through clean unchanged (never wrapped in a v1 pointer) ...
  assert.equal(repo.git('cat-file', 'blob', 'HEAD:newer-pointer.onnx'), files['newer-pointer.onnx'].toString());
  // ... and checking it out says what to do
  fs.rmSync(repo.path('newer-pointer.onnx'));
  const r = repo.tryGit('checkout', '--', 'newer-pointer.onnx');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /newer-pointer\.onnx: invalid mgit pointer: pointer version 2 is not supported .*upgrade mgit/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace for an expected failure');
});

test('a hostile pointer blob is refused on checkout without allocating its declared size', () => {
  const repo = TestRepo.create();
  repo.write('ok.onnx', mlpModel({ seed: 4 }));
  repo.commitAll('ok');
  const hostile = `mgit-pointer v1\nformat raw\nsize 9000000000000000\nsha256 ${'0'.repeat(64)}\n`;
  const oid = run('git', ['hash-object', '-w', '--no-filters', '--stdin'], { cwd: repo.dir, env: repo.env, input: hostile }).stdout.trim();
  repo.git('update-index', '--add', '--cacheinfo', `100644,${oid},evil.onnx`);
  repo.git('commit', '-q', '-m', 'evil');
  fs.rmSync(repo.path('evil.onnx'), { force: true });
  const r = repo.tryGit('checkout', '--', 'evil.onnx');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /evil\.onnx: invalid mgit pointer: parts cover 0 bytes but size is 9000000000000000/);
  const f = JSON.parse(repo.tryMgit('fsck', '--json').stdout);
  assert.equal(f.ok, false);
  assert.equal(f.badPointers[0].path, 'evil.onnx');
});

test('a corrupt chunk is named on checkout and by fsck', () => {
  const repo = TestRepo.create();
  const m = mlpModel({ seed: 21, layers: 2, width: 64 });
  repo.write('m.onnx', m);
  repo.commitAll('m');
  const chunk = repo.corruptFirstTensorChunk('HEAD:m.onnx');

  fs.rmSync(repo.path('m.onnx'));
  const r = repo.tryGit('checkout', '--', 'm.onnx');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, new RegExp(`m\\.onnx: chunk ${chunk} is corrupt`));
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);

  const f = repo.tryMgit('fsck');
  assert.equal(f.status, 1);
  assert.match(f.stdout, new RegExp(`corrupt chunk ${chunk} .*needed by m\\.onnx`));

  fs.rmSync(path.join(repo.store, 'objects', chunk.slice(0, 2), chunk.slice(2)), { force: true });
  const g = repo.tryMgit('fsck', '--json');
  assert.equal(g.status, 1);
  assert.deepEqual(JSON.parse(g.stdout).missing, [{ chunk, models: ['m.onnx'] }]);
});

test('two branches that change the same tensors differently conflict, with ours as a real model, never markers in a pointer', () => {
  const repo = TestRepo.create();
  repo.write('m.onnx', mlpModel({ seed: 30 }));
  repo.commitAll('base');
  repo.git('switch', '-q', '-c', 'feature');
  const theirs = mlpModel({ seed: 31 });
  repo.write('m.onnx', theirs);
  repo.commitAll('theirs');
  repo.git('switch', '-q', 'main');
  const ours = mlpModel({ seed: 32 });
  repo.write('m.onnx', ours);
  repo.commitAll('ours');
  const r = repo.tryGit('merge', 'feature');
  assert.notEqual(r.status, 0);
  assert.match(r.stdout + r.stderr, /CONFLICT/);
  assert.equal(sha(repo.read('m.onnx')), sha(ours), 'ours stays in the work tree, as a real model');
  const stages = repo.git('ls-files', '-u', '--', 'm.onnx').trim().split('\n');
  assert.equal(stages.length, 3);
  repo.git('checkout', '--theirs', 'm.onnx');
  assert.equal(sha(repo.read('m.onnx')), sha(theirs));
  repo.git('add', 'm.onnx');
  repo.git('commit', '-q', '--no-edit');
  assert.equal(repo.status(), '');
});

test('CRLF conversion settings cannot damage models or pointers', () => {
  const repo = TestRepo.create();
  repo.git('config', 'core.autocrlf', 'true');
  const m = mlpModel({ seed: 40 });
  repo.write('m.onnx', m);
  repo.commitAll('m');
  repo.checkoutAgain('m.onnx');
  assert.equal(sha(repo.read('m.onnx')), sha(m));
  assert.equal(repo.status(), '');
});

test('skip-smudge leaves pointers; git mgit checkout materialises them and status stays clean', () => {
  const repo = TestRepo.create();
  const files = { 'a.onnx': mlpModel({ seed: 50 }), 'sub/b.onnx': mlpModel({ seed: 51 }) };
  writeAll(repo, files);
  repo.commitAll('m');
  for (const p of Object.keys(files)) fs.rmSync(repo.path(p));
  const skip = { ...repo.env, GIT_MGIT_SKIP_SMUDGE: '1' };
  assert.equal(run('git', ['checkout', '--', '.'], { cwd: repo.dir, env: skip }).status, 0);
  assert.match(repo.read('a.onnx').toString(), /^mgit-pointer v1\n/);
  assert.equal(repo.status(), '');
  assert.match(repo.mgit('ls-files'), /\* a\.onnx/);

  repo.mgit('checkout', 'sub');
  assert.equal(sha(repo.read('sub/b.onnx')), sha(files['sub/b.onnx']));
  assert.match(repo.read('a.onnx').toString(), /^mgit-pointer/, 'only the paths asked for');
  repo.mgit('checkout');
  assertFiles(repo.dir, files, 'mgit checkout');
  assert.equal(repo.status(), '');

  repo.git('config', 'mgit.skipSmudge', 'true');
  repo.checkoutAgain('a.onnx');
  assert.match(repo.read('a.onnx').toString(), /^mgit-pointer/);
});

test('track says when committed files match, and --renormalize stores them as pointers', () => {
  const repo = TestRepo.create({ install: false });
  repo.mgit('install', '--local');
  const m = mlpModel({ seed: 60 });
  repo.write('old.onnx', m);
  repo.commitAll('before mgit');
  const out = repo.mgit('track', '*.onnx');
  assert.match(out, /1 file\(s\) already committed match and are stored whole, e\.g\. old\.onnx/);
  assert.match(repo.read('.gitattributes').toString(), /^\*\.onnx filter=mgit diff=mgit merge=mgit -text$/m);
  assert.match(repo.mgit('track'), /\*\.onnx/);
  repo.mgit('track', '--renormalize', '*.onnx');
  repo.git('commit', '-q', '-m', 'renormalize');
  assert.match(repo.git('cat-file', 'blob', 'HEAD:old.onnx'), /^mgit-pointer v1/);
  assert.equal(sha(repo.read('old.onnx')), sha(m));
  assert.doesNotMatch(repo.mgit('track', '*.onnx'), /already committed/);
  repo.mgit('untrack', '*.onnx');
  assert.doesNotMatch(repo.read('.gitattributes').toString(), /filter=mgit/);
});

test('git add in two worktrees at once: both succeed and the shared store stays consistent', async () => {
  const repo = TestRepo.create();
  repo.write('seed.onnx', mlpModel({ seed: 70 }));
  repo.commitAll('seed');
  const wt = path.join(tempDir('wt2'), 'wt');
  repo.git('worktree', 'add', '-q', '-b', 'side', wt);
  // The same big tensors in both, plus different ones: both writers race on the shared chunks.
  const shared = mlpModel({ seed: 71, layers: 4, width: 256 });
  for (let i = 0; i < 4; i++) {
    repo.write(`m${i}.onnx`, i % 2 ? shared : mlpModel({ seed: 100 + i, layers: 3, width: 200 }));
    fs.mkdirSync(wt, { recursive: true });
    fs.writeFileSync(path.join(wt, `m${i}.onnx`), i % 2 ? shared : mlpModel({ seed: 200 + i, layers: 3, width: 200 }));
  }
  const add = (cwd: string) =>
    new Promise<number>((resolve) => spawn('git', ['add', '-A'], { cwd, env: repo.env, stdio: 'inherit' }).on('close', (c) => resolve(c ?? 1)));
  assert.deepEqual(await Promise.all([add(repo.dir), add(wt)]), [0, 0]);
  repo.git('commit', '-q', '-m', 'main side');
  assert.equal(run('git', ['commit', '-q', '-m', 'wt side'], { cwd: wt, env: repo.env }).status, 0);
  const f = JSON.parse(repo.mgit('fsck', '--json'));
  assert.equal(f.ok, true);
  // seed, m0 and m2 of each side, and one blob for the shared model (same bytes, same pointer)
  assert.equal(f.pointers, 6);
});

function descendants(pid: number): number[] {
  const kids = spawnSync('pgrep', ['-P', String(pid)]).stdout.toString().split('\n').filter(Boolean).map(Number);
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

test('a filter killed mid-clean loses nothing: git add again completes and fsck is clean', async () => {
  const repo = TestRepo.create();
  // ~96 MB of tensors, so the clean is still running when it is killed
  const layers = 6;
  const width = 2048;
  const big = mlpModel({ seed: 80, layers, width });
  repo.write('big.onnx', big);
  // a filter git started itself (a prestarted one is not git's descendant: test/prestart.test.ts)
  const child = spawn('git', ['add', 'big.onnx'], { cwd: repo.dir, env: { ...repo.env, MGIT_PRESTART: '0' }, stdio: ['ignore', 'ignore', 'pipe'] });
  const tmp = path.join(repo.store, 'tmp');
  let killed = false;
  for (let i = 0; i < 400 && !killed && child.exitCode === null; i++) {
    await new Promise((r) => setTimeout(r, 25));
    const spooling = fs.existsSync(tmp) && fs.readdirSync(tmp).some((f) => f.startsWith('clean-'));
    const objects = repo.storeObjects().length;
    if (spooling && objects > 0) {
      for (const pid of descendants(child.pid!)) {
        try {
          process.kill(pid, 'SIGKILL');
          killed = true;
        } catch {
          // already gone
        }
      }
    }
  }
  const code = await new Promise<number>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on('close', (c) => resolve(c ?? 1))));
  assert.ok(killed, 'the filter was killed while cleaning');
  assert.notEqual(code, 0, 'git add failed with its filter');
  for (const obj of repo.storeObjects()) assert.ok(fs.statSync(obj).size > 16, 'no partial object');
  repo.git('add', 'big.onnx');
  repo.git('commit', '-q', '-m', 'big');
  assert.equal(JSON.parse(repo.mgit('fsck', '--json')).ok, true);
  repo.checkoutAgain('big.onnx');
  assert.equal(sha(repo.read('big.onnx')), sha(big));
  void floatsBuffer, void seededFloats, void tensor, void DT;
});

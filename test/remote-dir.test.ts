// Sharing through directory storage, end to end with the real git binary: the mgit:: remote helper
// (push, clone, pull, push again: only new chunks move), lineage refs travelling along, refusals that
// leave the remote untouched (a chunk missing locally, storage that cannot be written), a helper
// killed mid-upload, a chunk corrupted on storage (named; the rest of the checkout completes; git
// archive fails), plain remotes through the pre-push hook, `git mgit push/fetch`, .mgitconfig, and the
// recursion guard.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { mlpModel } from './helpers/onnx-builder.js';
import { ChunkStore } from '../src/store/store.js';
import { run, tempDir, TestRepo } from './helpers/git-repo.js';
import { bareRepo, changeTensor, chunksAt, clone, remoteRefs, sha, storageIds, userEnv } from './helpers/remote.js';

const A_OPTS = { seed: 1, layers: 3, width: 32 };
const A = mlpModel(A_OPTS);
const B = mlpModel({ seed: 2, layers: 2, width: 48 });
const C = mlpModel({ seed: 3, layers: 2, width: 40 });

function sameFile(dir: string, rel: string, want: Buffer): void {
  const got = fs.readFileSync(path.join(dir, rel));
  assert.equal(sha(got), sha(want), `${rel} differs in ${dir} (${got.length} vs ${want.length} bytes)`);
}

function union(...lists: string[][]): string[] {
  return [...new Set(lists.flat())].sort();
}

function makeSource(env: NodeJS.ProcessEnv, files: Record<string, Buffer>): TestRepo {
  const src = TestRepo.create({ env });
  for (const [p, b] of Object.entries(files)) src.write(p, b);
  src.commitAll('models');
  return src;
}

test('push, clone, pull and push again through mgit:: with directory storage beside the remote', () => {
  const env = userEnv();
  const bare = bareRepo(env);
  const storage = path.join(bare, 'mgit-chunks');
  const src = makeSource(env, { 'models/a.onnx': A, 'models/b.onnx': B, 'README.md': Buffer.from('models\n') });
  src.git('remote', 'add', 'origin', `mgit::${bare}`);

  const push1 = src.tryGit('push', '-u', 'origin', 'main');
  assert.equal(push1.status, 0, push1.stderr);
  const firstChunks = union(chunksAt(src.dir, env, 'HEAD:models/a.onnx'), chunksAt(src.dir, env, 'HEAD:models/b.onnx'));
  assert.deepEqual(storageIds(storage), firstChunks, 'storage holds exactly the pushed models\' chunks');
  assert.match(push1.stderr, new RegExp(`uploaded ${firstChunks.length} chunk object`));
  assert.equal(remoteRefs(bare, env).get('refs/heads/main'), src.git('rev-parse', 'HEAD').trim());
  assert.equal(fs.readFileSync(path.join(storage, 'mgit-storage'), 'utf8'), 'mgit chunk storage v1\n');

  const c = clone(`mgit::${bare}`, env);
  assert.equal(c.status, 0, c.stderr);
  sameFile(c.dir, 'models/a.onnx', A);
  sameFile(c.dir, 'models/b.onnx', B);
  assert.equal(run('git', ['status', '--porcelain'], { cwd: c.dir, env }).stdout, '');

  // One tensor of one model changes: exactly its new chunk moves.
  const A2 = changeTensor(A, A_OPTS, 0, 5);
  src.write('models/a.onnx', A2);
  src.commitAll('retrain a.layer0');
  const newChunks = chunksAt(src.dir, env, 'HEAD:models/a.onnx').filter((id) => !firstChunks.includes(id));
  assert.equal(newChunks.length, 1, 'the change touches one chunk');
  const push2 = src.tryGit('push');
  assert.equal(push2.status, 0, push2.stderr);
  assert.deepEqual(storageIds(storage), union(firstChunks, newChunks));
  assert.match(push2.stderr, /uploaded 1 chunk object/);

  // The clone pulls: the filter downloads the new chunk on demand.
  const pull = run('git', ['pull', '-q'], { cwd: c.dir, env });
  assert.equal(pull.status, 0, pull.stderr);
  sameFile(c.dir, 'models/a.onnx', A2);

  // And pushes back: the source pulls the clone's model.
  fs.writeFileSync(path.join(c.dir, 'models/c.onnx'), C);
  run('git', ['add', '-A'], { cwd: c.dir, env });
  run('git', ['commit', '-q', '-m', 'c'], { cwd: c.dir, env });
  const push3 = run('git', ['push', '-q'], { cwd: c.dir, env });
  assert.equal(push3.status, 0, push3.stderr);
  const pull2 = src.tryGit('pull', '-q', 'origin', 'main');
  assert.equal(pull2.status, 0, pull2.stderr);
  sameFile(src.dir, 'models/c.onnx', C);
  assert.equal(src.status(), '');
});

test('lineage travels with push and fetch through the helper, and concurrent lineage is merged on push', () => {
  const env = userEnv();
  const bare = bareRepo(env);
  const src = makeSource(env, { 'a.onnx': A, 'b.onnx': B, 'c.onnx': C });
  src.git('remote', 'add', 'origin', `mgit::${bare}`);
  const at = (dir: string, name: string) => run('git', ['rev-parse', '-q', '--verify', name], { cwd: dir, env }).stdout.trim();
  const remoteLineage = () => remoteRefs(bare, env).get('refs/mgit/lineage');
  src.mgit('lineage', 'add', 'b.onnx', '-p', 'a.onnx', '-r', 'finetune');
  const l1 = at(src.dir, 'refs/mgit/lineage');
  assert.equal(src.tryGit('push', '-u', 'origin', 'main').status, 0);
  assert.equal(remoteLineage(), l1, 'pushed along with main');
  assert.equal(at(src.dir, 'refs/mgit/remotes/origin/lineage'), l1, 'and remembered as the remote\'s');

  const c = clone(`mgit::${bare}`, env);
  assert.equal(c.status, 0, c.stderr);
  assert.equal(at(c.dir, 'refs/mgit/remotes/origin/lineage'), l1, 'the clone has the remote\'s lineage');
  assert.match(run('git', ['mgit', 'log-lineage'], { cwd: c.dir, env }).stdout, /finetune/, 'and reads it');

  // Lineage moves while main does not: `git push` still carries it, and a fetch brings it in.
  src.mgit('lineage', 'add', 'c.onnx', '-p', 'a.onnx', '-r', 'distill');
  const l2 = at(src.dir, 'refs/mgit/lineage');
  const push = src.tryGit('push');
  assert.equal(push.status, 0, push.stderr);
  assert.equal(remoteLineage(), l2);
  const fetch = run('git', ['fetch', '-q'], { cwd: c.dir, env });
  assert.equal(fetch.status, 0, fetch.stderr);
  assert.equal(at(c.dir, 'refs/mgit/remotes/origin/lineage'), l2, 'fetched into the remote-tracking copy');

  // The clone records lineage of its own, not knowing l2: its push merges the remote's first.
  const mine = run('git', ['mgit', 'lineage', 'add', 'c.onnx', '-p', 'b.onnx', '-r', 'merge'], { cwd: c.dir, env });
  assert.equal(mine.status, 0, mine.stderr);
  const l3 = at(c.dir, 'refs/mgit/lineage');
  const push2 = run('git', ['push'], { cwd: c.dir, env });
  assert.equal(push2.status, 0, push2.stderr);
  const merged = remoteLineage()!;
  for (const l of [l2, l3]) assert.equal(run('git', ['merge-base', '--is-ancestor', l, merged], { cwd: bare, env }).status, 0, 'the remote keeps both sides');
  assert.equal([...remoteRefs(bare, env).keys()].some((r) => r.includes('remotes')), false, 'remote-tracking copies are never pushed');
});

test('storage stays self-sufficient: a delta travels with its base, even when the base belongs to a commit the remote has', () => {
  const env = userEnv();
  const bare = bareRepo(env);
  const src = makeSource(env, { 'a.onnx': A });
  src.git('remote', 'add', 'origin', `mgit::${bare}`);
  assert.equal(src.tryGit('push', '-u', 'origin', 'main').status, 0);
  const v1 = chunksAt(src.dir, env, 'HEAD:a.onnx');

  // The next version is pushed to new, empty storage: its changed tensor is stored as a delta
  // against the previous version's, which only the old storage has.
  const fresh = path.join(tempDir('new-storage'), 'chunks');
  src.git('config', 'remote.origin.mgitStorage', fresh);
  src.write('a.onnx', changeTensor(A, A_OPTS, 0, 9));
  src.commitAll('a v2');
  const changed = chunksAt(src.dir, env, 'HEAD:a.onnx').filter((id) => !v1.includes(id));
  assert.equal(changed.length, 1);
  const bases = new ChunkStore(src.store).basesOf(changed[0]);
  assert.ok(bases.length > 0, 'clean stored the changed tensor as a delta');
  assert.ok(bases.every((b) => v1.includes(b)), 'against the previous version');
  const push = src.tryGit('push');
  assert.equal(push.status, 0, push.stderr);
  const onFresh = storageIds(fresh);
  for (const b of bases) assert.ok(onFresh.includes(b), `base ${b} went along`);
  assert.ok(!chunksAt(src.dir, env, 'HEAD:a.onnx').includes(bases[0]), 'although no pushed pointer names it');

  // A clone that only knows the new storage checks the new version out.
  const c = clone(`mgit::${bare}`, env, ['-c', `remote.origin.mgitStorage=${fresh}`]);
  assert.equal(c.status, 0, c.stderr);
  sameFile(c.dir, 'a.onnx', changeTensor(A, A_OPTS, 0, 9));
});

test('a push whose chunk is missing locally is refused for that ref, and the remote ref does not move', () => {
  const env = userEnv();
  const bare = bareRepo(env);
  const src = makeSource(env, { 'a.onnx': A });
  src.git('remote', 'add', 'origin', `mgit::${bare}`);
  assert.equal(src.tryGit('push', '-u', 'origin', 'main').status, 0);
  const before = remoteRefs(bare, env).get('refs/heads/main');

  src.git('checkout', '-q', '-b', 'bad');
  src.write('b.onnx', B);
  src.commitAll('b');
  const lost = chunksAt(src.dir, env, 'HEAD:b.onnx').find((id) => !chunksAt(src.dir, env, 'main:a.onnx').includes(id))!;
  src.git('checkout', '-q', 'main'); // (b.onnx leaves the work tree, so nothing can clean it again)
  fs.rmSync(path.join(src.store, 'objects', lost.slice(0, 2), lost.slice(2)));
  src.write('c.onnx', C);
  src.commitAll('c');

  const r = src.tryGit('push', 'origin', 'main', 'bad');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, new RegExp(`bad -> bad \\(mgit: chunk ${lost} is not in the local store\\)`), r.stderr);
  assert.match(r.stderr, new RegExp(`chunk ${lost} \\(needed by b.onnx\\)`));
  const refs = remoteRefs(bare, env);
  assert.equal(refs.has('refs/heads/bad'), false, 'the refused ref was not created');
  assert.notEqual(refs.get('refs/heads/main'), before, 'the other ref moved');
  assert.equal(refs.get('refs/heads/main'), src.git('rev-parse', 'main').trim());
  assert.equal(storageIds(path.join(bare, 'mgit-chunks')).includes(lost), false);

  // pushing only the bad ref: refused, nothing moves
  const r2 = src.tryGit('push', 'origin', 'bad');
  assert.notEqual(r2.status, 0);
  assert.equal(remoteRefs(bare, env).has('refs/heads/bad'), false);
});

test('forced updates, deletions, --dry-run and --atomic pass through the helper with git\'s own outcomes', () => {
  const env = userEnv();
  const bare = bareRepo(env);
  const storage = path.join(bare, 'mgit-chunks');
  const src = makeSource(env, { 'a.onnx': A });
  src.git('remote', 'add', 'origin', `mgit::${bare}`);
  assert.equal(src.tryGit('push', '-u', 'origin', 'main', 'main:refs/heads/feature').status, 0);
  const before = storageIds(storage);

  src.write('b.onnx', B);
  src.commitAll('b');
  const dry = src.tryGit('push', '--dry-run', 'origin', 'main');
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stderr, /would upload \d+ chunk object/);
  assert.deepEqual(storageIds(storage), before, 'a dry run uploads nothing');
  assert.notEqual(remoteRefs(bare, env).get('refs/heads/main'), src.git('rev-parse', 'HEAD').trim());

  src.git('commit', '-q', '--amend', '-m', 'b, reworded');
  const amended = src.git('rev-parse', 'HEAD').trim();
  assert.equal(src.tryGit('push', 'origin', 'main').status, 0);
  src.git('commit', '-q', '--amend', '-m', 'b, reworded again');
  const rejected = src.tryGit('push', 'origin', 'main');
  assert.notEqual(rejected.status, 0);
  assert.match(rejected.stderr, /\[rejected\] +main -> main \(non-fast-forward\)/);
  assert.equal(remoteRefs(bare, env).get('refs/heads/main'), amended);
  const forced = src.tryGit('push', '--force', 'origin', 'main');
  assert.equal(forced.status, 0, forced.stderr);
  assert.match(forced.stderr, /\+ \S+\.\.\.\S+ main -> main \(forced update\)/);
  assert.equal(remoteRefs(bare, env).get('refs/heads/main'), src.git('rev-parse', 'HEAD').trim());

  const atomic = src.tryGit('push', '--atomic', 'origin', 'main:refs/heads/other', ':refs/heads/feature');
  assert.equal(atomic.status, 0, atomic.stderr);
  const refs = remoteRefs(bare, env);
  assert.equal(refs.has('refs/heads/feature'), false, 'deleted');
  assert.equal(refs.get('refs/heads/other'), src.git('rev-parse', 'HEAD').trim());
});

test('a helper killed mid-upload moves no ref; pushing again uploads only what is missing and clones check out byte-exact', () => {
  const env = userEnv();
  const bare = bareRepo(env);
  const storage = path.join(bare, 'mgit-chunks');
  const big = mlpModel({ seed: 9, layers: 12, width: 32 });
  const src = makeSource(env, { 'big.onnx': big, 'a.onnx': A });
  src.git('config', 'mgit.transfers', '2');
  src.git('remote', 'add', 'origin', `mgit::${bare}`);
  const total = union(chunksAt(src.dir, env, 'HEAD:big.onnx'), chunksAt(src.dir, env, 'HEAD:a.onnx')).length;

  const killed = run('git', ['push', '-u', 'origin', 'main'], { cwd: src.dir, env: { ...env, MGIT_TEST_KILL_AFTER_UPLOADS: '5' } });
  assert.notEqual(killed.status, 0, 'git reports the dead helper');
  assert.equal(remoteRefs(bare, env).size, 0, 'no ref moved');
  const partial = storageIds(storage).length;
  assert.ok(partial >= 5 && partial < total, `${partial} of ${total} objects made it before the kill`);

  const again = src.tryGit('push', '-u', 'origin', 'main');
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, new RegExp(`uploaded ${total - partial} chunk object\\(s\\).*; ${partial} already there`));
  assert.equal(storageIds(storage).length, total);
  const c = clone(`mgit::${bare}`, env);
  assert.equal(c.status, 0, c.stderr);
  sameFile(c.dir, 'big.onnx', big);
  sameFile(c.dir, 'a.onnx', A);
});

test('a chunk corrupted on storage is named; the rest of the checkout completes; git archive fails with the same message', () => {
  const env = userEnv();
  const bare = bareRepo(env);
  const storage = path.join(bare, 'mgit-chunks');
  const src = makeSource(env, { 'a.onnx': A, 'b.onnx': B, 'c.onnx': C });
  src.git('remote', 'add', 'origin', `mgit::${bare}`);
  assert.equal(src.tryGit('push', '-u', 'origin', 'main').status, 0);
  const others = union(chunksAt(src.dir, env, 'HEAD:a.onnx'), chunksAt(src.dir, env, 'HEAD:c.onnx'));
  const bad = chunksAt(src.dir, env, 'HEAD:b.onnx').filter((id) => !others.includes(id)).sort()[0];
  const file = path.join(storage, 'objects', bad.slice(0, 2), bad.slice(2));
  fs.chmodSync(file, 0o644);
  const bytes = fs.readFileSync(file);
  bytes[bytes.length - 1] ^= 0xff;
  fs.writeFileSync(file, bytes);

  const c = clone(`mgit::${bare}`, env);
  assert.notEqual(c.status, 0, 'git says the checkout is incomplete');
  const named = new RegExp(`b\\.onnx: chunk ${bad} on storage ${storage.replace(/[/.]/g, '\\$&')} is corrupt`);
  assert.match(c.stderr, named);
  assert.match(c.stderr, /left out of this checkout/);
  sameFile(c.dir, 'a.onnx', A);
  sameFile(c.dir, 'c.onnx', C);
  assert.equal(fs.existsSync(path.join(c.dir, 'b.onnx')), false, 'the damaged model is not written');

  // git archive allows no delay: the download runs synchronously and the archive fails, naming the chunk.
  const pointers = clone(`mgit::${bare}`, { ...env, GIT_MGIT_SKIP_SMUDGE: '1' });
  assert.equal(pointers.status, 0, pointers.stderr);
  const archive = run('git', ['archive', '--format=tar', '-o', path.join(tempDir('tar'), 'x.tar'), 'HEAD'], { cwd: pointers.dir, env });
  assert.notEqual(archive.status, 0);
  assert.match(archive.stderr, named);
  assert.match(archive.stderr, /smudge filter mgit failed/);
});

test('git archive in a bare clone downloads the chunks synchronously; a filter with no repository exits instead of hanging git', async () => {
  const env = userEnv();
  const bare = bareRepo(env);
  const src = makeSource(env, { 'models/a.onnx': A, 'models/b.onnx': B });
  src.git('remote', 'add', 'origin', `mgit::${bare}`);
  assert.equal(src.tryGit('push', '-u', 'origin', 'main').status, 0);

  // A bare repository has no work tree: the filter must still find the repository and its storage.
  const c = clone(`mgit::${bare}`, env, ['--bare']);
  assert.equal(c.status, 0, c.stderr);
  const out = tempDir('untar');
  const archive = run('git', ['archive', '--format=tar', '-o', path.join(out, 'x.tar'), 'HEAD'], { cwd: c.dir, env, timeout: 60_000 });
  assert.equal(archive.status, 0, archive.stderr);
  assert.equal(run('tar', ['-xf', 'x.tar'], { cwd: out, env }).status, 0);
  sameFile(out, 'models/a.onnx', A);
  sameFile(out, 'models/b.onnx', B);

  // A filter that cannot start after the handshake (here: no repository) must exit, since git keeps
  // the pipe open and would wait for it forever.
  const nowhere = tempDir('norepo');
  const child = spawn('git-mgit', ['filter-process'], { cwd: nowhere, env: { ...env, GIT_CEILING_DIRECTORIES: path.dirname(nowhere) } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  child.stdin.write(Buffer.concat([...['git-filter-client\n', 'version=2\n'].map(pkt), Buffer.from('0000'), ...['capability=clean\n', 'capability=smudge\n'].map(pkt), Buffer.from('0000')]));
  // stdin stays open, as git keeps it
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(null);
    }, 30_000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  assert.notEqual(code, null, 'the filter process hung with git\'s pipe open');
  assert.notEqual(code, 0);
  assert.match(stderr, /not in a git repository/);
});

function pkt(text: string): Buffer {
  return Buffer.from((text.length + 4).toString(16).padStart(4, '0') + text);
}

test('plain remotes: the pre-push hook uploads chunks before git moves refs, and refuses the push when it cannot', () => {
  const env = userEnv();
  const bare = bareRepo(env);
  const src = makeSource(env, { 'a.onnx': A });
  src.git('remote', 'add', 'origin', bare);
  const push = src.tryGit('push', '-u', 'origin', 'main');
  assert.equal(push.status, 0, push.stderr);
  assert.deepEqual(storageIds(path.join(bare, 'mgit-chunks')), union(chunksAt(src.dir, env, 'HEAD:a.onnx')));
  const c = clone(bare, env);
  assert.equal(c.status, 0, c.stderr);
  sameFile(c.dir, 'a.onnx', A);

  // storage that cannot be written: the hook refuses, and git sends nothing
  const before = remoteRefs(bare, env).get('refs/heads/main');
  src.git('config', 'remote.origin.mgitStorage', path.join(tempDir('gone'), 'not-mounted', 'chunks'));
  src.write('b.onnx', B);
  src.commitAll('b');
  const refused = src.tryGit('push');
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /cannot create storage .*not-mounted.* does not exist \(is the share mounted\?\)/);
  assert.match(refused.stderr, /push refused/);
  assert.equal(remoteRefs(bare, env).get('refs/heads/main'), before);
});

test('git mgit push and fetch move chunks for scripts and prefetching', () => {
  const env = userEnv();
  const bare = bareRepo(env);
  const storage = path.join(bare, 'mgit-chunks');
  const src = makeSource(env, { 'models/a.onnx': A, 'models/b.onnx': B });
  src.git('remote', 'add', 'origin', bare);
  assert.equal(src.tryGit('push', '--no-verify', '-u', 'origin', 'main').status, 0);
  assert.deepEqual(storageIds(storage), [], '--no-verify pushed pointers only');

  const dry = JSON.parse(src.mgit('push', '--all', '--dry-run', '--json'));
  const all = union(chunksAt(src.dir, env, 'HEAD:models/a.onnx'), chunksAt(src.dir, env, 'HEAD:models/b.onnx'));
  assert.equal(dry.uploaded, all.length);
  assert.deepEqual(storageIds(storage), []);
  const up = JSON.parse(src.mgit('push', 'origin', '--all', '--json'));
  assert.equal(up.uploaded, all.length);
  assert.equal(up.storage, storage);
  assert.deepEqual(storageIds(storage), all);
  assert.equal(JSON.parse(src.mgit('push', '--all', '--json')).uploaded, 0, 'nothing twice');

  const c = clone(bare, { ...env, GIT_MGIT_SKIP_SMUDGE: '1' });
  assert.equal(c.status, 0, c.stderr);
  const mgit = (...args: string[]) => run('git', ['mgit', ...args], { cwd: c.dir, env });
  const one = JSON.parse(mgit('fetch', 'origin', 'models/a.onnx', '--json').stdout);
  assert.equal(one.fetched, chunksAt(c.dir, env, 'HEAD:models/a.onnx').length);
  assert.match(mgit('ls-files').stdout, /\* models\/a\.onnx[\s\S]*- models\/b\.onnx/);
  const rest = mgit('fetch');
  assert.equal(rest.status, 0, rest.stderr);
  assert.match(rest.stdout, /fetched \d+ chunk object/);
  assert.match(mgit('fetch').stdout, /already local/);
  assert.equal(mgit('checkout').status, 0);
  sameFile(c.dir, 'models/a.onnx', A);
  sameFile(c.dir, 'models/b.onnx', B);
  assert.equal(run('git', ['status', '--porcelain'], { cwd: c.dir, env }).stdout, '');
});

test('.mgitconfig names the storage for every clone over any URL; git config overrides it', () => {
  const env = userEnv();
  const bare = bareRepo(env);
  const shared = path.join(tempDir('team'), 'chunks');
  fs.mkdirSync(path.dirname(shared), { recursive: true });
  const src = makeSource(env, { 'a.onnx': A, '.mgitconfig': Buffer.from(`[mgit]\n\tstorage = ${shared}\n`) });
  src.git('remote', 'add', 'origin', `mgit::file://${bare}`);
  assert.equal(src.tryGit('push', '-u', 'origin', 'main').status, 0);
  assert.deepEqual(storageIds(shared), union(chunksAt(src.dir, env, 'HEAD:a.onnx')));
  assert.equal(fs.existsSync(path.join(bare, 'mgit-chunks')), false, 'the default was not used');

  for (const url of [`mgit::file://${bare}`, `file://${bare}`]) {
    const c = clone(url, env);
    assert.equal(c.status, 0, `${url}: ${c.stderr}`);
    sameFile(c.dir, 'a.onnx', A);
  }

  const other = path.join(tempDir('mine'), 'chunks');
  src.git('config', 'remote.origin.mgitStorage', other);
  src.write('b.onnx', B);
  src.commitAll('b');
  assert.equal(src.tryGit('push').status, 0);
  assert.ok(storageIds(other).length > 0, 'git config overrides .mgitconfig');
});

test('an insteadOf rule that would make the helper call itself is refused, not recursed', () => {
  const env = userEnv();
  const bare = bareRepo(env);
  const src = makeSource(env, { 'a.onnx': A });
  src.git('config', `url.mgit::${bare}.insteadOf`, bare);
  src.git('remote', 'add', 'origin', bare);
  const r = src.tryGit('push', 'origin', 'main');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /Refusing to recurse/);
  assert.equal(remoteRefs(bare, env).size, 0);
});

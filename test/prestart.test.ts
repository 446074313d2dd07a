// Prestarted filter processes (src/prestart.ts, bin/git-mgit): git's filter-process invocations are
// handed to a process that waits with mgit loaded. These tests drive real git commands and check that
// such a process behaves exactly like one git started (environment, working directory, stderr, exit
// codes), and that nothing it can get into (killed, stale, switched off) makes git hang or fail.
// Each test has its own pool (XDG_RUNTIME_DIR), so that tests running at once do not share processes.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { PROJECT, run, tempDir, testEnv, TestRepo } from './helpers/git-repo.js';
import { mlpModel } from './helpers/onnx-builder.js';

const pools: string[] = [];

// the processes of these pools would otherwise wait for their idle time-out (and write into the
// folders the test helpers remove)
after(() => killPools(pools));

/** Every process whose command line names one of the pools, in whatever phase it is. */
function killPools(which: string[]): void {
  for (const pid of livePids(which)) kill(pid);
}

/** Live (not zombie) prestarted processes of these pools. */
function livePids(which: string[]): number[] {
  const out: number[] = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes('__prestart') || !which.some((p) => cmd.includes(p))) continue;
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
      if (!/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3))) out.push(Number(pid));
    } catch {
      // gone
    }
  }
  return out;
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A repository whose git commands use a pool of their own, traced to a file. */
function setup(extra: NodeJS.ProcessEnv = {}): { repo: TestRepo; pool: string; trace: string; model: Buffer } {
  const runtime = tempDir('runtime');
  const pool = path.join(runtime, 'mgit-prestart');
  pools.push(pool);
  const trace = path.join(tempDir('trace'), 'trace.log');
  const repo = TestRepo.create({ env: testEnv({ XDG_RUNTIME_DIR: runtime, MGIT_TRACE: trace, MGIT_PRESTART_IDLE: '120', ...extra }) });
  const model = mlpModel({ seed: 11, layers: 3, width: 32 });
  repo.write('m.onnx', model);
  repo.commitAll('model');
  return { repo, pool, trace, model };
}

function poolPids(pool: string, pattern: RegExp): number[] {
  try {
    return fs
      .readdirSync(pool)
      .filter((n) => pattern.test(n))
      .map((n) => Number(n.slice(n.lastIndexOf('.') + 1)));
  } catch {
    return [];
  }
}

/** Waits until the pool has a (live) process waiting; returns the pids that wait. */
function waitReady(pool: string, count = 1): number[] {
  for (let i = 0; i < 300; i++) {
    const pids = poolPids(pool, /^ready\.\d+$/).filter((p) => fs.existsSync(`/proc/${p}/fd/0`));
    if (pids.length >= count) return pids;
    sleep(50);
  }
  assert.fail(`no prestarted process became ready in ${pool}`);
}

function servedCount(trace: string): number {
  if (!fs.existsSync(trace)) return 0;
  return fs.readFileSync(trace, 'utf8').split('\n').filter((l) => l.includes('prestarted process')).length;
}

function tryCheckoutAgain(repo: TestRepo, env = repo.env): ReturnType<typeof run> {
  fs.rmSync(repo.path('m.onnx'));
  return run('git', ['checkout', '--', 'm.onnx'], { cwd: repo.dir, env, timeout: 60_000 });
}

test('git commands after the first are served by a waiting process, with their own environment', () => {
  const { repo, pool, trace, model } = setup();
  waitReady(pool);
  const before = servedCount(trace);
  let r = tryCheckoutAgain(repo);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(repo.read('m.onnx').equals(model), 'the model is rebuilt byte for byte');
  assert.ok(servedCount(trace) > before, 'a prestarted process served the checkout');
  let served = servedCount(trace);
  assert.equal(repo.status(), '');
  // The job's environment, not the one the process was started with: GIT_MGIT_SKIP_SMUDGE is read from it.
  waitReady(pool);
  r = tryCheckoutAgain(repo, { ...repo.env, GIT_MGIT_SKIP_SMUDGE: '1' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(repo.read('m.onnx').toString('latin1', 0, 20), /^mgit-pointer v1/, 'the pointer, as asked');
  assert.ok(servedCount(trace) > served);
  served = servedCount(trace);
  // and the process serves again: a clean of a changed model from a subfolder of the work tree
  waitReady(pool);
  const changed = mlpModel({ seed: 12, layers: 3, width: 32 });
  repo.write('sub/n.onnx', changed);
  const add = run('git', ['add', 'n.onnx'], { cwd: repo.path('sub'), env: repo.env, timeout: 60_000 });
  assert.equal(add.status, 0, add.stderr);
  assert.match(repo.git('show', ':sub/n.onnx'), /^mgit-pointer v1/);
  assert.ok(servedCount(trace) > served);
});

test('a prestarted filter serves a linked worktree and a -c setting: the launcher asks git for both', () => {
  // The launcher (bin/git-mgit) asks git where the repository is and for its settings, in git's
  // environment and directory, and hands the answers over: a worktree's store is the common one.
  const { repo, pool, trace, model } = setup();
  const wt = path.join(tempDir('wt'), 'wt');
  repo.git('worktree', 'add', '-q', wt);
  assert.ok(fs.readFileSync(path.join(wt, 'm.onnx')).equals(model));
  waitReady(pool);
  let before = servedCount(trace);
  fs.rmSync(path.join(wt, 'm.onnx'));
  let r = run('git', ['checkout', '--', 'm.onnx'], { cwd: wt, env: repo.env, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(fs.readFileSync(path.join(wt, 'm.onnx')).equals(model), 'rebuilt from the common store');
  assert.ok(servedCount(trace) > before, 'by a prestarted process');
  assert.deepEqual(fs.readdirSync(path.join(repo.dir, '.git', 'worktrees', 'wt')).filter((n) => n === 'mgit'), [], 'no store of its own');
  // a setting given on git's command line reaches the job
  waitReady(pool);
  before = servedCount(trace);
  fs.rmSync(path.join(wt, 'm.onnx'));
  r = run('git', ['-c', 'mgit.skipSmudge=true', 'checkout', '--', 'm.onnx'], { cwd: wt, env: repo.env, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(fs.readFileSync(path.join(wt, 'm.onnx'), 'latin1').slice(0, 20), /^mgit-pointer v1/);
  assert.ok(servedCount(trace) > before);
});

test('git commands back to back keep the pool at two processes: one in a job still counts', () => {
  const { repo, pool, model, trace } = setup();
  waitReady(pool, 2);
  for (let i = 0; i < 8; i++) {
    const r = tryCheckoutAgain(repo);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(repo.status(), ''); // a second command at once, while the first process tidies up
  }
  assert.ok(repo.read('m.onnx').equals(model));
  sleep(1500); // any process started meanwhile has made its folder
  const live = livePids([pool]);
  const started = fs.readFileSync(trace, 'utf8').split('\n').filter((l) => l.includes('prestart:'));
  assert.ok(live.length <= 2, `${live.length} processes in the pool: ${fs.readdirSync(pool).join(' ')}\n${started.join('\n')}`);
});

test("a prestarted filter's errors reach git's stderr, whether it is a socket or a file", () => {
  const { repo, pool, trace } = setup();
  // lose the chunks: the checkout must fail and say which chunk is missing
  fs.rmSync(path.join(repo.store, 'objects'), { recursive: true, force: true });
  waitReady(pool);
  let before = servedCount(trace);
  const viaSocket = tryCheckoutAgain(repo); // spawnSync gives git a socket for stderr
  assert.notEqual(viaSocket.status, 0);
  assert.match(viaSocket.stderr, /mgit: m\.onnx: chunk [0-9a-f]{64} is not in the local store/);
  assert.ok(servedCount(trace) > before);
  waitReady(pool);
  before = servedCount(trace);
  const log = path.join(tempDir('stderr'), 'err.log');
  const fd = fs.openSync(log, 'w');
  try {
    const r = run('git', ['checkout', '--', 'm.onnx'], { cwd: repo.dir, env: repo.env, stdio: ['ignore', 'pipe', fd], timeout: 60_000 });
    assert.notEqual(r.status, 0);
  } finally {
    fs.closeSync(fd);
  }
  assert.match(fs.readFileSync(log, 'utf8'), /mgit: m\.onnx: chunk [0-9a-f]{64} is not in the local store/);
  assert.ok(servedCount(trace) > before);
});

test('a waiting process that was killed does not make git hang; the pool recovers', () => {
  const { repo, pool, trace, model } = setup();
  const pids = waitReady(pool, 2);
  killPools([pool]); // and any other of this pool, so that no live one is left
  sleep(100);
  const r = tryCheckoutAgain(repo);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(repo.read('m.onnx').equals(model));
  // that command went without them, and started new ones, which serve the next
  const fresh = waitReady(pool);
  assert.ok(fresh.every((p) => !pids.includes(p)), `killed ${pids}, waiting now ${fresh}`);
  const before = servedCount(trace);
  assert.equal(tryCheckoutAgain(repo).status, 0);
  assert.ok(servedCount(trace) > before);
});

test('a process of an older build gives way, and git goes on with the new build', () => {
  const { repo, pool, model } = setup();
  const pids = waitReady(pool, 2);
  const cli = path.join(PROJECT, 'dist', 'src', 'cli.js');
  const now = new Date();
  fs.utimesSync(cli, now, new Date(now.getTime() + 1000)); // as a rebuild leaves it
  const r = tryCheckoutAgain(repo);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(repo.read('m.onnx').equals(model));
  sleep(300);
  const left = poolPids(pool, /^ready\./).filter((p) => pids.includes(p));
  assert.ok(left.length < pids.length, 'the stale process that was asked exited');
});

test('mgit.prestart=false starts no processes; MGIT_PRESTART=0 leaves waiting ones alone', () => {
  const off = setup();
  off.repo.git('config', 'mgit.prestart', 'false');
  waitReady(off.pool, 2); // the ones the first commit started
  killPools([off.pool]);
  sleep(200);
  fs.rmSync(off.pool, { recursive: true, force: true, maxRetries: 5 });
  off.repo.write('m.onnx', mlpModel({ seed: 13, layers: 3, width: 32 }));
  off.repo.commitAll('changed');
  sleep(1500);
  assert.deepEqual(poolPids(off.pool, /^(ready|new)\./), []);

  const { repo, pool, trace } = setup();
  const pids = waitReady(pool, 2);
  const before = servedCount(trace);
  const r = tryCheckoutAgain(repo, { ...repo.env, MGIT_PRESTART: '0' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(servedCount(trace), before, 'Node was started for it instead');
  const still = poolPids(pool, /^ready\./);
  assert.ok(pids.every((p) => still.includes(p)), 'the waiting ones were not taken');
});

test('an idle process exits after MGIT_PRESTART_IDLE seconds and removes its folder', () => {
  const { pool } = setup({ MGIT_PRESTART_IDLE: '1' });
  const pids = waitReady(pool);
  for (let i = 0; i < 100 && poolPids(pool, /^(ready|new)\./).length; i++) sleep(100);
  assert.deepEqual(poolPids(pool, /^(ready|new|dead)\./), []);
  for (const pid of pids) assert.equal(fs.existsSync(`/proc/${pid}/fd/0`), false, `process ${pid} exited`);
});

test('two git commands at once are each served, by different processes', async () => {
  const a = setup();
  const b = setup();
  // one pool for both repositories
  const env = (r: TestRepo) => ({ ...r.env, XDG_RUNTIME_DIR: path.dirname(a.pool) });
  const runAsync = (r: TestRepo) =>
    new Promise<number>((resolve) => {
      fs.rmSync(r.path('m.onnx'));
      const child = spawn('git', ['checkout', '--', 'm.onnx'], { cwd: r.dir, env: env(r), stdio: 'ignore' });
      child.on('close', (code) => resolve(code ?? 1));
    });
  waitReady(a.pool, 2);
  const codes = await Promise.all([runAsync(a.repo), runAsync(b.repo)]);
  assert.deepEqual(codes, [0, 0]);
  assert.ok(a.repo.read('m.onnx').equals(a.model));
  assert.ok(b.repo.read('m.onnx').equals(b.model));
});

// Prestarted filter processes. git starts `git-mgit filter-process` for every add, commit, status and
// checkout, and a Node process needs 70-90 ms to start and load mgit before it can answer git's
// handshake: more than cleaning or rebuilding a small model takes, and seven times git-lfs's start.
// So mgit keeps a process started ahead of time, its modules loaded, waiting in a per-user pool.
// bin/git-mgit, started by git, hands its filter-process invocation to a waiting process instead of
// starting Node (a rename, two FIFO writes and a read: a few milliseconds). The waiting process takes
// over the launcher's stdin and stdout, git's pipes, through /proc/<pid>/fd (Linux; the launcher keeps copies of its fds 0-2 at 4-6 while it waits); its
// environment, working directory and umask are read from /proc too, so it runs exactly as a process
// git had started would. A process serves one invocation at a time; between them it lets go of git's
// pipes and the job's environment and waits again, so its compiled code stays warm from one git
// command to the next (no start-up at all, where a process per command would pay it again in the
// background). State of a job lives in the objects of that job (Repo, stores, caches), never in the
// process. It makes way for a fresh process after MAX_JOBS jobs, a failed job, a new build of mgit,
// or when it has grown large.
//
// Pool: $XDG_RUNTIME_DIR/mgit-prestart, else $TMPDIR/mgit-prestart-<uid> (mode 0700, owner checked
// on both sides). A waiting process has a folder `ready.<pid>` holding four FIFOs:
//   job   the launcher writes: its pid, the path of the launcher script, "proc" or "fifo" (whether
//         its stderr is opened through /proc: a terminal or pipe is; a socket cannot be, and a file
//         opened again would not share git's write position), one line each
//   done  the server answers "start" (it took the job), or "stale" (another install or build, or
//         another node on PATH) or "fallback" (it could not take git's pipes): then the launcher
//         starts Node itself. After "start": "exit <code>" when the filter ends.
//   err   the filter's stderr, when the launcher's own cannot be opened (the launcher copies it)
//   repo  the launcher writes git's answers about the repository and its settings here, asked from the
//         small shell while the server takes over (src/git/git.ts repoAndConfigAsync)
// The launcher claims a folder by renaming it to `claimed.<its pid>`: rename is atomic, so two
// launchers never take one process. An idle process un-readies itself the same way, so it never exits
// while a launcher is about to write to it.
//
// Off: MGIT_PRESTART=0 in the environment, or `git config mgit.prestart false` (no processes are
// started for that repository; waiting ones exit after mgit.prestartIdle... see docs/filter.md).

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import * as tty from 'node:tty';
import { fileURLToPath } from 'node:url';
import { deferCaEnv } from './ca-env.js';
import { clearPreset, presetRepoAndConfig } from './git/git.js';
import { releaseGarbage } from './store/release.js';
import { trace } from './trace.js';

/** Processes kept waiting: two, so that a git command whose hooks run git again finds a second one. */
const TARGET_READY = 2;
/** A waiting process exits after this long unused (MGIT_PRESTART_IDLE seconds). */
const DEFAULT_IDLE_S = 600;
/** After a launcher claimed us, its job must arrive within this time (else it died in between). */
const CLAIM_WAIT_MS = 30_000;

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The launcher script of this installation, and the file whose change means a new build. */
const LAUNCHER = path.resolve(HERE, '../../bin/git-mgit');
const BUILD_FILE = path.join(HERE, 'cli.js');
const ENTRY = path.resolve(HERE, '../../bin/git-mgit.mjs');

export function prestartEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return process.platform === 'linux' && env.MGIT_PRESTART !== '0' && typeof process.getuid === 'function';
}

/** The pool folder, as bin/git-mgit computes it. */
export function poolDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_RUNTIME_DIR) return path.join(env.XDG_RUNTIME_DIR, 'mgit-prestart');
  return path.join(env.TMPDIR || '/tmp', `mgit-prestart-${process.getuid!()}`);
}

/** Creates the pool folder, or checks that the existing one is ours and private. */
function ensurePool(pool: string): boolean {
  try {
    fs.mkdirSync(pool, { recursive: true, mode: 0o700 });
    const st = fs.statSync(pool);
    return st.isDirectory() && st.uid === process.getuid!() && (st.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

function buildStamp(): number {
  try {
    return fs.statSync(BUILD_FILE).mtimeMs;
  } catch {
    return -1;
  }
}

/** Set in a process that was started ahead of time and then took a job. */
let prestarted = false;
/** Whether the job's repository allows processes to be started ahead (mgit.prestart). */
let refill = true;

/**
 * Called by the filter once it knows its repository. A process started by git directly fills the
 * pool at once (git's next command should find one); a prestarted one starts its replacement after it
 * has answered git, so that the replacement's start-up does not compete with it for the CPU.
 */
export function filterStarted(allowed: boolean): void {
  refill = allowed;
  if (allowed && !prestarted) fillPool();
}

/**
 * Starts waiting processes until TARGET_READY wait (or are starting). Never fails the caller.
 */
export function fillPool(env: NodeJS.ProcessEnv = process.env): void {
  try {
    if (!prestartEnabled(env)) return;
    const pool = poolDir(env);
    if (!ensurePool(pool)) return;
    removeDeadEntries(pool);
    const names = fs.readdirSync(pool);
    if (names.includes('fallback')) {
      // a process could not take git's pipes here (no /proc access?): starting more would only cost CPU
      const age = Date.now() - fs.statSync(path.join(pool, 'fallback')).mtimeMs;
      if (age < 3600_000) return;
      fs.rmSync(path.join(pool, 'fallback'), { force: true });
    }
    // a process claimed or serving a job will wait again: counting only the waiting ones grew the pool
    // by one each time git's next command came while another process was still in a job
    const waiting = names.filter((n) => /^(ready|new|claimed|busy)\./.test(n)).length;
    const childEnv: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(env)) if (!k.startsWith('GIT_')) childEnv[k] = v;
    // glibc serves a freed buffer's size from its heap from then on, and keeps the heap: a process that
    // had rebuilt digits held 222 MB idle. A fixed threshold maps every buffer over 128 KiB apart and
    // gives it back when freed (117-125 MB idle). The price is a page fault per 4 KiB of every new
    // buffer over 128 KiB (a digits checkout's worker spent 190 of its 450 ms of CPU in the kernel then):
    // a checkout reuses its own buffers (store/recycle.ts).
    childEnv.MALLOC_MMAP_THRESHOLD_ ??= '131072';
    if (waiting < TARGET_READY) trace(`prestart: ${names.filter((n) => !n.startsWith('dead.')).join(' ') || 'an empty pool'}: starting ${TARGET_READY - waiting}`);
    for (let i = waiting; i < TARGET_READY; i++) {
      const child = spawn(process.execPath, ['--expose-gc', ENTRY, '__prestart', pool], { detached: true, stdio: 'ignore', env: childEnv, cwd: '/' });
      child.on('error', () => undefined);
      child.unref();
      // counted as starting by a git command that comes before the process has made its folder
      if (child.pid) fs.mkdirSync(path.join(pool, `new.${child.pid}`), { recursive: true, mode: 0o700 });
    }
  } catch {
    // an optimisation only
  }
}

/** `git-mgit __prestart <pool>`: wait in the pool and serve filter-process invocations, one at a time. */
export async function serve(pool: string): Promise<number> {
  if (!prestartEnabled() || !ensurePool(pool)) return 1;
  const stamp = buildStamp();
  removeDeadEntries(pool, true);
  // Load what the filter needs now, while nobody waits.
  const [{ main }] = await Promise.all([
    import('./cli.js'),
    import('./commands/filter-process.js'),
    import('./filter/clean.js'),
    import('./filter/smudge.js'),
    import('./store/encoder.js'),
    import('./store/bases.js'),
    import('./git/cat-file.js'),
    import('./lineage/parents.js'),
  ]);
  await warmUp(pool);
  releaseGarbage(); // the warm-up's models are not held while the process waits
  const own = { env: { ...process.env }, umask: process.umask() };
  const std = (['stdin', 'stdout', 'stderr'] as const).map((name) => [name, Object.getOwnPropertyDescriptor(process, name)!] as const);
  // While a job runs, its end (also through process.exit in the filter) is reported to its launcher.
  let current: ((code: number) => void) | undefined;
  process.on('exit', (code) => current?.(code));
  process.on('uncaughtException', (e) => {
    if (current) process.stderr.write(`mgit: internal error: ${e.stack ?? e}\n`);
    process.exit(70);
  });
  const busy = path.join(pool, `busy.${process.pid}`);
  for (let served = 0; served < MAX_JOBS; served++) {
    const entry = makeEntry(pool);
    // counted as busy until it is ready again (its garbage collection and new FIFOs take a while)
    fs.rmSync(busy, { recursive: true, force: true });
    if (!entry) break;
    if (served > 0 && refill) fillPool(); // after a job: one of the pool may have exited meanwhile
    const job = await waitForJob(entry.jobFd, pool, entry.ready);
    if (!job) break;
    // counted by fillPool while this job runs, as the claimed folder was until now
    fs.mkdirSync(busy, { recursive: true, mode: 0o700 });
    // the launcher opened its FIFOs before it wrote the job: the folder has served its purpose
    fs.rmSync(path.join(pool, `claimed.${job.pid}`), { recursive: true, force: true });
    const answer = (line: string) => writeAll(entry.doneFd, Buffer.from(`${line}\n`));
    const launcher = launcherOf(job.pid);
    if (!launcher || !sameInstall(job, launcher, stamp)) {
      answer('stale');
      break;
    }
    let taken: Taken;
    try {
      taken = take(job, launcher, entry.errFd);
    } catch (e) {
      answer('fallback');
      // Not allowed to open another process's files here (a hardened /proc): starting more would only
      // cost CPU. A launcher that was gone before its pipes were opened (killed) says nothing of that.
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') {
        try {
          fs.writeFileSync(path.join(pool, 'fallback'), '');
        } catch {
          // the pool is going away
        }
      }
      break;
    }
    answer('start');
    prestarted = true;
    let reported = false;
    current = (code) => {
      if (reported) return;
      reported = true;
      try {
        answer(`exit ${code}`);
      } catch {
        // the launcher is gone: git was killed
      }
    };
    const streams = become(taken);
    const repoInfo = new net.Socket({ fd: entry.repoFd, readable: true, writable: false });
    presetRepoAndConfig(taken.cwd, readToEnd(repoInfo));
    trace(`filter-process: prestarted process ${process.pid} serves launcher ${job.pid} (job ${served + 1})`);
    const code = await main(['filter-process']);
    clearPreset();
    repoInfo.destroy();
    await new Promise<void>((resolve) => {
      streams.stdout.end(() => resolve());
      streams.stdout.once('error', () => resolve());
    });
    current(code);
    current = undefined;
    // Back to a process that serves nobody: git's pipes and the job's environment are let go.
    for (const [name, d] of std) Object.defineProperty(process, name, d);
    streams.stdin.destroy();
    streams.stdout.destroy();
    streams.stderr.destroy();
    closeQuietly(entry.errFd); // the launcher's copier (stderr through the FIFO) ends at EOF
    closeQuietly(entry.doneFd);
    replaceEnv(own.env);
    process.chdir('/');
    process.umask(own.umask);
    // A job's buffers (the models it cleaned) go now, not when the next job allocates: collecting only
    // after a second idle let garbage of jobs back to back pile up (filter peak 500 MiB on the 1 GiB
    // model against 251 MiB).
    releaseGarbage();
    if (code !== 0 || buildStamp() !== stamp || process.memoryUsage.rss() > MAX_RSS) break;
  }
  process.exit(0);
}

/** Jobs one process serves before it makes way for a fresh one. */
const MAX_JOBS = 1000;
/** A process still this large after a job and a collection exits rather than wait (it would hold the memory). */
const MAX_RSS = 512 * 1024 * 1024;

interface Entry {
  ready: string;
  jobFd: number;
  doneFd: number;
  errFd: number;
  /** the launcher writes git's answers about the repository here (src/git/git.ts repoAndConfigAsync) */
  repoFd: number;
}

/** A new ready folder with fresh FIFOs (each job's launcher sees EOF on them when the job ends). */
function makeEntry(pool: string): Entry | undefined {
  const fresh = path.join(pool, `new.${process.pid}`);
  const ready = path.join(pool, `ready.${process.pid}`);
  try {
    fs.rmSync(fresh, { recursive: true, force: true });
    fs.mkdirSync(fresh, { mode: 0o700 });
    const mk = spawnSync('mkfifo', ['-m', '600', 'job', 'done', 'err', 'repo'], { cwd: fresh, stdio: 'ignore' });
    if (mk.status !== 0) throw new Error('mkfifo failed');
    // Read-write opens of a FIFO never block, and keep it open whoever comes and goes.
    const jobFd = fs.openSync(path.join(fresh, 'job'), fs.constants.O_RDWR);
    const doneFd = fs.openSync(path.join(fresh, 'done'), fs.constants.O_RDWR);
    const errFd = fs.openSync(path.join(fresh, 'err'), fs.constants.O_RDWR);
    // read-only, so that it ends when the launcher's writer does (non-blocking: nobody writes yet)
    const repoFd = fs.openSync(path.join(fresh, 'repo'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    fs.renameSync(fresh, ready);
    return { ready, jobFd, doneFd, errFd, repoFd };
  } catch {
    fs.rmSync(fresh, { recursive: true, force: true });
    return undefined;
  }
}

/** All a stream gives until its end; what came before an error (possibly nothing) after one. */
function readToEnd(stream: net.Socket): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    stream.on('data', (b: Buffer) => parts.push(b));
    stream.once('end', () => resolve(Buffer.concat(parts)));
    stream.once('close', () => resolve(Buffer.concat(parts)));
    stream.once('error', () => resolve(Buffer.concat(parts)));
  });
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed with its stream
  }
}

interface Job {
  pid: number;
  launcher: string;
  errMode: 'proc' | 'fifo';
}

interface Taken {
  env: NodeJS.ProcessEnv;
  cwd: string;
  umask?: number;
  stdin: number;
  stdout: number;
  stderr: number;
}

/** Waits for a launcher's job; undefined when idle too long (the folder is then gone). */
function waitForJob(jobFd: number, pool: string, ready: string): Promise<Job | undefined> {
  const idleMs = (Number(process.env.MGIT_PRESTART_IDLE) || DEFAULT_IDLE_S) * 1000;
  return new Promise((resolve) => {
    const sock = new net.Socket({ fd: jobFd, readable: true, writable: false });
    let text = '';
    let timer: NodeJS.Timeout;
    const finish = (job: Job | undefined) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(job);
    };
    const idle = () => {
      try {
        // un-ready first: a launcher that already renamed it is about to write its job
        const dead = path.join(pool, `dead.${process.pid}`);
        fs.renameSync(ready, dead);
        fs.rmSync(dead, { recursive: true, force: true });
        finish(undefined);
      } catch {
        timer = setTimeout(() => finish(undefined), CLAIM_WAIT_MS);
      }
    };
    timer = setTimeout(idle, idleMs);
    sock.on('data', (d: Buffer) => {
      text += d.toString('utf8');
      const lines = text.split('\n');
      if (lines.length < 4) return;
      const pid = Number(lines[0]);
      if (!Number.isInteger(pid) || pid <= 1) return finish(undefined);
      finish({ pid, launcher: lines[1], errMode: lines[2] === 'fifo' ? 'fifo' : 'proc' });
    });
    sock.on('error', () => finish(undefined));
  });
}

/** The launcher's environment and working directory, as git started it; undefined when it is gone. */
function launcherOf(pid: number): { env: NodeJS.ProcessEnv; cwd: string } | undefined {
  try {
    return { env: readEnviron(pid), cwd: fs.readlinkSync(`/proc/${pid}/cwd`) };
  } catch {
    return undefined;
  }
}

/** A launcher of this installation and build, whose PATH finds the node this process runs on. */
function sameInstall(job: Job, launcher: { env: NodeJS.ProcessEnv; cwd: string }, stamp: number): boolean {
  try {
    if (fs.realpathSync(path.resolve(launcher.cwd, job.launcher)) !== fs.realpathSync(LAUNCHER)) return false;
    if (buildStamp() !== stamp) return false;
    return whichNode(launcher.env.PATH ?? '', launcher.cwd) === fs.realpathSync(process.execPath);
  } catch {
    return false;
  }
}

function whichNode(pathVar: string, cwd: string): string | undefined {
  for (const d of pathVar.split(':')) {
    const f = path.resolve(cwd, d || '.', 'node');
    try {
      fs.accessSync(f, fs.constants.X_OK);
      if (fs.statSync(f).isFile()) return fs.realpathSync(f);
    } catch {
      // not here
    }
  }
  return undefined;
}

function readEnviron(pid: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const kv of fs.readFileSync(`/proc/${pid}/environ`).toString('utf8').split('\0')) {
    const eq = kv.indexOf('=');
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}

/** Everything that can fail, done before git's pipes are touched: on failure the launcher starts Node. */
function take(job: Job, launcher: { env: NodeJS.ProcessEnv; cwd: string }, errFifo: number): Taken {
  const { pid } = job;
  const { env, cwd } = launcher;
  deferCaEnv(env);
  const m = /^Umask:\s*([0-7]+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  const append = fs.constants.O_WRONLY | fs.constants.O_APPEND;
  const stdin = fs.openSync(`/proc/${pid}/fd/4`, fs.constants.O_RDONLY);
  const stdout = fs.openSync(`/proc/${pid}/fd/5`, append);
  const stderr = job.errMode === 'fifo' ? errFifo : fs.openSync(`/proc/${pid}/fd/6`, append);
  if (!fs.fstatSync(stdin).isFIFO() || !fs.fstatSync(stdout).isFIFO()) throw new Error('not git pipes');
  return { env, cwd, umask: m ? parseInt(m[1], 8) : undefined, stdin, stdout, stderr };
}

/** Turns this process into the one git would have started. */
function become(t: Taken): { stdin: net.Socket; stdout: net.Socket; stderr: Writable } {
  replaceEnv(t.env);
  process.chdir(t.cwd);
  if (t.umask !== undefined) process.umask(t.umask);
  const stdin = new net.Socket({ fd: t.stdin, readable: true, writable: false });
  const stdout = new net.Socket({ fd: t.stdout, readable: false, writable: true });
  const stderr = tty.isatty(t.stderr) ? new tty.WriteStream(t.stderr) : new SyncWriter(t.stderr);
  for (const [name, stream] of [
    ['stdin', stdin],
    ['stdout', stdout],
    ['stderr', stderr],
  ] as const) {
    Object.defineProperty(process, name, { configurable: true, enumerable: true, get: () => stream });
  }
  return { stdin, stdout, stderr };
}

/** Makes `env` this process's whole environment (the real one: the processes it starts inherit it). */
function replaceEnv(env: NodeJS.ProcessEnv): void {
  for (const k of Object.keys(process.env)) delete process.env[k];
  Object.assign(process.env, env);
}

/** stderr for files, pipes and FIFOs: written at once, like Node's own stderr, so nothing is lost at exit. */
class SyncWriter extends Writable {
  readonly isTTY = false;
  constructor(readonly fd: number) {
    super();
  }

  override _destroy(e: Error | null, cb: (e?: Error | null) => void): void {
    closeQuietly(this.fd);
    cb(e);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    try {
      writeAll(this.fd, chunk);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }
}

function writeAll(fd: number, b: Buffer): void {
  for (let o = 0; o < b.length; ) o += fs.writeSync(fd, b, o, b.length - o);
}

/** Ready folders left by processes that were killed (their FIFOs have no reader: a launcher would hang). */
function removeDeadEntries(pool: string, starting = false): void {
  let names: string[] = [];
  try {
    names = fs.readdirSync(pool);
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^(?:ready|new|busy|claimed|dead)\.(\d+)$/.exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    // our own pid on a ready folder: an earlier process with this pid died without removing it (a
    // `new.` folder of our pid is the placeholder our starter made for us: it counts us while we warm up)
    if ((starting && n.startsWith('ready.') && pid === process.pid) || !alive(pid)) {
      try {
        fs.rmSync(path.join(pool, n), { recursive: true, force: true });
      } catch {
        // another process removed it first
      }
    }
  }
}

/** A running process (a zombie, killed but not yet reaped, is not: its files are closed). */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/**
 * Runs clean and smudge on a small generated model a few times, in a scratch store, so that V8 has
 * compiled the hot paths (scanning, encoders, zstd calls, byte planes, hashing, pkt-lines) before a
 * git command waits on them: a cold process takes about twice as long over its first models.
 */
async function warmUp(pool: string): Promise<void> {
  const dir = path.join(pool, `warmup.${process.pid}`);
  try {
    const [{ ChunkStore }, { CleanCache }, { PointerIndex }, { cleanStream }, { reconstruct }, { parsePointer }, { PktWriter }, { exerciseTransforms }, { keepWarm }] = await Promise.all([
      import('./store/store.js'),
      import('./store/clean-cache.js'),
      import('./store/pointer-index.js'),
      import('./filter/clean.js'),
      import('./filter/smudge.js'),
      import('./codec/pointer.js'),
      import('./codec/pktline.js'),
      import('./store/object.js'),
      import('./store/prefetch.js'),
    ]);
    keepWarm(); // the checkout's decoding thread, warmed while this thread warms itself
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    for (let round = 0; round < 3; round++) {
      exerciseTransforms();
      fs.rmSync(dir, { recursive: true, force: true });
      const store = ChunkStore.forGitDir(dir);
      const cache = new CleanCache(store);
      const index = PointerIndex.fromCache(cache);
      let previous: ReturnType<typeof parsePointer> | undefined;
      for (const version of [0, 1, 2]) {
        const bytes = warmUpModel(round, version);
        const text = await cleanStream(store, cache, (async function* () {
          yield bytes;
        })(), undefined, { previous: async () => previous, index: () => index });
        previous = parsePointer(text);
        await new PktWriter(sink).content(reconstruct(new ChunkStore(store.root), previous));
      }
    }
  } catch {
    // only a head start
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** An ONNX model of float32, float16 and int8 initializers; later versions change some values slightly. */
export function warmUpModel(seed: number, version: number): Buffer {
  const field = (n: number, wire: number) => varint((n << 3) | wire);
  const bytesField = (n: number, b: Buffer) => Buffer.concat([field(n, 2), varint(b.length), b]);
  const tensors: Buffer[] = [];
  let x = 0x9e3779b9 ^ seed;
  const rand = () => ((x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  for (let t = 0; t < 12; t++) {
    const dtype = t % 4 === 3 ? 10 : t % 4 === 2 ? 3 : 1; // float16, int8, float32
    const count = t % 3 === 0 ? 64 : 4096;
    const width = dtype === 1 ? 4 : dtype === 10 ? 2 : 1;
    const raw = Buffer.alloc(count * width);
    for (let i = 0; i < count; i++) {
      const v = rand() * 0.05 + (version > 0 && t % 2 === 0 ? rand() * 1e-4 * version : 0);
      if (width === 4) raw.writeFloatLE(v, i * 4);
      else if (width === 2) raw.writeUInt16LE(0x3c00 ^ (Math.round(v * 1e4) & 0x3ff), i * 2);
      else raw.writeInt8(Math.round(v * 1000) % 128, i);
    }
    const tensor = Buffer.concat([field(1, 0), varint(count), field(2, 0), varint(dtype), bytesField(8, Buffer.from(`layer${t}.weight`)), bytesField(9, raw)]);
    tensors.push(bytesField(5, tensor));
  }
  const graph = Buffer.concat([...tensors, bytesField(2, Buffer.from('warm-up'))]);
  return Buffer.concat([field(1, 0), varint(8), bytesField(7, graph)]);
}

function varint(v: number): Buffer {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

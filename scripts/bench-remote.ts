// `node dist/scripts/bench-remote.js [--only=digits,1g,roundtrip] [--no-s3] [--no-lfs] [--size-mb=N] [--remotes-in=<dir>] [--json=<file>]`
// Sharing figures: push and clone through the mgit:: helper to directory storage and to S3 (a real
// radosgw on 127.0.0.1, started here if none answers, with ../shared/tools/ceph-rgw-up.sh), and a second
// push after one model changed; the same with git-lfs pushing to its own store over a file:// remote
// (its standalone file transfer: objects land in <remote.git>/lfs/objects; on the same file system it
// hard-links them, so --remotes-in=/dev/shm puts the remotes on another file system to make it copy).
// Also the per-object round
// trip of each storage, which decides whether chunks should be packed for transfer. Datasets: the
// digits family (../shared/corpus/digits, committed in lineage.json's commit_plan order; MGIT_CORPUS
// or --corpus) and a generated ~1 GB model. Everything lives in one temp folder, removed at exit.
// Figures are wall-clock on whatever else the machine is doing: run it on a quiet machine.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePointer, type Pointer } from '../src/codec/pointer.js';
import { DirectoryStorage } from '../src/remote/dir-storage.js';
import { S3Storage } from '../src/remote/s3-storage.js';
import type { Storage } from '../src/remote/storage.js';
import { mlpModel } from '../test/helpers/onnx-builder.js';
import { ensureS3, newBucket, S3_CREDENTIALS, S3_ENDPOINT, stopS3 } from '../test/helpers/s3.js';

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(PROJECT, 'bin');

interface Options {
  only: string[];
  remotesIn?: string;
  s3: boolean;
  lfs: boolean;
  sizeMb: number;
  json?: string;
  corpus?: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { only: [], s3: true, lfs: true, sizeMb: 1000, corpus: process.env.MGIT_CORPUS };
  for (const a of argv) {
    const [k, v] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, ''];
    if (k === '--only') o.only.push(...v.split(','));
    else if (k === '--no-s3') o.s3 = false;
    else if (k === '--no-lfs') o.lfs = false;
    else if (k === '--size-mb') o.sizeMb = Number(v);
    else if (k === '--json') o.json = path.resolve(v);
    else if (k === '--corpus') o.corpus = path.resolve(v);
    else if (k === '--remotes-in') o.remotesIn = path.resolve(v);
    else {
      process.stderr.write(`unknown option ${a}\n`);
      process.exit(2);
    }
  }
  o.corpus ??= fs.existsSync(path.join(PROJECT, '..', 'shared', 'corpus')) ? path.join(PROJECT, '..', 'shared', 'corpus') : undefined;
  return o;
}

const log = (s: string) => process.stderr.write(s + '\n');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mgit-bench-remote-'));
process.on('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));
let dirCount = 0;
const newDir = (tag: string, base = scratch) => fs.mkdtempSync(path.join(base, `${tag}-${dirCount++}-`));
let remotesScratch: string | undefined;

function userEnv(): NodeJS.ProcessEnv {
  const home = newDir('home');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...S3_CREDENTIALS,
    HOME: home,
    GIT_CONFIG_GLOBAL: path.join(home, '.gitconfig'),
    GIT_CONFIG_NOSYSTEM: '1',
    PATH: `${BIN}${path.delimiter}${process.env.PATH}`,
    GIT_AUTHOR_NAME: 'Bench',
    GIT_AUTHOR_EMAIL: 'bench@example.com',
    GIT_COMMITTER_NAME: 'Bench',
    GIT_COMMITTER_EMAIL: 'bench@example.com',
    AWS_EC2_METADATA_DISABLED: 'true',
    MGIT_NO_PROGRESS: '1',
  };
  for (const k of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE']) delete env[k];
  for (const [k, v] of [
    ['init.defaultBranch', 'main'],
    ['gc.auto', '0'],
    ['maintenance.auto', 'false'],
  ]) sh('git', ['config', '--global', k, v], { env });
  return env;
}

function sh(cmd: string, args: string[], opts: { cwd?: string; env: NodeJS.ProcessEnv; input?: string }): { out: string; err: string; seconds: number } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env, input: opts.input, maxBuffer: 1 << 30 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr?.toString().slice(-2000)}`);
  return { out: r.stdout.toString(), err: r.stderr.toString(), seconds };
}

function duBytes(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? duBytes(p) : fs.statSync(p).size;
  }
  return total;
}

function countFiles(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? countFiles(path.join(dir, e.name)) : 1;
  return n;
}

// ------------------------------------------------------------------------------------------------
// Datasets: a list of commits (path -> source file), then one change for the second push.

interface Step {
  files: { rel: string; src: string }[];
  message: string;
}

interface Dataset {
  name: string;
  steps: Step[];
  /** bytes of model files in the final tree */
  treeBytes: number;
  /** the model changed before the second push */
  changePath: string;
}

function digitsDataset(corpus: string): Dataset {
  const dir = path.join(corpus, 'digits');
  const lineage = JSON.parse(fs.readFileSync(path.join(dir, 'lineage.json'), 'utf8')) as {
    nodes: Record<string, { files: string[] }>;
    commit_plan: { path: string; node: string; message?: string }[];
  };
  const tree = new Map<string, string>();
  const steps: Step[] = lineage.commit_plan.map((c) => {
    const node = lineage.nodes[c.node];
    const files = node.files.map((f) => {
      // the .onnx goes where the plan says; external data keeps its name, next to it, as the model references it
      const rel = f.endsWith('.onnx') ? c.path : path.posix.join(path.posix.dirname(c.path), f);
      tree.set(rel, path.join(dir, f));
      return { rel, src: path.join(dir, f) };
    });
    return { files, message: c.message ?? `${c.node} at ${c.path}` };
  });
  const treeBytes = [...tree.values()].reduce((n, f) => n + fs.statSync(f).size, 0);
  return { name: 'digits', steps, treeBytes, changePath: 'models/digitnet.onnx' };
}

function generatedDataset(sizeMb: number): Dataset {
  const layers = Math.max(1, Math.round((sizeMb * 1e6) / (2048 * 2048 * 4)));
  const file = path.join(newDir('gen'), 'big.onnx');
  log(`generating a ${layers}-layer float32 MLP (${layers} tensors of 16 MiB) ...`);
  fs.writeFileSync(file, mlpModel({ seed: 77, layers, width: 2048 }));
  return { name: `generated-${(fs.statSync(file).size / 1e9).toFixed(2)}GB`, steps: [{ files: [{ rel: 'models/big.onnx', src: file }], message: 'big' }], treeBytes: fs.statSync(file).size, changePath: 'models/big.onnx' };
}

/** Changes one tensor of a committed model in place (its largest), found through its pointer. */
function changeOneTensor(workFile: string, pointer: Pointer): void {
  let offset = 0;
  let best = { at: 0, length: 0 };
  for (const part of pointer.parts) {
    const len = part.kind === 'gap' ? part.length : part.pieces.reduce((n, p) => n + p.length, 0);
    if (part.kind === 'tensor' && len > best.length && part.dtype === 'float32') best = { at: offset, length: len };
    offset += len;
  }
  const fd = fs.openSync(workFile, 'r+');
  const buf = Buffer.alloc(Math.min(best.length, 1 << 20));
  fs.readSync(fd, buf, 0, buf.length, best.at);
  for (let i = 0; i + 4 <= buf.length; i += 4) buf.writeFloatLE(buf.readFloatLE(i) * 1.001, i);
  fs.writeSync(fd, buf, 0, buf.length, best.at);
  fs.closeSync(fd);
}

// ------------------------------------------------------------------------------------------------
// One run: a tool and a storage, push + clone + second push.

interface Row {
  dataset: string;
  tool: string;
  storage: string;
  modelMB: number;
  pushSeconds: number;
  pushMBps: number;
  pushMovedMB: number;
  pushObjects: number;
  cloneSeconds: number;
  cloneMBps: number;
  cloneMovedMB: number;
  push2Seconds: number;
  push2MovedMB: number;
  push2Objects: number;
  push2ExpectedObjects?: number;
}

interface Target {
  tool: 'mgit' | 'git-lfs';
  storage: 'dir' | 's3';
}

async function runOne(ds: Dataset, target: Target): Promise<Row> {
  const env = userEnv();
  const remoteDir = newDir('remote', remotesScratch);
  const bare = path.join(remoteDir, 'models.git');
  sh('git', ['init', '-q', '--bare', '-b', 'main', bare], { env });
  const work = newDir('work');
  sh('git', ['init', '-q', '-b', 'main', work], { env });
  let bucket = '';
  const measure: { moved: () => Promise<{ bytes: number; objects: number }> } = { moved: async () => ({ bytes: 0, objects: 0 }) };
  let s3: S3Storage | undefined;
  if (target.tool === 'mgit') {
    sh('git', ['mgit', 'install'], { cwd: work, env });
    sh('git', ['mgit', 'track', '*.onnx', '*.onnx.data'], { cwd: work, env });
    if (target.storage === 's3') {
      bucket = await newBucket('bench');
      fs.writeFileSync(path.join(work, '.mgitconfig'), `[mgit]\n\tstorage = s3://${bucket}/models\n[mgit "s3"]\n\tendpoint = ${S3_ENDPOINT}\n`);
      s3 = await S3Storage.open(bucket, 'models', { endpoint: S3_ENDPOINT, forcePathStyle: true });
      measure.moved = () => s3Usage(bucket);
    } else {
      const root = path.join(bare, 'mgit-chunks', 'objects');
      measure.moved = async () => ({ bytes: duBytes(root), objects: countFiles(root) });
    }
    sh('git', ['remote', 'add', 'origin', `mgit::${bare}`], { cwd: work, env });
  } else {
    sh('git', ['lfs', 'install', '--skip-repo'], { env });
    sh('git', ['lfs', 'track', '*.onnx', '*.onnx.data'], { cwd: work, env });
    const root = path.join(bare, 'lfs', 'objects');
    measure.moved = async () => ({ bytes: duBytes(root), objects: countFiles(root) });
    sh('git', ['remote', 'add', 'origin', `file://${bare}`], { cwd: work, env });
  }
  for (const step of ds.steps) {
    for (const f of step.files) {
      fs.mkdirSync(path.dirname(path.join(work, f.rel)), { recursive: true });
      fs.copyFileSync(f.src, path.join(work, f.rel));
    }
    sh('git', ['add', '-A'], { cwd: work, env });
    sh('git', ['commit', '-q', '-m', step.message], { cwd: work, env });
  }
  const label = `${ds.name} ${target.tool} -> ${target.storage}`;
  log(`${label}: push ...`);
  const before = await measure.moved();
  const push = sh('git', ['push', '-q', '-u', 'origin', 'main'], { cwd: work, env });
  const afterPush = await measure.moved();

  log(`${label}: clone ...`);
  const cloneDir = path.join(newDir('clone'), 'c');
  const cloneArgs = target.tool === 'mgit' ? ['clone', '-q', `mgit::${bare}`, cloneDir] : ['clone', '-q', `file://${bare}`, cloneDir];
  const clone = sh('git', cloneArgs, { env });
  for (const rel of new Set(ds.steps.flatMap((s) => s.files.map((f) => f.rel)))) {
    const want = ds.steps.flatMap((s) => s.files).filter((f) => f.rel === rel).pop()!.src;
    if (!fs.readFileSync(path.join(cloneDir, rel)).equals(fs.readFileSync(want))) throw new Error(`${label}: ${rel} differs after clone`);
  }
  const cloneMoved = target.tool === 'mgit' ? duBytes(path.join(cloneDir, '.git', 'mgit', 'objects')) : duBytes(path.join(cloneDir, '.git', 'lfs', 'objects'));

  log(`${label}: change one tensor of ${ds.changePath}, push again ...`);
  // the tensor layout comes from the mgit pointer of the file (for git-lfs, computed in a throwaway repository)
  const pointer = target.tool === 'mgit' ? parsePointer(sh('git', ['cat-file', 'blob', `HEAD:${ds.changePath}`], { cwd: work, env }).out) : mgitPointerOf(path.join(work, ds.changePath), env);
  changeOneTensor(path.join(work, ds.changePath), pointer);
  sh('git', ['commit', '-q', '-am', 'one tensor changed'], { cwd: work, env });
  let expected: number | undefined;
  if (target.tool === 'mgit') {
    const prev = chunkSet(work, env, 'HEAD~1');
    expected = [...chunkSet(work, env, 'HEAD')].filter((c) => !prev.has(c)).length;
  }
  const push2 = sh('git', ['push', '-q'], { cwd: work, env });
  const afterPush2 = await measure.moved();
  if (bucket) await emptyBucket(bucket);
  await s3?.close();
  fs.rmSync(remoteDir, { recursive: true, force: true }); // remotes may sit in memory (--remotes-in=/dev/shm)
  const mb = (b: number) => b / 1e6;
  const row: Row = {
    dataset: ds.name,
    tool: target.tool,
    storage: target.tool === 'git-lfs' ? 'file:// (lfs/objects)' : target.storage === 'dir' ? 'directory' : 'S3 (radosgw)',
    modelMB: mb(ds.treeBytes),
    pushSeconds: push.seconds,
    pushMBps: mb(ds.treeBytes) / push.seconds,
    pushMovedMB: mb(afterPush.bytes - before.bytes),
    pushObjects: afterPush.objects - before.objects,
    cloneSeconds: clone.seconds,
    cloneMBps: mb(ds.treeBytes) / clone.seconds,
    cloneMovedMB: mb(cloneMoved),
    push2Seconds: push2.seconds,
    push2MovedMB: mb(afterPush2.bytes - afterPush.bytes),
    push2Objects: afterPush2.objects - afterPush.objects,
    push2ExpectedObjects: expected,
  };
  log(`${label}: ${JSON.stringify(row)}`);
  return row;
}

/** Chunk ids of every pointer in a revision's tree. */
function chunkSet(cwd: string, env: NodeJS.ProcessEnv, rev: string): Set<string> {
  const out = new Set<string>();
  const files = sh('git', ['ls-tree', '-r', '--name-only', rev], { cwd, env }).out.split('\n').filter((f) => /\.onnx(\.data)?$/.test(f));
  for (const f of files) {
    const p = parsePointer(sh('git', ['cat-file', 'blob', `${rev}:${f}`], { cwd, env }).out);
    for (const c of p.skeleton) out.add(c.chunk);
    for (const part of p.parts) if (part.kind === 'tensor') for (const piece of part.pieces) out.add(piece.chunk);
  }
  return out;
}

/** An mgit pointer for a file (to find its tensors' offsets), computed in a throwaway repository. */
function mgitPointerOf(file: string, env: NodeJS.ProcessEnv): Pointer {
  const tmp = newDir('ptr');
  sh('git', ['init', '-q', tmp], { env });
  const r = spawnSync('git', ['mgit', 'clean'], { cwd: tmp, env, input: fs.readFileSync(file), maxBuffer: 1 << 30 });
  return parsePointer(r.stdout);
}

async function s3Usage(bucket: string): Promise<{ bytes: number; objects: number }> {
  const sdk = await import('@aws-sdk/client-s3');
  const c = new sdk.S3Client({ endpoint: S3_ENDPOINT, region: 'us-east-1', forcePathStyle: true });
  let bytes = 0;
  let objects = 0;
  let token: string | undefined;
  do {
    const r = await c.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: 'models/objects/', ContinuationToken: token }));
    for (const o of r.Contents ?? []) {
      bytes += o.Size ?? 0;
      objects++;
    }
    token = r.NextContinuationToken;
  } while (token);
  c.destroy();
  return { bytes, objects };
}

async function emptyBucket(bucket: string): Promise<void> {
  const sdk = await import('@aws-sdk/client-s3');
  const c = new sdk.S3Client({ endpoint: S3_ENDPOINT, region: 'us-east-1', forcePathStyle: true });
  let token: string | undefined;
  do {
    const r = await c.send(new sdk.ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    const keys = (r.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length) await c.send(new sdk.DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
    token = r.NextContinuationToken;
  } while (token);
  c.destroy();
}

// ------------------------------------------------------------------------------------------------
// Per-object round trips: do they dominate? (decides whether chunks are packed for transfer)

interface RoundTrip {
  storage: string;
  objectKB: number;
  jobs: number;
  objects: number;
  msPerObject: number;
  MBps: number;
  headMsPerObject: number;
}

async function roundTrips(withS3: boolean): Promise<RoundTrip[]> {
  const rows: RoundTrip[] = [];
  const targets: { name: string; bucket?: string; open: () => Promise<Storage> }[] = [{ name: 'directory', open: async () => new DirectoryStorage(path.join(newDir('rt'), 'chunks')) }];
  if (withS3) {
    const bucket = await newBucket('rt');
    targets.push({ name: 'S3 (radosgw)', bucket, open: () => S3Storage.open(bucket, 'rt', { endpoint: S3_ENDPOINT, forcePathStyle: true }) });
  }
  for (const t of targets) {
    for (const kb of [4, 64, 1024, 16384]) {
      for (const jobs of [1, 8, 32]) {
        const storage = await t.open();
        await storage.prepareForWrite();
        const n = kb >= 16384 ? 16 : kb >= 1024 ? 64 : 256;
        const bodies = Array.from({ length: n }, (_, i) => {
          const b = Buffer.alloc(kb * 1024);
          b.writeUInt32LE(i, 0);
          b.writeUInt32LE(jobs * 100000 + kb, 4);
          return b;
        });
        const ids = bodies.map((b) => createHashHex(b));
        let next = 0;
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: jobs }, async () => {
            while (next < n) {
              const i = next++;
              await storage.put(ids[i], bodies[i]);
            }
          }),
        );
        const secs = (performance.now() - t0) / 1000;
        const h0 = performance.now();
        await storage.has(ids);
        const headMs = (performance.now() - h0) / n;
        rows.push({ storage: t.name, objectKB: kb, jobs, objects: n, msPerObject: (secs * 1000) / n, MBps: (n * kb * 1024) / 1e6 / secs, headMsPerObject: headMs });
        if (t.bucket) await emptyBucket(t.bucket); // the test server keeps objects in 2 GiB of memory
        log(`round trip ${t.name} ${kb} KB x${jobs}: ${((secs * 1000) / n).toFixed(2)} ms/object, ${((n * kb * 1024) / 1e6 / secs).toFixed(1)} MB/s, existence check ${headMs.toFixed(2)} ms/object`);
        await storage.close();
      }
    }
  }
  return rows;
}

function createHashHex(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Size distribution of the objects a dataset stores (what a push moves), from a local store. */
function objectSizes(ds: Dataset): { objects: number; under64KB: number; medianKB: number; meanKB: number } {
  const env = userEnv();
  const work = newDir('sizes');
  sh('git', ['init', '-q', '-b', 'main', work], { env });
  sh('git', ['mgit', 'install', '--local'], { cwd: work, env });
  sh('git', ['mgit', 'track', '*.onnx', '*.onnx.data'], { cwd: work, env });
  for (const step of ds.steps) {
    for (const f of step.files) {
      fs.mkdirSync(path.dirname(path.join(work, f.rel)), { recursive: true });
      fs.copyFileSync(f.src, path.join(work, f.rel));
    }
    sh('git', ['add', '-A'], { cwd: work, env });
  }
  const sizes: number[] = [];
  const root = path.join(work, '.git', 'mgit', 'objects');
  for (const d of fs.readdirSync(root)) for (const f of fs.readdirSync(path.join(root, d))) sizes.push(fs.statSync(path.join(root, d, f)).size);
  sizes.sort((a, b) => a - b);
  return { objects: sizes.length, under64KB: sizes.filter((s) => s < 65536).length, medianKB: sizes[sizes.length >> 1] / 1024, meanKB: sizes.reduce((a, b) => a + b, 0) / sizes.length / 1024 };
}

function table(rows: Row[]): string {
  const head = ['dataset', 'tool', 'storage', 'model MB', 'push s', 'push MB/s', 'push moved MB', 'objects', 'clone s', 'clone MB/s', 'clone moved MB', '2nd push s', '2nd push moved MB', 'objects (expected)'];
  const lines = rows.map((r) => [
    r.dataset,
    r.tool,
    r.storage,
    r.modelMB.toFixed(1),
    r.pushSeconds.toFixed(2),
    r.pushMBps.toFixed(1),
    r.pushMovedMB.toFixed(1),
    String(r.pushObjects),
    r.cloneSeconds.toFixed(2),
    r.cloneMBps.toFixed(1),
    r.cloneMovedMB.toFixed(1),
    r.push2Seconds.toFixed(2),
    r.push2MovedMB.toFixed(2),
    `${r.push2Objects}${r.push2ExpectedObjects !== undefined ? ` (${r.push2ExpectedObjects})` : ''}`,
  ]);
  return [head, head.map(() => '---'), ...lines].map((l) => `| ${l.join(' | ')} |`).join('\n');
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  Object.assign(process.env, S3_CREDENTIALS, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });
  const want = (n: string) => o.only.length === 0 || o.only.includes(n);
  if (o.remotesIn) {
    remotesScratch = fs.mkdtempSync(path.join(o.remotesIn, 'mgit-bench-remotes-'));
    process.on('exit', () => fs.rmSync(remotesScratch!, { recursive: true, force: true }));
  }
  let startedS3 = false;
  if (o.s3) startedS3 = await ensureS3();
  const lfs = o.lfs && spawnSync('git', ['lfs', 'version']).status === 0;
  if (o.lfs && !lfs) log('git-lfs is not installed: its comparison is skipped (apt-get install git-lfs)');
  const result: { rows: Row[]; roundTrips: RoundTrip[]; objectSizes: Record<string, unknown> } = { rows: [], roundTrips: [], objectSizes: {} };
  try {
    const datasets: Dataset[] = [];
    if (want('digits')) {
      if (o.corpus && fs.existsSync(path.join(o.corpus, 'digits'))) datasets.push(digitsDataset(o.corpus));
      else log('no corpus (MGIT_CORPUS or --corpus): the digits family is skipped');
    }
    if (want('1g')) datasets.push(generatedDataset(o.sizeMb));
    for (const ds of datasets) {
      result.objectSizes[ds.name] = objectSizes(ds);
      log(`${ds.name}: stored objects ${JSON.stringify(result.objectSizes[ds.name])}`);
      const targets: Target[] = [{ tool: 'mgit', storage: 'dir' }];
      if (o.s3) targets.push({ tool: 'mgit', storage: 's3' });
      if (lfs) targets.push({ tool: 'git-lfs', storage: 'dir' });
      for (const t of targets) result.rows.push(await runOne(ds, t));
    }
    if (want('roundtrip')) result.roundTrips = await roundTrips(o.s3);
  } finally {
    if (startedS3) await stopS3();
  }
  process.stdout.write(table(result.rows) + '\n');
  if (result.roundTrips.length) {
    process.stdout.write('\n| storage | object KB | jobs | ms/object | MB/s | existence check ms/object |\n|---|---|---|---|---|---|\n');
    for (const r of result.roundTrips) process.stdout.write(`| ${r.storage} | ${r.objectKB} | ${r.jobs} | ${r.msPerObject.toFixed(2)} | ${r.MBps.toFixed(1)} | ${r.headMsPerObject.toFixed(2)} |\n`);
  }
  process.stdout.write('\nstored objects per dataset: ' + JSON.stringify(result.objectSizes) + '\n');
  if (o.json) fs.writeFileSync(o.json, JSON.stringify(result, null, 2) + '\n');
}

main().catch((e) => {
  process.stderr.write(`bench-remote: ${(e as Error)?.stack ?? e}\n`);
  process.exit(1);
});

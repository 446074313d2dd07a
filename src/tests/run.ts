// Runs registered tests on model versions: each version is materialised to a temporary file from its
// git blob (a pointer is rebuilt from the chunk store; anything else is the blob itself), so staged
// versions, old versions and work-tree files are tested the same way. Command tests run as argument
// vectors (never through a shell), all tests in parallel up to the core count, each with a timeout.
// Never writes into the work tree or the index.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { looksLikePointer, parsePointer } from '../codec/pointer.js';
import { reconstruct } from '../filter/smudge.js';
import { catBlobs } from '../git/plumbing.js';
import type { Repo } from '../repo.js';
import { runAccuracy, runGolden, type BuiltinOutcome } from './builtin.js';
import { DEFAULT_TIMEOUT, type TestDef } from './registry.js';

/** One model version to test: where it lives in the repository and the blob git holds for it. */
export interface Target {
  path: string;
  /** the git blob holding this version (a pointer or the file itself) */
  blob?: string;
  /** or a file on disk (a work-tree model), tested where it is */
  file?: string;
}

export type Status = 'pass' | 'fail' | 'error' | 'timeout';

export interface TestResult {
  test: string;
  kind: TestDef['kind'];
  path: string;
  /** the model version (sha256 of the file) */
  version: string;
  status: Status;
  metrics: Record<string, number>;
  detail: string;
  seconds: number;
}

/** Temporary model files, one per blob, removed by `dispose`. */
export class Materializer {
  private dir?: string;
  private readonly files = new Map<string, { file: string; version: string }>();
  constructor(private readonly repo: Repo) {}

  get(t: Target): { file: string; version: string } {
    if (t.file) return this.onDisk(t.file);
    if (!t.blob) throw new Error(`no version given for ${t.path}`);
    let m = this.files.get(t.blob);
    if (m) return m;
    this.dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'mgit-test-'));
    const bytes = catBlobs([t.blob], this.repo.paths.top ?? undefined).get(t.blob);
    if (!bytes) throw new Error(`blob ${t.blob} of ${t.path} is missing`);
    // keep the model's file name: some tools look at the extension
    const file = path.join(this.dir, t.blob.slice(0, 12), path.basename(t.path));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    let version: string;
    if (looksLikePointer(bytes)) {
      const p = parsePointer(bytes);
      const fd = fs.openSync(file, 'w');
      try {
        for (const b of reconstruct(this.repo.store, p)) fs.writeSync(fd, b);
      } finally {
        fs.closeSync(fd);
      }
      version = p.sha256;
    } else {
      fs.writeFileSync(file, bytes);
      version = createHash('sha256').update(bytes).digest('hex');
    }
    m = { file, version };
    this.files.set(t.blob, m);
    return m;
  }

  private onDisk(file: string): { file: string; version: string } {
    let m = this.files.get(file);
    if (m) return m;
    const h = createHash('sha256');
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(1 << 20);
      for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
    } finally {
      fs.closeSync(fd);
    }
    m = { file, version: h.digest('hex') };
    this.files.set(file, m);
    return m;
  }

  dispose(): void {
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface RunOptions {
  /** parallel tests; default: the core count */
  jobs?: number;
}

/** The blob of a version's primary lineage parent, for {parent}: loaded once per run, only when asked. */
class Parents {
  private loaded?: Promise<{ parentOf: (v: string) => string | undefined; blobOf: (v: string) => { path: string; blob: string } | undefined }>;
  constructor(private readonly repo: Repo) {}
  async target(version: string): Promise<Target | undefined> {
    this.loaded ??= (async () => {
      const { loadGraph } = await import('../lineage/ref.js');
      const { scanModels } = await import('../lineage/versions.js');
      const graph = loadGraph(this.repo);
      const history = await scanModels(this.repo);
      return {
        parentOf: (v: string) => graph.parentsOf(v)[0],
        blobOf: (v: string) => {
          const occ = history.byVersion.get(v)?.[0]?.occ;
          return occ ? { path: occ.path, blob: occ.blob } : undefined;
        },
      };
    })();
    const l = await this.loaded;
    const p = l.parentOf(version);
    return p ? l.blobOf(p) : undefined;
  }
}

export async function runTests(repo: Repo, pairs: { target: Target; test: TestDef }[], opts: RunOptions = {}): Promise<TestResult[]> {
  const mat = new Materializer(repo);
  const parents = new Parents(repo);
  try {
    const results: TestResult[] = new Array(pairs.length);
    let next = 0;
    const jobs = Math.max(1, Math.min(opts.jobs ?? os.availableParallelism(), pairs.length));
    const worker = async () => {
      for (let i = next++; i < pairs.length; i = next++) results[i] = await runOne(repo, mat, parents, pairs[i].target, pairs[i].test);
    };
    await Promise.all(Array.from({ length: jobs }, worker));
    return results;
  } finally {
    mat.dispose();
  }
}

async function runOne(repo: Repo, mat: Materializer, parents: Parents, target: Target, test: TestDef): Promise<TestResult> {
  const start = process.hrtime.bigint();
  const base = { test: test.name, kind: test.kind, path: target.path, version: '' };
  const done = (status: Status, metrics: Record<string, number>, detail: string): TestResult => ({
    ...base,
    status,
    metrics,
    detail,
    seconds: Number(process.hrtime.bigint() - start) / 1e9,
  });
  let model: { file: string; version: string };
  try {
    model = mat.get(target);
    base.version = model.version;
  } catch (e) {
    return done('error', {}, `cannot materialise the model: ${(e as Error).message}`);
  }
  const timeout = (test.timeout ?? DEFAULT_TIMEOUT) * 1000;
  const top = repo.top;
  try {
    if (test.kind === 'command') {
      let parent = '';
      if (test.command!.some((a) => a.includes('{parent}'))) {
        const pt = await parents.target(model.version);
        if (pt) parent = mat.get(pt).file;
      }
      return await runCommand(test.command!, { model: model.file, path: target.path, parent }, top, timeout, done);
    }
    const file = path.resolve(top, test.file!);
    const work: Promise<BuiltinOutcome> = test.kind === 'golden' ? runGolden(model.file, file, test.tolerance) : runAccuracy(model.file, file, test.threshold!);
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeout)));
    const r = await Promise.race([work, limit]);
    clearTimeout(timer);
    if (r === 'timeout') return done('timeout', {}, `no result after ${timeout / 1000}s`);
    return done(r.pass ? 'pass' : 'fail', r.metrics, r.detail);
  } catch (e) {
    return done('error', {}, (e as Error).message);
  }
}

const PLACEHOLDER = /\{(model|parent|path)\}/g;

function runCommand(
  argv: string[],
  values: { model: string; path: string; parent: string },
  cwd: string,
  timeout: number,
  done: (s: Status, m: Record<string, number>, d: string) => TestResult,
): Promise<TestResult> {
  const args = argv.map((a) => a.replace(PLACEHOLDER, (_, k: 'model' | 'path' | 'parent') => values[k]));
  const env = { ...process.env, MGIT_MODEL: values.model, MGIT_PATH: values.path, MGIT_PARENT: values.parent };
  return new Promise((resolve) => {
    let out = '';
    let timedOut = false;
    const keep = (d: Buffer) => {
      out = (out + d.toString('utf8')).slice(-4000);
    };
    const child = spawn(args[0], args.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeout);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve(done('error', {}, `cannot run ${args[0]}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const tail = out.trim();
      if (timedOut) resolve(done('timeout', {}, `stopped after ${timeout / 1000}s${tail ? `\n${tail}` : ''}`));
      else if (code === 0) resolve(done('pass', metricsFrom(tail), tail.split('\n').pop() ?? ''));
      else resolve(done('fail', metricsFrom(tail), `exit ${code ?? signal}${tail ? `\n${tail}` : ''}`));
    });
  });
}

/** A command may report metrics as a last output line `mgit-metrics: {"accuracy": 0.97}`. */
function metricsFrom(out: string): Record<string, number> {
  const m = /^mgit-metrics: (\{.*\})\s*$/m.exec(out);
  if (!m) return {};
  try {
    const o = JSON.parse(m[1]) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === 'number')) as Record<string, number>;
  } catch {
    return {};
  }
}

/** A readable report, one block per result. */
export function formatResults(results: TestResult[]): string {
  return results
    .map((r) => {
      const head = `${r.status === 'pass' ? 'PASS' : r.status.toUpperCase()}  ${r.test}  ${r.path} (${r.version.slice(0, 12)})  ${r.seconds.toFixed(2)}s`;
      const detail = r.detail ? r.detail.split('\n').map((l) => `      ${l}`).join('\n') : '';
      return detail ? `${head}\n${detail}` : head;
    })
    .join('\n');
}

/** Note lines for a commit (docs/tests.md): `mgit-test <status> <test> <version> <seconds>s <metrics json> <path>`. */
export function noteLines(results: TestResult[]): string[] {
  return results.map((r) => `mgit-test ${r.status} ${r.test} ${r.version} ${r.seconds.toFixed(3)}s ${JSON.stringify(r.metrics)} ${r.path}`);
}

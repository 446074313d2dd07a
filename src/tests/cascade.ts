// The update cascade (MGit's run_update_cascade): a model got a new version, so every model downstream
// of it (lineage edges from an older version of it) is re-created from the new parent versions, in
// topological order, tested, and staged (the command commits them) with lineage edges to the new
// parents. A child is re-created by its edge's creation command when this repository trusts that
// record (isCommandTrusted; run as an argument vector, never a shell), else by the built-in
// `task-vector` recipe for finetune, adapter, merge and version edges: child' = new parent + (child -
// old parent), computed tensor by tensor by the model merge with the old parent as base (so the file is
// the child's bytes with payloads spliced in, never re-encoded). A failure stops that child's subtree
// only. Never commits by itself: the command does, after everything is staged.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { looksLikePointer, parsePointer, type Pointer } from '../codec/pointer.js';
import { MgitError } from '../errors.js';
import { reconstruct } from '../filter/smudge.js';
import { git } from '../git/git.js';
import { catBlobs } from '../git/plumbing.js';
import { indexBlobs } from '../git/scan.js';
import { pathHistory } from '../git/staged.js';
import { expandCommand } from '../lineage/command.js';
import type { LiveEdge } from '../lineage/graph.js';
import type { EdgeRecord } from '../lineage/record.js';
import { loadGraph, writeRecords } from '../lineage/ref.js';
import { isCommandTrusted, trustRecords } from '../lineage/trust.js';
import { scanModels } from '../lineage/versions.js';
import { mergeModels } from '../merge/merge.js';
import { PointerSource } from '../model/source.js';
import type { Repo } from '../repo.js';
import { loadRegistry, testsFor } from './registry.js';
import { runTests, type TestResult } from './run.js';
import { typesOf, versionsOf } from './select.js';

const TASK_VECTOR_RELATIONS = new Set(['finetune', 'adapter', 'merge', 'version']);

export interface CascadeStep {
  path: string;
  /** how it was re-created */
  recipe: 'command' | 'task-vector' | 'none';
  status: 'updated' | 'failed' | 'skipped';
  detail: string;
  oldVersion: string;
  newVersion?: string;
  /** the edge's parents, new versions */
  parents: string[];
  tests: TestResult[];
}

interface Model {
  path: string;
  version: string;
  blob: string;
}

export async function cascade(repo: Repo, rootPath: string, log: (s: string) => void = () => {}): Promise<CascadeStep[]> {
  const top = repo.top;
  const graph = loadGraph(repo);
  const reg = loadRegistry(top);
  const entries = indexBlobs().filter((b) => b.stage === 0);
  const vers = versionsOf(entries.map((e) => e.oid));
  const models: Model[] = entries.flatMap((e) => (vers.has(e.oid) ? [{ path: e.path, version: vers.get(e.oid)!, blob: e.oid }] : []));
  const root = models.find((m) => m.path === rootPath);
  if (!root) throw new MgitError('ENOTMODEL', `${rootPath} is not an mgit-tracked model in the index`);
  // old version -> new version, for every model re-created so far (the root: all its older versions)
  const renewed = new Map<string, string>();
  const older = versionsOf(pathHistory(rootPath).map((h) => h.blob));
  for (const v of older.values()) if (v !== root.version) renewed.set(v, root.version);
  const blobOf = new Map<string, string>(models.map((m) => [m.version, m.blob]));
  let history: Awaited<ReturnType<typeof scanModels>> | undefined;
  const pointerOf = async (version: string): Promise<Pointer> => {
    let blob = blobOf.get(version);
    if (!blob) {
      // a version the cascade has just staged
      const now = indexBlobs().filter((b) => b.stage === 0);
      const v = versionsOf(now.map((b) => b.oid));
      for (const b of now) if (v.has(b.oid)) blobOf.set(v.get(b.oid)!, b.oid);
      blob = blobOf.get(version);
    }
    if (!blob) {
      history ??= await scanModels(repo);
      blob = history.byVersion.get(version)?.[0]?.occ.blob;
    }
    const bytes = blob ? catBlobs([blob]).get(blob) : undefined;
    if (!bytes || !looksLikePointer(bytes)) throw new MgitError('EVERSION', `version ${version.slice(0, 12)} is in no commit or index here`);
    return parsePointer(bytes);
  };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mgit-cascade-'));
  const failed = new Set<string>(); // old versions whose re-creation failed: their subtrees stop
  const steps: CascadeStep[] = [];
  try {
    // Topological order: repeatedly take models whose current edge names a renewed (or failed) parent.
    const done = new Set<string>([root.path]);
    for (;;) {
      let progressed = false;
      for (const m of models) {
        if (done.has(m.path)) continue;
        // Several live edges can name a renewed parent (the same relation declared in two clones, one
        // with a creation command): prefer one whose command this repository trusts, then any command.
        const candidates = graph.edgesOf(m.version).filter((e) => e.parents.some((p) => renewed.has(p) || failed.has(p)));
        const rank = (e: LiveEdge) => (e.command ? (isCommandTrusted(repo, e.id) ? 0 : 1) : 2);
        const edge = candidates.sort((a, b) => rank(a) - rank(b))[0];
        if (!edge) continue;
        // wait until every parent of this edge that is itself downstream has been settled
        if (edge.parents.some((p) => models.some((o) => o.version === p && !done.has(o.path) && isDownstream(graph, o.version, renewed, failed)))) continue;
        done.add(m.path);
        progressed = true;
        if (edge.parents.some((p) => failed.has(p))) {
          failed.add(m.version);
          steps.push({ path: m.path, recipe: 'none', status: 'skipped', detail: 'a parent failed to re-create: this subtree stops', oldVersion: m.version, parents: [], tests: [] });
          log(`skip   ${m.path}: a parent failed`);
          continue;
        }
        const step = await recreate(repo, m, edge, renewed, pointerOf, tmp, reg.tests.length ? testsFor(reg, m.path, typesOf(repo, reg, [{ path: m.path, blob: m.blob }]).get(m.path)) : []);
        steps.push(step);
        log(`${step.status === 'updated' ? 'update' : step.status === 'skipped' ? 'skip  ' : 'FAIL  '} ${m.path} (${step.recipe}): ${step.detail}`);
        if (step.status === 'updated') renewed.set(m.version, step.newVersion!);
        else failed.add(m.version);
      }
      if (!progressed) break;
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return steps;
}

function isDownstream(graph: ReturnType<typeof loadGraph>, v: string, renewed: Map<string, string>, failed: Set<string>): boolean {
  const seen = new Set<string>();
  const todo = [v];
  while (todo.length) {
    const x = todo.pop()!;
    if (seen.has(x)) continue;
    seen.add(x);
    for (const p of graph.parentsOf(x)) {
      if (renewed.has(p) || failed.has(p)) return true;
      todo.push(p);
    }
  }
  return false;
}

async function recreate(
  repo: Repo,
  m: Model,
  edge: LiveEdge,
  renewed: Map<string, string>,
  pointerOf: (v: string) => Promise<Pointer>,
  tmp: string,
  tests: ReturnType<typeof testsFor>,
): Promise<CascadeStep> {
  const newParents = edge.parents.map((p) => renewed.get(p) ?? p);
  const step: CascadeStep = { path: m.path, recipe: 'none', status: 'failed', detail: '', oldVersion: m.version, parents: newParents, tests: [] };
  const dir = fs.mkdtempSync(path.join(tmp, 'm-'));
  const out = path.join(dir, path.basename(m.path));
  const writeVersion = async (p: Pointer, file: string) => {
    const fd = fs.openSync(file, 'w');
    try {
      for (const b of reconstruct(repo.store, p)) fs.writeSync(fd, b);
    } finally {
      fs.closeSync(fd);
    }
  };
  try {
    if (edge.command && isCommandTrusted(repo, edge.id)) {
      step.recipe = 'command';
      const parentFiles: string[] = [];
      for (const [i, p] of newParents.entries()) {
        const f = path.join(dir, `parent${i}-${path.basename(edge.parentPaths[i] ?? 'model.onnx')}`);
        await writeVersion(await pointerOf(p), f);
        parentFiles.push(f);
      }
      const { argv, env } = expandCommand(edge.command, { child: out, parents: parentFiles });
      const r = await runArgv(argv, { ...process.env, ...env }, repo.top);
      if (r.code !== 0) {
        step.detail = `creation command failed (exit ${r.code})${r.tail ? `: ${r.tail}` : ''}`;
        return step;
      }
      if (!fs.existsSync(out)) {
        step.detail = 'creation command wrote no {child} file';
        return step;
      }
    } else if (TASK_VECTOR_RELATIONS.has(edge.relation)) {
      step.recipe = 'task-vector';
      const changed = edge.parents.findIndex((p) => renewed.has(p));
      const oldP = await pointerOf(edge.parents[changed]);
      const newP = await pointerOf(newParents[changed]);
      const child = await pointerOf(m.version);
      const o = mergeModels(repo.store, new PointerSource('old parent', oldP, repo.store), new PointerSource('child', child, repo.store), new PointerSource('new parent', newP, repo.store), 'task-arithmetic', { restructured: 'keep' });
      if (o.status !== 'clean' || !o.pointer) {
        step.detail = `task-vector cannot re-apply the child's changes: ${o.conflicts.slice(0, 3).map((c) => `${c.name} (${c.detail ?? c.reason})`).join(', ')}`;
        return step;
      }
      await writeVersion(o.pointer, out);
    } else {
      step.status = 'skipped';
      step.detail = edge.command
        ? `its creation command is not trusted here (git mgit trust ${edge.id.slice(0, 12)}), and a ${edge.relation} edge has no built-in recipe`
        : `no creation command, and a ${edge.relation} edge has no built-in recipe`;
      return step;
    }
    // test the new file before it goes anywhere near the index
    if (tests.length) {
      step.tests = await runTests(repo, tests.map((test) => ({ target: { path: m.path, file: out }, test })));
      const bad = step.tests.filter((t) => t.status !== 'pass');
      if (bad.length) {
        step.detail = `tests failed: ${bad.map((t) => `${t.test} (${t.detail.split('\n')[0]})`).join('; ')}`;
        return step;
      }
    }
    fs.copyFileSync(out, path.join(repo.top, m.path));
    git(['add', '--', m.path], { cwd: repo.top });
    const staged = indexBlobs().find((b) => b.path === m.path && b.stage === 0)!.oid;
    const newVersion = versionsOf([staged]).get(staged);
    if (!newVersion) throw new MgitError('ENOTMODEL', `${m.path} was not cleaned into a pointer`);
    step.newVersion = newVersion;
    const record: EdgeRecord = {
      kind: 'edge',
      child: newVersion,
      childPath: m.path,
      parents: newParents,
      parentPaths: edge.parentPaths,
      relation: edge.relation,
      ...(edge.command ? { command: edge.command } : {}),
      meta: { ...(edge.meta ?? {}), cascade: step.recipe },
    };
    const w = writeRecords(repo, [record], `cascade: ${m.path} re-created (${step.recipe})`);
    // the same command the user trusted on the old edge: the new edge may run it too
    if (step.recipe === 'command') trustRecords(repo, w.added);
    step.status = 'updated';
    step.detail = `${m.version.slice(0, 12)} -> ${newVersion.slice(0, 12)}${step.tests.length ? `, ${step.tests.length} test(s) passed` : ''}`;
    return step;
  } catch (e) {
    step.detail = (e as Error).message;
    return step;
  }
}

function runArgv(argv: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number; tail: string }> {
  return new Promise((resolve) => {
    let out = '';
    const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer) => (out = (out + d.toString('utf8')).slice(-2000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (e) => resolve({ code: 127, tail: e.message }));
    child.on('close', (code) => resolve({ code: code ?? 1, tail: out.trim().split('\n').slice(-3).join(' | ') }));
  });
}

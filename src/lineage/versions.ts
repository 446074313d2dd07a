// Model identity (DESIGN §6): a model is a tracked path, its versions are the git history of that path
// with renames followed, and a version's id is the file's sha256 from its pointer. This module turns
// `PATH[@REV]` into a version and history into models, so records keyed by version ids get their
// commits, dates and messages at read time (which is why edges survive rebase and amend).
// Never: write to the index or the work tree; the only thing it stores is the chunks of a work-tree
// file it must read as a model (exactly what `git add` would store).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { looksLikePointer, parsePointer, type Pointer } from '../codec/pointer.js';
import { MgitError, PointerError } from '../errors.js';
import { cleanStream } from '../filter/clean.js';
import { historyRevs, logRaw } from '../git/log-raw.js';
import { catBlobs, revParse } from '../git/plumbing.js';
import { indexBlobs } from '../git/scan.js';
import type { Repo } from '../repo.js';
import { LineageIndex } from './local-index.js';

export interface ResolvedVersion {
  /** the version id: sha256 of the model file */
  id: string;
  /** repository-relative path ('' when the spec was a bare id) */
  path: string;
  /** where it was found: a revision, the index (staged), the work tree, or a bare id */
  source: 'rev' | 'index' | 'worktree' | 'id';
  rev?: string;
  blob?: string;
  pointer?: Pointer;
}

const ID_SPEC = /^(?:sha256:)?([0-9a-f]{64})$/;

function cwdOf(repo: Repo): string {
  return repo.paths.top ?? repo.paths.gitDir;
}

/** Splits `PATH[@REV]`: the text after the last `@` is a revision only when it names a commit. */
export function splitSpec(spec: string, cwd?: string): { path: string; rev?: string } {
  const at = spec.lastIndexOf('@');
  if (at > 0 && at < spec.length - 1) {
    const rev = spec.slice(at + 1);
    if (revParse(`${rev}^{commit}`, cwd)) return { path: spec.slice(0, at), rev };
  }
  return { path: spec };
}

/** A user's path (relative to `cwd`, or absolute) as a repository-relative path with `/`. */
export function repoPath(repo: Repo, p: string, cwd = process.cwd()): string {
  const top = repo.top;
  const abs = path.resolve(cwd, p);
  const rel = path.relative(fs.existsSync(top) ? fs.realpathSync(top) : top, fs.existsSync(path.dirname(abs)) ? path.join(fs.realpathSync(path.dirname(abs)), path.basename(abs)) : abs);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) throw new MgitError('EPATH', `${p} is outside the repository`);
  return rel.split(path.sep).join('/');
}

function pointerOfBlob(bytes: Buffer, what: string): Pointer {
  if (!looksLikePointer(bytes)) throw new MgitError('ENOTMODEL', `${what} is not stored by mgit (no pointer): track it with git mgit track and add it again`);
  try {
    return parsePointer(bytes);
  } catch (e) {
    throw new PointerError(`${what}: ${(e as Error).message}`);
  }
}

/**
 * Resolves `PATH[@REV]` (or a bare version id) to a model version. Without a revision: the staged
 * version, else the one in HEAD, else the work-tree file. With `needPointer`, a work-tree file is
 * cleaned (its chunks stored, as `git add` would) so that its pointer is available.
 */
export async function resolveVersion(repo: Repo, spec: string, opts: { cwd?: string; needPointer?: boolean } = {}): Promise<ResolvedVersion> {
  const gcwd = cwdOf(repo);
  const idm = ID_SPEC.exec(spec);
  if (idm && !fs.existsSync(path.resolve(opts.cwd ?? process.cwd(), spec))) return { id: idm[1], path: '', source: 'id' };
  const { path: userPath, rev } = splitSpec(spec, gcwd);
  const p = repoPath(repo, userPath, opts.cwd);
  if (rev) {
    const blob = revParse(`${rev}:${p}`, gcwd);
    if (!blob) throw new MgitError('ENOVERSION', `${p} does not exist in ${rev}`);
    const bytes = catBlobs([blob], gcwd).get(blob);
    if (!bytes) throw new MgitError('ENOVERSION', `${rev}:${p} is not a file`);
    const pointer = pointerOfBlob(bytes, `${p} in ${rev}`);
    return { id: pointer.sha256, path: p, source: 'rev', rev, blob, pointer };
  }
  const staged = indexBlobs(gcwd).find((e) => e.path === p && e.stage === 0);
  if (staged) {
    const bytes = catBlobs([staged.oid], gcwd).get(staged.oid)!;
    const pointer = pointerOfBlob(bytes, `${p} (staged)`);
    return { id: pointer.sha256, path: p, source: 'index', blob: staged.oid, pointer };
  }
  const head = revParse(`HEAD:${p}`, gcwd);
  if (head) {
    const bytes = catBlobs([head], gcwd).get(head);
    if (bytes) {
      const pointer = pointerOfBlob(bytes, `${p} in HEAD`);
      return { id: pointer.sha256, path: p, source: 'rev', rev: 'HEAD', blob: head, pointer };
    }
  }
  const file = path.join(repo.top, p);
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new MgitError('ENOVERSION', `${p}: no such model (not staged, not in HEAD, not in the work tree)`);
  const head8 = Buffer.alloc(32);
  const fd = fs.openSync(file, 'r');
  const n = fs.readSync(fd, head8, 0, 32, 0);
  fs.closeSync(fd);
  let pointer: Pointer;
  if (looksLikePointer(head8.subarray(0, n))) pointer = pointerOfBlob(fs.readFileSync(file), p);
  else if (opts.needPointer) pointer = parsePointer(await cleanStream(repo.store, repo.cleanCache, fs.createReadStream(file)));
  else return { id: await sha256File(file), path: p, source: 'worktree' };
  return { id: pointer.sha256, path: p, source: 'worktree', pointer };
}

async function sha256File(file: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  const h = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Models from history

export interface VersionOccurrence {
  id: string;
  blob: string;
  path: string;
  /** the oldest commit (in the scanned history) that put this version at this model's path */
  commit?: string;
  time?: number;
  subject?: string;
  /** position in history, 0 for the newest commit (git log --date-order), -1 when staged */
  seq: number;
  /** in the index but in no commit of the scanned history */
  staged?: boolean;
}

export interface Model {
  /** the model's newest path */
  path: string;
  /** every path it had, newest first */
  paths: string[];
  /** newest first; each version once, at its oldest occurrence */
  versions: VersionOccurrence[];
}

export interface ModelHistory {
  models: Model[];
  /** version id -> the models that hold it (usually one; a copied file is in two) */
  byVersion: Map<string, { model: Model; occ: VersionOccurrence }[]>;
  modelOfPath: Map<string, Model>;
  /** version id -> a pointer read during this scan (only blobs new to the local index) */
  pointers: Map<string, Pointer>;
  /** blob oid -> version id */
  blobIds: Map<string, string>;
}

/** Union-find over paths: a rename joins the old and the new path into one model. */
class Paths {
  private readonly parent = new Map<string, string>();
  find(p: string): string {
    let r = p;
    while (this.parent.has(r) && this.parent.get(r) !== r) r = this.parent.get(r)!;
    let c = p;
    while (c !== r) {
      const next = this.parent.get(c)!;
      this.parent.set(c, r);
      c = next;
    }
    if (!this.parent.has(r)) this.parent.set(r, r);
    return r;
  }
  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(rb, ra);
  }
}

/**
 * Every model in the history of branches, tags, remote branches and HEAD, plus versions staged in the
 * current index. Blobs are mapped to versions through the local index, so each blob is read once ever.
 */
export async function scanModels(repo: Repo, index = new LineageIndex(repo)): Promise<ModelHistory> {
  const cwd = cwdOf(repo);
  const commits = logRaw(historyRevs(cwd), cwd);
  const changes: { commit: string; time: number; seq: number; subject: string; path: string; fromPath?: string; blob: string }[] = [];
  for (const [seq, c] of commits.entries()) {
    for (const ch of c.changes) {
      if (ch.status === 'D' || !/^100(644|755)$/.test(ch.mode)) continue;
      changes.push({ commit: c.commit, time: c.time, seq, subject: c.subject, path: ch.path, fromPath: ch.fromPath, blob: ch.blob });
    }
  }
  const staged = repo.paths.top ? indexBlobs(cwd).filter((e) => e.stage === 0 && /^100(644|755)$/.test(e.mode)) : [];
  const { ids, pointers: byBlob } = await index.versionsOfBlobs([...changes.map((c) => c.blob), ...staged.map((s) => s.oid)]);

  const paths = new Paths();
  const occurrences: (VersionOccurrence & { key: string })[] = [];
  // newest first: later (older) occurrences of the same version at the same path replace earlier ones
  const seen = new Map<string, VersionOccurrence & { key: string }>();
  for (const c of changes) {
    const id = ids.get(c.blob);
    if (!id) continue;
    if (c.fromPath) paths.union(c.path, c.fromPath); // a renamed model stays one model
    const key = `${id}\0${c.path}`;
    const occ = { id, blob: c.blob, path: c.path, commit: c.commit, time: c.time, seq: c.seq, subject: c.subject, key };
    const prev = seen.get(key);
    if (prev) Object.assign(prev, occ);
    else {
      seen.set(key, occ);
      occurrences.push(occ);
    }
  }
  const committedAt = new Set(occurrences.map((o) => o.key));
  for (const s of staged) {
    const id = ids.get(s.oid);
    if (!id || committedAt.has(`${id}\0${s.path}`)) continue;
    occurrences.unshift({ id, blob: s.oid, path: s.path, staged: true, seq: -1, key: `${id}\0${s.path}` });
  }

  const modelsByRoot = new Map<string, Model>();
  const modelOfPath = new Map<string, Model>();
  for (const o of occurrences) {
    const root = paths.find(o.path);
    let m = modelsByRoot.get(root);
    if (!m) {
      m = { path: o.path, paths: [], versions: [] };
      modelsByRoot.set(root, m);
    }
    if (!m.paths.includes(o.path)) m.paths.push(o.path);
    modelOfPath.set(o.path, m);
    const occ: VersionOccurrence = { id: o.id, blob: o.blob, path: o.path, commit: o.commit, time: o.time, seq: o.seq, subject: o.subject, staged: o.staged };
    const dup = m.versions.find((v) => v.id === occ.id);
    if (!dup) m.versions.push(occ);
    else if (occ.seq > dup.seq) Object.assign(dup, occ); // keep the oldest occurrence
  }
  const byVersion = new Map<string, { model: Model; occ: VersionOccurrence }[]>();
  for (const m of modelsByRoot.values()) {
    m.versions.sort((a, b) => a.seq - b.seq);
    m.path = m.versions[0]?.path ?? m.path;
    for (const occ of m.versions) {
      const list = byVersion.get(occ.id) ?? [];
      list.push({ model: m, occ });
      byVersion.set(occ.id, list);
    }
  }
  const pointers = new Map<string, Pointer>();
  for (const p of byBlob.values()) pointers.set(p.sha256, p);
  const blobIds = new Map<string, string>();
  for (const [b, id] of ids) if (id) blobIds.set(b, id);
  const models = [...modelsByRoot.values()].sort((a, b) => a.versions[0].seq - b.versions[0].seq || (a.path < b.path ? -1 : 1));
  return { models, byVersion, modelOfPath, pointers, blobIds };
}

/** Reads a blob's pointer (for versions whose pointer a scan did not return). */
export function readPointer(repo: Repo, blob: string): Pointer | undefined {
  const bytes = catBlobs([blob], cwdOf(repo)).get(blob);
  if (!bytes || !looksLikePointer(bytes)) return undefined;
  try {
    return parsePointer(bytes);
  } catch {
    return undefined;
  }
}

// Git plumbing for metadata refs (the lineage ref): read refs, list and read trees, write blobs, trees
// and commits without touching the work tree or the user's index, and move a ref only by
// compare-and-swap. Synchronous on purpose: each call is one short git process, and callers (the delta
// encoder among them) need answers without an event loop.
// Never: write to the user's index or work tree, or move a ref without naming its old value.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { GitError } from '../errors.js';
import { git, gitText, gitZ } from './git.js';

/** The object id of a revision, or undefined when it does not resolve. */
export function revParse(rev: string, cwd?: string): string | undefined {
  const r = git(['rev-parse', '-q', '--verify', '--end-of-options', rev], { cwd, okStatus: [1, 128] });
  return r.status === 0 ? r.stdout.toString('utf8').trim() : undefined;
}

export interface RefEntry {
  ref: string;
  oid: string;
}

/** Refs matching for-each-ref patterns (prefixes such as refs/mgit/ or full names), sorted by name. */
export function forEachRef(patterns: string[], cwd?: string): RefEntry[] {
  const out = gitText(['for-each-ref', '--format=%(objectname) %(refname)', ...patterns], { cwd });
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const sp = l.indexOf(' ');
      return { oid: l.slice(0, sp), ref: l.slice(sp + 1) };
    });
}

export interface TreeEntry {
  mode: string;
  type: string;
  oid: string;
  path: string;
}

/** Every blob under a tree-ish (recursive), paths relative to it. */
export function lsTree(treeish: string, cwd?: string): TreeEntry[] {
  return gitZ(['ls-tree', '-r', '-z', '--full-tree', treeish], { cwd }).map((rec) => {
    const tab = rec.indexOf('\t');
    const [mode, type, oid] = rec.slice(0, tab).split(' ');
    return { mode, type, oid, path: rec.slice(tab + 1) };
  });
}

/**
 * Reads blobs in one `git cat-file --batch` process. Missing objects are absent from the result.
 * For small objects only (records, pointers): everything is held in memory.
 */
export function catBlobs(oids: string[], cwd?: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const unique = [...new Set(oids)];
  if (unique.length === 0) return out;
  const buf = git(['cat-file', '--batch'], { cwd, input: unique.join('\n') + '\n' }).stdout;
  let pos = 0;
  for (const oid of unique) {
    const nl = buf.indexOf(10, pos);
    if (nl < 0) break;
    const header = buf.toString('utf8', pos, nl);
    pos = nl + 1;
    const m = /^([0-9a-f]{40,64}) (\S+) (\d+)$/.exec(header);
    if (!m) continue; // "<oid> missing"
    const size = Number(m[3]);
    if (m[2] === 'blob') out.set(oid, buf.subarray(pos, pos + size));
    pos += size + 1;
  }
  return out;
}

/** Writes blobs into the object database; returns their ids in order. */
export function hashBlobs(blobs: Uint8Array[], cwd: string | undefined, tmpDir: string): string[] {
  if (blobs.length === 0) return [];
  if (blobs.length === 1) return [gitText(['hash-object', '-w', '--stdin'], { cwd, input: blobs[0] })];
  // Many blobs: one process over temp files rather than one process each.
  fs.mkdirSync(tmpDir, { recursive: true });
  const dir = fs.mkdtempSync(path.join(tmpDir, 'blobs-'));
  try {
    const files = blobs.map((b, i) => {
      const f = path.join(dir, String(i));
      fs.writeFileSync(f, b);
      return f;
    });
    const ids = gitText(['hash-object', '-w', '--no-filters', '--stdin-paths'], { cwd, input: files.join('\n') + '\n' }).split('\n');
    if (ids.length !== blobs.length) throw new GitError(['hash-object'], `wrote ${ids.length} of ${blobs.length} blobs`, 0);
    return ids;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A new tree: `base` (a tree-ish, or undefined for empty) plus blobs at the given paths, built in a
 * temporary index so neither the user's index nor the work tree is involved.
 */
export function writeTree(base: string | undefined, adds: { path: string; oid: string }[], cwd: string | undefined, tmpDir: string): string {
  fs.mkdirSync(tmpDir, { recursive: true });
  const index = path.join(tmpDir, `index-${process.pid}-${randomBytes(4).toString('hex')}`);
  const env = { ...process.env, GIT_INDEX_FILE: index };
  try {
    git(base ? ['read-tree', base] : ['read-tree', '--empty'], { cwd, env });
    if (adds.length) {
      const info = adds.map((a) => `100644 ${a.oid}\t${a.path}\0`).join('');
      git(['update-index', '-z', '--add', '--index-info'], { cwd, env, input: info });
    }
    return gitText(['write-tree'], { cwd, env });
  } finally {
    fs.rmSync(index, { force: true });
    fs.rmSync(index + '.lock', { force: true });
  }
}

/** The tree of a commit. */
export function treeOf(commit: string, cwd?: string): string {
  return gitText(['rev-parse', '--verify', `${commit}^{tree}`], { cwd });
}

/**
 * A commit object. When the user has no identity configured, metadata commits still get written,
 * under a neutral one: lineage must not fail for want of user.email.
 */
export function commitTree(tree: string, parents: string[], message: string, cwd?: string): string {
  const args = ['commit-tree', tree, ...parents.flatMap((p) => ['-p', p])];
  const r = git(args, { cwd, input: message, okStatus: [128] });
  if (r.status === 0) return r.stdout.toString('utf8').trim();
  if (!/tell me who you are|auto-detect|empty ident/i.test(r.stderr)) throw new GitError(args, r.stderr, r.status);
  const env = { ...process.env };
  env.GIT_COMMITTER_NAME ||= 'mgit';
  env.GIT_COMMITTER_EMAIL ||= 'mgit@localhost';
  env.GIT_AUTHOR_NAME ||= env.GIT_COMMITTER_NAME;
  env.GIT_AUTHOR_EMAIL ||= env.GIT_COMMITTER_EMAIL;
  return gitText(args, { cwd, env, input: message });
}

/** Which of these paths exist in a tree-ish (one `cat-file --batch-check` for all of them). */
export function existingPaths(treeish: string, paths: string[], cwd?: string): Set<string> {
  const out = new Set<string>();
  if (!paths.length) return out;
  const lines = gitText(['cat-file', '--batch-check=%(objecttype)'], { cwd, input: paths.map((p) => `${treeish}:${p}`).join('\n') + '\n' }).split('\n');
  paths.forEach((p, i) => {
    if (lines[i] === 'blob') out.add(p);
  });
  return out;
}

const ZERO = /^0+$/;

/**
 * Moves a ref from `old` (undefined: the ref must not exist) to `next`, atomically. Returns false when
 * the ref was not at `old` (someone else moved it first): the caller re-reads and retries.
 */
export function updateRefCas(ref: string, next: string, old: string | undefined, message: string, cwd?: string): boolean {
  const oldArg = old ?? '0'.repeat(next.length);
  const r = git(['update-ref', '--create-reflog', '-m', message, ref, next, oldArg], { cwd, okStatus: [1, 128] });
  if (r.status === 0) return true;
  // Another writer holds the ref's lock, or moved the ref: either way, re-read and try again.
  if (/cannot lock ref|unable to create .*\.lock|but expected/i.test(r.stderr)) {
    sleepMs(5 + Math.floor(Math.random() * 45));
    return false;
  }
  const now = revParse(ref, cwd);
  if ((now ?? '') !== (old && !ZERO.test(old) ? old : '')) return false;
  throw new GitError(['update-ref', ref], r.stderr, r.status);
}

/** Whether `ancestor` is reachable from `descendant`. */
export function isAncestor(ancestor: string, descendant: string, cwd?: string): boolean {
  return git(['merge-base', '--is-ancestor', ancestor, descendant], { cwd, okStatus: [1] }).status === 0;
}

/** Blocks the thread briefly (a retry back-off in synchronous code). */
function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// Git plumbing for diff and merge: which paths changed between two trees (or a tree and the index or
// work tree), blob ids of `REV:path` names, and the blobs of the index's conflict stages.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { GitError } from '../errors.js';
import { git, gitZ } from './git.js';

export const ZERO_OID = /^0+$/;

export interface RawChange {
  status: string;
  oldMode: string;
  newMode: string;
  oldOid: string;
  newOid: string;
  /** path in the old tree (differs from path for renames and copies) */
  oldPath: string;
  path: string;
}

/**
 * `git diff --raw -z` with the caller's revision arguments and pathspecs. A new side of all zeros is the
 * work tree (git has not hashed it); an old or new side of all zeros with status A or D is absent.
 */
export function rawDiff(revArgs: string[], paths: string[], cwd: string): RawChange[] {
  const recs = gitZ(['diff', '--raw', '-z', '--no-abbrev', '--no-ext-diff', '--no-textconv', '--find-renames', ...revArgs, '--', ...paths], { cwd });
  const out: RawChange[] = [];
  for (let i = 0; i < recs.length; ) {
    const head = recs[i++]!;
    const m = /^:(\d+) (\d+) ([0-9a-f]+) ([0-9a-f]+) ([A-Z])\d*$/.exec(head);
    if (!m) throw new Error(`unexpected git diff --raw output: ${head}`);
    const status = m[5]!;
    const first = recs[i++]!;
    const second = status === 'R' || status === 'C' ? recs[i++]! : first;
    out.push({ oldMode: m[1]!, newMode: m[2]!, oldOid: m[3]!, newOid: m[4]!, status, oldPath: first, path: second });
  }
  return out;
}

/** The blob a revision expression names (`HEAD~1:models/a.onnx`, `:2:a.onnx`), or undefined. */
export function resolveBlob(expr: string, cwd?: string): string | undefined {
  if (!expr.includes(':')) return undefined; // a bare name is a revision or a file, never a blob here
  const r = git(['rev-parse', '--verify', '--quiet', '--end-of-options', expr], { cwd, okStatus: [1, 128] });
  if (r.status !== 0) return undefined;
  const oid = r.stdout.toString('utf8').trim();
  const t = git(['cat-file', '-t', oid], { cwd, okStatus: [1, 128] });
  return t.status === 0 && t.stdout.toString('utf8').trim() === 'blob' ? oid : undefined;
}

/** Writes a blob's raw content (no filters) to a file, streaming, so a whole model never sits in memory. */
export function blobToFile(oid: string, dest: string, cwd?: string): void {
  const fd = fs.openSync(dest, 'w');
  try {
    const r = spawnSync('git', ['cat-file', 'blob', oid], { cwd, stdio: ['ignore', fd, 'pipe'] });
    if (r.error) throw new GitError(['cat-file', 'blob', oid], r.error.message, null);
    if (r.status !== 0) throw new GitError(['cat-file', 'blob', oid], r.stderr?.toString() ?? '', r.status);
  } finally {
    fs.closeSync(fd);
  }
}

/** Object ids of the conflict stages (1 base, 2 ours, 3 theirs) of a path in the index. */
export function conflictStages(path: string, cwd?: string): Partial<Record<1 | 2 | 3, { oid: string; mode: string }>> {
  const out: Partial<Record<1 | 2 | 3, { oid: string; mode: string }>> = {};
  for (const rec of gitZ(['ls-files', '-s', '-z', '--', path], { cwd })) {
    const tab = rec.indexOf('\t');
    const [mode, oid, stage] = rec.slice(0, tab).split(' ');
    const n = Number(stage);
    if ((n === 1 || n === 2 || n === 3) && rec.slice(tab + 1) === path) out[n] = { oid: oid!, mode: mode! };
  }
  return out;
}

/** Whether git would color output for a color.* setting, given whether stdout is a terminal. */
export function colorBool(name: string, stdoutIsTty: boolean, cwd?: string): boolean {
  const r = git(['config', '--get-colorbool', name, String(stdoutIsTty)], { cwd, okStatus: [1, 128] });
  return r.status === 0 && r.stdout.toString('utf8').trim() === 'true';
}

// What the next commit changes, read from the index (honouring GIT_INDEX_FILE, which git sets for
// `commit -a` and `commit <paths>`), and the notes plumbing the test results use.

import { git, gitText, gitZ } from './git.js';
import { revParse } from './plumbing.js';

export interface StagedChange {
  path: string;
  /** blob in the index */
  blob: string;
  /** blob in HEAD, absent for added paths */
  oldBlob?: string;
}

function emptyTree(cwd?: string): string {
  return gitText(['hash-object', '-t', 'tree', '--stdin'], { cwd, input: '' });
}

/** Added and modified paths of the index against HEAD (against the empty tree before the first commit). */
export function stagedChanges(cwd?: string): StagedChange[] {
  const base = revParse('HEAD', cwd) ?? emptyTree(cwd);
  const recs = gitZ(['diff-index', '--cached', '-z', '--no-renames', '--diff-filter=AM', base], { cwd });
  const out: StagedChange[] = [];
  for (let i = 0; i + 1 < recs.length; i += 2) {
    const [, , oldOid, newOid, status] = recs[i].slice(1).split(' ');
    out.push({ path: recs[i + 1], blob: newOid, oldBlob: status === 'A' || /^0+$/.test(oldOid) ? undefined : oldOid });
  }
  return out;
}

/** The tree the index would commit (written to the object database, as git commit will do anyway). */
export function indexTree(cwd?: string): string {
  return gitText(['write-tree'], { cwd });
}

/** Blob ids of paths in a tree-ish (missing paths are absent). */
export function blobsAt(treeish: string, paths: string[], cwd?: string): Map<string, string> {
  const out = new Map<string, string>();
  if (paths.length === 0) return out;
  for (const rec of gitZ(['ls-tree', '-z', treeish, '--', ...paths], { cwd })) {
    const tab = rec.indexOf('\t');
    const [, type, oid] = rec.slice(0, tab).split(' ');
    if (type === 'blob') out.set(rec.slice(tab + 1), oid);
  }
  return out;
}

/** Commits that changed a path, oldest first, each with the path's blob there (deletions skipped). */
export function pathHistory(path: string, rev = 'HEAD', cwd?: string): { commit: string; blob: string }[] {
  const commits = gitText(['rev-list', '--reverse', '--topo-order', rev, '--', path], { cwd }).split('\n').filter(Boolean);
  const out: { commit: string; blob: string }[] = [];
  for (const c of commits) {
    const b = blobsAt(c, [path], cwd).get(path);
    if (b) out.push({ commit: c, blob: b });
  }
  return out;
}

/** Appends text to a commit's note in a notes ref (created when missing). */
export function appendNote(ref: string, commit: string, text: string, cwd?: string): void {
  git(['notes', `--ref=${ref}`, 'append', '-m', text, commit], { cwd });
}

export function readNote(ref: string, commit: string, cwd?: string): string | undefined {
  const r = git(['notes', `--ref=${ref}`, 'show', commit], { cwd, okStatus: [1] });
  return r.status === 0 ? r.stdout.toString('utf8') : undefined;
}

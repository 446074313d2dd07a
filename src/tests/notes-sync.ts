// Test-result notes travel between clones (docs/tests.md, "Notes format"): a fetch refspec on each
// remote makes a plain `git fetch` bring the remote's notes to refs/notes/mgit/remotes/<remote>/tests
// (under refs/notes/, where git reads notes: `git log --notes=mgit/remotes/origin/tests`; never
// over the local notes: a fetch can only overwrite, not merge), readers (`git mgit test show`) take the
// union, and the pre-push hook pushes the local notes to plain remotes, merging the remote's first
// (`git notes merge -s cat_sort_uniq`: a union of lines, never a conflict) when someone else pushed.

import { errorMessage } from '../errors.js';
import { forEachRef, isAncestor, revParse } from '../git/plumbing.js';
import { fetchRef, pushRef, remoteNames } from '../git/ref-transfer.js';
import { git } from '../git/git.js';
import { readNote } from '../git/staged.js';
import type { Repo } from '../repo.js';
import { trace } from '../trace.js';

export const NOTES_REF = 'refs/notes/mgit/tests';
const REMOTE_PREFIX = 'refs/notes/mgit/remotes/';

/** A glob, like the lineage refspec: no error from `git fetch` when the remote has no notes yet. */
export function notesRefspec(remote: string): string {
  return `+${NOTES_REF}*:${REMOTE_PREFIX}${remote}/tests*`;
}

export function remoteNotesRef(remote: string): string {
  return `${REMOTE_PREFIX}${remote}/tests`;
}

function cwdOf(repo: Repo): string {
  return repo.paths.top ?? repo.paths.gitDir;
}

/** The test-result note of a commit: the union of the local note's lines and every remote copy's. */
export function readTestNotes(commit: string, cwd?: string): string | undefined {
  const refs = [NOTES_REF, ...forEachRef([REMOTE_PREFIX], cwd).filter((r) => r.ref.endsWith('/tests')).map((r) => r.ref)];
  const lines: string[] = [];
  let found = false;
  for (const ref of refs) {
    const text = readNote(ref, commit, cwd);
    if (text === undefined) continue;
    found = true;
    for (const l of text.split('\n')) if (l !== '' && !lines.includes(l)) lines.push(l);
  }
  return found ? lines.join('\n') + '\n' : undefined;
}

/** Merges notes commit `theirs` into the local notes ref (fast-forward, or a cat_sort_uniq merge). */
export function mergeTestNotes(repo: Repo, theirs: string): 'up-to-date' | 'fast-forward' | 'merged' {
  const cwd = cwdOf(repo);
  const local = revParse(NOTES_REF, cwd);
  if (local && isAncestor(theirs, local, cwd)) return 'up-to-date';
  if (!local || isAncestor(local, theirs, cwd)) {
    git(['update-ref', '-m', 'mgit: test notes fast-forward', NOTES_REF, theirs, ...(local ? [local] : [])], { cwd });
    return 'fast-forward';
  }
  git(['notes', `--ref=${NOTES_REF}`, 'merge', '-q', '-s', 'cat_sort_uniq', theirs], { cwd });
  return 'merged';
}

/** Pushes the local test notes to a remote; when it has notes we lack, fetches and merges them first. */
export function pushTestNotes(repo: Repo, remote: string): 'pushed' | 'up-to-date' | 'no-notes' {
  const cwd = cwdOf(repo);
  if (!revParse(NOTES_REF, cwd)) return 'no-notes';
  const named = remoteNames(cwd).includes(remote);
  const tracking = named ? remoteNotesRef(remote) : 'refs/notes/mgit/fetch-tmp/tests';
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      const r = pushRef(remote, NOTES_REF, NOTES_REF, cwd);
      if (r !== 'rejected') {
        if (named) git(['update-ref', tracking, revParse(NOTES_REF, cwd)!], { cwd });
        return r === 'ok' ? 'pushed' : 'up-to-date';
      }
      trace(`test notes push to ${remote} rejected: fetching and merging first`);
      if (fetchRef(remote, NOTES_REF, tracking, cwd) === 'ok') mergeTestNotes(repo, revParse(tracking, cwd)!);
    }
  } finally {
    if (!named) git(['update-ref', '-d', tracking], { cwd, okStatus: [1] });
  }
  throw new Error(`${remote}'s test notes kept changing while mgit pushed`);
}

/** The pre-push hook's part for plain remotes; never fails the user's push. */
export function pushTestNotesFromHook(repo: Repo, remote: string, url: string, warn: (msg: string) => void): void {
  if (url.startsWith('mgit::') || remote.startsWith('mgit::')) return; // see docs/tests.md: not carried by the helper yet
  const cwd = cwdOf(repo);
  const local = revParse(NOTES_REF, cwd);
  if (!local) return;
  const named = remoteNames(cwd).includes(remote);
  try {
    if (named) {
      // notes a plain `git fetch` brought: merge them now, so the push fast-forwards
      const theirs = revParse(remoteNotesRef(remote), cwd);
      if (theirs === local) return; // already there
      if (theirs) mergeTestNotes(repo, theirs);
    }
    pushTestNotes(repo, remote);
  } catch (e) {
    warn(`test results (${NOTES_REF}) were not pushed to ${remote} (${errorMessage(e)}); git push ${remote} ${NOTES_REF} later`);
  }
}

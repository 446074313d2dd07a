// Lineage travels between clones (docs/lineage-spec.md, "Sync"): `lineage push` and `lineage fetch`
// for any remote, the pre-push hook for plain remotes (the remote helper does it for mgit:: remotes),
// and a fetch refspec on each remote so that a plain `git fetch` brings the remote's lineage to
// refs/mgit/remotes/<remote>/lineage, where every lineage read already looks.
// Fetching merges (a union: records only add up), so pushing after a fetch always fast-forwards
// unless someone pushed again in between, in which case we fetch, merge and push again.

import { MgitError, errorMessage } from '../errors.js';
import { revParse } from '../git/plumbing.js';
import { defaultRemote, ensureFetchRefspec, fetchRef, pushRef, remoteNames, remoteUrl, removeFetchRefspec } from '../git/ref-transfer.js';
import { git } from '../git/git.js';
import type { Repo } from '../repo.js';
import { trace } from '../trace.js';
import { notesRefspec } from '../tests/notes-sync.js';
import { LINEAGE_REF, mergeLineage, remoteLineageRef, type MergeOutcome } from './ref.js';

/** The refspec that makes `git fetch <remote>` bring lineage (a glob: no error when the remote has none). */
export function lineageRefspec(remote: string): string {
  return `+refs/mgit/lineage*:refs/mgit/remotes/${remote}/lineage*`;
}

function cwdOf(repo: Repo): string {
  return repo.paths.top ?? repo.paths.gitDir;
}

/** Makes every remote (or the named one) fetch lineage with plain `git fetch`. */
export function ensureLineageRefspecs(repo: Repo, remote?: string): string[] {
  const cwd = cwdOf(repo);
  const names = remote ? [remote] : remoteNames(cwd);
  // test-result notes (docs/tests.md) travel the same way: both refspecs, one message
  return names.filter((r) => remoteUrl(r, cwd) !== undefined && [ensureFetchRefspec(r, lineageRefspec(r), cwd), ensureFetchRefspec(r, notesRefspec(r), cwd)].some(Boolean));
}

export function removeLineageRefspecs(repo: Repo): void {
  const cwd = cwdOf(repo);
  for (const r of remoteNames(cwd)) {
    removeFetchRefspec(r, lineageRefspec(r), cwd);
    removeFetchRefspec(r, notesRefspec(r), cwd);
  }
}

function resolveRemote(repo: Repo, remote?: string): { name: string; named: boolean } {
  const cwd = cwdOf(repo);
  if (remote) return { name: remote, named: remoteNames(cwd).includes(remote) };
  const d = defaultRemote(cwd);
  if (!d) throw new MgitError('ENOREMOTE', 'no remote given and no default remote (upstream, origin or a single remote): name one');
  return { name: d, named: true };
}

export interface FetchResult {
  remote: string;
  outcome: MergeOutcome | 'no-lineage';
}

/** Fetches a remote's lineage and merges it into the local graph. */
export function fetchLineage(repo: Repo, remote?: string): FetchResult {
  const cwd = cwdOf(repo);
  const { name, named } = resolveRemote(repo, remote);
  if (named) ensureLineageRefspecs(repo, name);
  const dst = named ? remoteLineageRef(name) : 'refs/mgit/fetch-tmp/lineage';
  try {
    if (fetchRef(name, LINEAGE_REF, dst, cwd) === 'missing') return { remote: name, outcome: 'no-lineage' };
    const theirs = revParse(dst, cwd)!;
    return { remote: name, outcome: mergeLineage(repo, theirs, named ? `${name}` : 'fetched lineage') };
  } finally {
    if (!named) git(['update-ref', '-d', dst], { cwd, okStatus: [1] });
  }
}

export interface PushResult {
  remote: string;
  outcome: 'pushed' | 'up-to-date' | 'no-lineage';
  /** merges of the remote's lineage that had to happen first */
  merged: number;
}

/** Pushes the local lineage; when the remote has records we lack, fetches and merges them first. */
export function pushLineage(repo: Repo, remote?: string): PushResult {
  const cwd = cwdOf(repo);
  const { name, named } = resolveRemote(repo, remote);
  if (!revParse(LINEAGE_REF, cwd)) return { remote: name, outcome: 'no-lineage', merged: 0 };
  if (named) ensureLineageRefspecs(repo, name);
  let merged = 0;
  for (let attempt = 0; attempt < 5; attempt++) {
    const r = pushRef(name, LINEAGE_REF, LINEAGE_REF, cwd);
    if (r !== 'rejected') {
      const local = revParse(LINEAGE_REF, cwd)!;
      if (named) git(['update-ref', remoteLineageRef(name), local], { cwd });
      return { remote: name, outcome: r === 'ok' ? 'pushed' : 'up-to-date', merged };
    }
    trace(`lineage push to ${name} rejected: fetching and merging first`);
    fetchLineage(repo, name);
    merged++;
  }
  throw new MgitError('ELINEAGEBUSY', `${name}'s lineage kept changing while mgit pushed; try again`);
}

/**
 * The pre-push hook's part: push lineage along with a push to a plain remote. Never fails the user's
 * push (lineage can always be pushed later): problems become one warning.
 */
export function pushLineageFromHook(repo: Repo, remote: string, url: string, warn: (msg: string) => void): void {
  const cwd = cwdOf(repo);
  if (url.startsWith('mgit::') || remote.startsWith('mgit::')) return; // the remote helper carries lineage
  const local = revParse(LINEAGE_REF, cwd);
  const named = remoteNames(cwd).includes(remote);
  if (named) ensureLineageRefspecs(repo, remote);
  if (!local) return;
  if (named && revParse(remoteLineageRef(remote), cwd) === local) return; // already there
  try {
    pushLineage(repo, remote);
  } catch (e) {
    warn(`lineage was not pushed to ${remote} (${errorMessage(e)}); run git mgit lineage push ${remote} later`);
  }
}

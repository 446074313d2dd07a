// Moving single metadata refs (the lineage ref) to and from remotes, and the fetch refspecs that let a
// plain `git fetch` bring them. Pushes pass --no-verify: they run from inside our own pre-push hook,
// where a nested push must not run the hooks again.
// Never: force a push, or fetch into a ref outside refs/mgit/ (and, for test-result notes, the
// remote-tracking copies under refs/notes/mgit/).

import { GitError } from '../errors.js';
import { configGet, configGetAll, git, gitText } from './git.js';

export function remoteNames(cwd?: string): string[] {
  return gitText(['remote'], { cwd })
    .split('\n')
    .filter((l) => l !== '');
}

/** The remote to use when none is named: the current branch's upstream remote, origin, or the only one. */
export function defaultRemote(cwd?: string): string | undefined {
  const names = remoteNames(cwd);
  const branch = git(['symbolic-ref', '-q', '--short', 'HEAD'], { cwd, okStatus: [1, 128] }).stdout.toString('utf8').trim();
  const upstream = branch ? configGet(`branch.${branch}.remote`, { cwd }) : undefined;
  if (upstream && names.includes(upstream)) return upstream;
  if (names.includes('origin')) return 'origin';
  return names.length === 1 ? names[0] : undefined;
}

export function remoteUrl(remote: string, cwd?: string): string | undefined {
  const r = git(['remote', 'get-url', remote], { cwd, okStatus: [2, 128] });
  return r.status === 0 ? r.stdout.toString('utf8').trim() : undefined;
}

/**
 * Fetches one ref from a remote (a name or a URL) into `dst`. 'missing' when the remote does not
 * have it, which for metadata refs just means nobody pushed any yet.
 */
export function fetchRef(remote: string, src: string, dst: string, cwd?: string): 'ok' | 'missing' {
  if (!dst.startsWith('refs/mgit/') && !dst.startsWith('refs/notes/mgit/remotes/') && !dst.startsWith('refs/notes/mgit/fetch-tmp/')) throw new Error(`refusing to fetch into ${dst}`);
  const r = git(['-c', 'gc.auto=0', 'fetch', '-q', '--no-tags', '--no-write-fetch-head', remote, `+${src}:${dst}`], { cwd, okStatus: [1, 128] });
  if (r.status === 0) return 'ok';
  if (/couldn't find remote ref/i.test(r.stderr)) return 'missing';
  throw new GitError(['fetch', remote, src], r.stderr, r.status);
}

/**
 * Pushes `src` to `dst` on a remote without forcing and without running hooks. 'rejected' when the
 * remote's ref is not an ancestor of ours (someone else pushed): fetch, merge and push again.
 */
export function pushRef(remote: string, src: string, dst: string, cwd?: string): 'ok' | 'up-to-date' | 'rejected' {
  const r = git(['push', '--no-verify', '--porcelain', remote, `${src}:${dst}`], { cwd, okStatus: [1, 128] });
  const line = r.stdout
    .toString('utf8')
    .split('\n')
    .find((l) => l.includes(`\t${src}:${dst}\t`));
  if (line?.startsWith('=')) return 'up-to-date';
  if (line?.startsWith('!')) {
    if (/non-fast-forward|fetch first|stale info/.test(line)) return 'rejected';
    throw new GitError(['push', remote, src], `${line.split('\t').slice(2).join(' ')} ${r.stderr}`, r.status);
  }
  if (r.status === 0 && line) return 'ok';
  throw new GitError(['push', remote, src], r.stderr, r.status);
}

/** Adds a fetch refspec to a named remote unless it is there already; true when it was added. */
export function ensureFetchRefspec(remote: string, refspec: string, cwd?: string): boolean {
  const key = `remote.${remote}.fetch`;
  if (configGetAll(key, { cwd }).includes(refspec)) return false;
  git(['config', '--add', key, refspec], { cwd });
  return true;
}

/** Removes a fetch refspec from a named remote (uninstall). */
export function removeFetchRefspec(remote: string, refspec: string, cwd?: string): void {
  const key = `remote.${remote}.fetch`;
  git(['config', '--fixed-value', '--unset-all', key, refspec], { cwd, okStatus: [5, 128, 129] });
}

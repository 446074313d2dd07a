// File history as typed records: which blob each commit put at each path, renames detected (so a
// model's versions follow it across `git mv`, as `git log --follow` does). One `git log --raw -z`
// process for the whole history; merges contribute nothing of their own, as in `git log`.
// Never: pass --all (metadata refs such as refs/mgit/* hold no models), or fetch missing objects.

import { git, gitText } from './git.js';

export interface RawChange {
  /** A (added), M (modified), R (renamed), T (type changed), D (deleted), C (copied) */
  status: string;
  path: string;
  /** the path before a rename or copy */
  fromPath?: string;
  blob: string;
  mode: string;
}

export interface LoggedCommit {
  commit: string;
  /** committer time, seconds since the epoch */
  time: number;
  subject: string;
  changes: RawChange[];
}

/** The revisions whose history holds the repository's models: branches, tags, remote branches, HEAD. */
export function historyRevs(cwd?: string): string[] {
  const revs: string[] = [];
  const refs = gitText(['for-each-ref', '--count=1', '--format=%(refname)', 'refs/heads/', 'refs/tags/', 'refs/remotes/'], { cwd });
  if (refs) revs.push('--branches', '--tags', '--remotes');
  if (git(['rev-parse', '-q', '--verify', 'HEAD^{commit}'], { cwd, okStatus: [1, 128] }).status === 0) revs.push('HEAD');
  return revs;
}

/** Commits reachable from `revs`, newest first, with what each changed. `paths` limits the scan. */
export function logRaw(revs: string[], cwd?: string, paths: string[] = []): LoggedCommit[] {
  if (revs.length === 0) return [];
  const out = git(['log', '-z', '--raw', '--no-abbrev', '-M', '--date-order', '--format=format:%x1e%H%x1f%ct%x1f%s', ...revs, '--', ...paths], { cwd }).stdout.toString('utf8');
  const tokens = out.split('\0');
  const commits: LoggedCommit[] = [];
  let cur: LoggedCommit | undefined;
  for (let i = 0; i < tokens.length; i++) {
    let tok = tokens[i];
    if (tok.startsWith('\x1e')) {
      const nl = tok.indexOf('\n');
      const head = nl < 0 ? tok.slice(1) : tok.slice(1, nl);
      const [commit, time, ...subject] = head.split('\x1f');
      cur = { commit, time: Number(time), subject: subject.join('\x1f'), changes: [] };
      commits.push(cur);
      if (nl < 0) continue;
      tok = tok.slice(nl + 1);
    }
    if (!cur || !tok.startsWith(':')) continue;
    // :<old mode> <new mode> <old blob> <new blob> <status>, then the path(s) as tokens of their own
    const [, mode, , blob, status] = tok.slice(1).split(' ');
    const code = status[0];
    if (code === 'R' || code === 'C') {
      cur.changes.push({ status: code, fromPath: tokens[i + 1], path: tokens[i + 2], blob, mode });
      i += 2;
    } else {
      cur.changes.push({ status: code, path: tokens[i + 1], blob, mode });
      i += 1;
    }
  }
  return commits;
}

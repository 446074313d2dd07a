// Model versions in the order history introduced them (oldest first), for the commands that must
// visit parents before children: repack (a chunk may only be predicted from chunks placed before it)
// and stats (stored bytes are attributed to the version that first needed them). Covers every ref,
// the reflogs and the index of every worktree; never triggers downloads in a partial clone.

import { spawn } from 'node:child_process';
import { gitZ } from './git.js';
import { indexBlobs, pointersIn, type FoundPointer } from './scan.js';

/** (blob, path) pairs as commits added or changed them, oldest commit first, each blob once. */
async function* blobsInCommitOrder(cwd?: string): AsyncGenerator<{ oid: string; path: string }> {
  const args = ['log', '--all', '--reflog', '--reverse', '--topo-order', '--no-renames', '--raw', '--no-abbrev', '-z', '--format=%x01%H', '-m', '--first-parent', '--diff-filter=AM'];
  const proc = spawn('git', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<number>((resolve) => proc.on('close', (c) => resolve(c ?? 128)));
  const seen = new Set<string>();
  // With -z: "\x01<commit>\0", then per file "\n:<modes> <oids> <status>\0<path>\0" (the first entry of a
  // commit carries the newline that ends the header).
  let pending: string | undefined;
  let buf = '';
  for await (const chunk of proc.stdout) {
    buf += chunk.toString('utf8');
    const parts = buf.split('\0');
    buf = parts.pop()!;
    for (let rec of parts) {
      if (pending !== undefined) {
        const oid = pending;
        pending = undefined;
        if (!seen.has(oid)) {
          seen.add(oid);
          yield { oid, path: rec };
        }
        continue;
      }
      rec = rec.replace(/^\n+/, '');
      if (!rec.startsWith(':')) continue; // a commit header (\x01<oid>)
      const f = rec.slice(1).split(' ');
      const mode = f[1];
      if (mode === '100644' || mode === '100755') pending = f[3];
      else pending = '';
    }
  }
  const code = await done;
  if (code !== 0 && !/does not have any commits|unknown revision|bad default revision/.test(stderr)) throw new Error(`git log failed: ${stderr.trim()}`);
}

/** Worktree paths of this repository (the main one first). */
export function worktrees(cwd?: string): string[] {
  const out: string[] = [];
  for (const rec of gitZ(['worktree', 'list', '--porcelain', '-z'], { cwd })) {
    if (rec.startsWith('worktree ')) out.push(rec.slice('worktree '.length));
  }
  return out;
}

/** Every model version reachable from refs, reflogs and worktree indexes, oldest first. */
export async function* versionsInOrder(cwd?: string): AsyncGenerator<FoundPointer> {
  const seen = new Set<string>();
  for await (const fp of pointersIn(blobsInCommitOrder(cwd), cwd)) {
    seen.add(fp.oid);
    yield fp;
  }
  const staged: { oid: string; path: string }[] = [];
  for (const wt of worktrees(cwd)) {
    let entries: ReturnType<typeof indexBlobs>;
    try {
      entries = indexBlobs(wt);
    } catch {
      continue; // a worktree whose folder is gone
    }
    for (const e of entries) if (!seen.has(e.oid) && (e.mode === '100644' || e.mode === '100755')) staged.push({ oid: e.oid, path: e.path });
  }
  yield* pointersIn(staged, cwd);
}

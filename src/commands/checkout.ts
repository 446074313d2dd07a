// `git mgit checkout [paths]`: writes the real model over every work-tree file that is still a pointer
// (a checkout with GIT_MGIT_SKIP_SMUDGE, or chunks that arrived later; chunks the store lacks are
// downloaded from the remote's shared storage first), then refreshes exactly those
// index entries so `git status` stays clean. Files are written beside their target and renamed into
// place, so a failure never leaves half a model. Also the way to check out models too large for git's
// in-memory smudge.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { parsePointer, pointerChunks, pointerVersion, type Pointer } from '../codec/pointer.js';
import { errorMessage, MgitError } from '../errors.js';
import { reconstruct } from '../filter/smudge.js';
import { refreshIndex } from '../git/git.js';
import { indexPointers } from '../git/scan.js';
import { checkoutRemote } from '../remote/locate.js';
import { fetchChunks } from '../remote/share.js';
import { Repo } from '../repo.js';

export function register(program: Command): void {
  program
    .command('checkout')
    .description('replace pointers in the work tree with the models they name')
    .argument('[paths...]', 'only these files or folders')
    .action(async (paths: string[]) => checkout(paths));
}

function selected(file: string, paths: string[]): boolean {
  if (paths.length === 0) return true;
  return paths.some((p) => {
    const q = p.replace(/\/+$/, '');
    return q === '' || q === '.' || file === q || file.startsWith(q + '/');
  });
}

async function checkout(rawPaths: string[]): Promise<void> {
  const repo = Repo.require();
  const top = repo.top;
  const cwdRel = path.relative(top, process.cwd());
  const paths = rawPaths.map((p) => path.posix.normalize(path.join(cwdRel, p).split(path.sep).join('/')));
  const done: string[] = [];
  const failed: string[] = [];
  const wanted = (await indexPointers(top)).filter((fp) => fp.pointer && selected(fp.path, paths));
  await downloadMissing(repo, wanted.filter((fp) => isPointerFile(path.join(top, fp.path))));
  for (const fp of wanted) {
    if (!fp.pointer) continue;
    const file = path.join(top, fp.path);
    let head: Buffer;
    try {
      const fd = fs.openSync(file, 'r');
      head = Buffer.alloc(64);
      fs.readSync(fd, head, 0, 64, 0);
      fs.closeSync(fd);
    } catch {
      continue; // deleted in the work tree: leave it to git
    }
    if (pointerVersion(head) === undefined) continue; // already a model
    const worktreePointer = safeParse(fs.readFileSync(file));
    if (!worktreePointer || worktreePointer.sha256 !== fp.pointer.sha256) continue; // locally edited: not ours to touch
    const tmp = `${file}.mgit-${process.pid}.tmp`;
    try {
      const fd = fs.openSync(tmp, 'w', fs.statSync(file).mode);
      try {
        for (const piece of reconstruct(repo.store, fp.pointer)) fs.writeSync(fd, piece);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, file);
      done.push(fp.path);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      process.stderr.write(`mgit: ${fp.path}: ${errorMessage(e)}\n`);
      failed.push(fp.path);
    }
  }
  refreshIndex(done, top);
  if (done.length) process.stdout.write(`checked out ${done.length} model(s)\n`);
  if (failed.length) throw new MgitError('ECHECKOUT', `${failed.length} model(s) could not be checked out: ${failed.join(', ')}`);
}

function isPointerFile(file: string): boolean {
  try {
    const fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(64);
    fs.readSync(fd, head, 0, 64, 0);
    fs.closeSync(fd);
    return pointerVersion(head) !== undefined;
  } catch {
    return false;
  }
}

/** Chunks the models need and the store lacks come from the remote's shared storage first, when it has one. */
async function downloadMissing(repo: Repo, models: { pointer?: Pointer }[]): Promise<void> {
  const missing = new Set<string>();
  for (const fp of models) for (const c of fp.pointer ? pointerChunks(fp.pointer) : []) if (!repo.store.has(c.chunk)) missing.add(c.chunk);
  if (missing.size === 0) return;
  let report;
  try {
    report = await fetchChunks(repo, missing, { remote: checkoutRemote(undefined, repo.top), cwd: repo.top });
  } catch (e) {
    process.stderr.write(`mgit: cannot download missing chunks: ${errorMessage(e)}\n`);
    return;
  }
  for (const [, e] of report.failures) process.stderr.write(`mgit: ${errorMessage(e)}\n`);
}

function safeParse(b: Buffer) {
  try {
    return parsePointer(b);
  } catch {
    return undefined;
  }
}

// `git mgit fsck`: checks that every model reachable from refs, reflogs and the index can be rebuilt:
// its pointer parses and each chunk it names is in the store and decodes to its id. Exit 1 when
// anything is missing or corrupt, naming the chunk and the models that need it.

import type { Command } from 'commander';
import { createHash } from 'node:crypto';
import { reconstruct } from '../filter/smudge.js';
import { pointerChunks } from '../codec/pointer.js';
import { errorMessage } from '../errors.js';
import { printJson } from '../format.js';
import { indexBlobs, pointersIn, pointersInHistory, type FoundPointer } from '../git/scan.js';
import { Repo } from '../repo.js';

export function register(program: Command): void {
  program
    .command('fsck')
    .description('verify that every reachable model can be rebuilt from the chunk store')
    .option('--full', 'also rebuild every model and check it against the sha256 in its pointer')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean; full?: boolean }) => {
      const report = await fsck(Repo.require(), { full: opts.full });
      if (opts.json) printJson(report);
      else {
        for (const b of report.badPointers) process.stdout.write(`bad pointer ${b.oid} at ${b.path}: ${b.error}\n`);
        for (const c of report.missing) process.stdout.write(`missing chunk ${c.chunk} needed by ${c.models.join(', ')}\n`);
        for (const c of report.corrupt) process.stdout.write(`corrupt chunk ${c.chunk} (${c.error}) needed by ${c.models.join(', ')}\n`);
        for (const m of report.mismatched) process.stdout.write(`model ${m.path} (${m.oid}) rebuilds to other bytes than its pointer names\n`);
        process.stdout.write(`${report.pointers} pointer(s), ${report.chunks} chunk(s) checked: ${report.ok ? 'ok' : 'PROBLEMS FOUND'}\n`);
      }
      if (!report.ok) process.exitCode = 1;
    });
}

export interface FsckReport {
  ok: boolean;
  pointers: number;
  chunks: number;
  missing: { chunk: string; models: string[] }[];
  corrupt: { chunk: string; error: string; models: string[] }[];
  badPointers: { oid: string; path: string; error: string }[];
  /** with --full: models whose rebuilt bytes do not hash to their pointer's sha256 */
  mismatched: { oid: string; path: string }[];
}

export async function fsck(repo: Repo, opts: { full?: boolean } = {}): Promise<FsckReport> {
  const cwd = repo.paths.top ?? repo.paths.gitDir;
  const needers = new Map<string, Set<string>>();
  const badPointers: FsckReport['badPointers'] = [];
  const seen = new Set<string>();
  const models: FoundPointer[] = [];
  const visit = (fp: FoundPointer) => {
    if (seen.has(fp.oid)) return;
    seen.add(fp.oid);
    if (!fp.pointer) {
      badPointers.push({ oid: fp.oid, path: fp.path, error: fp.error ?? 'unreadable' });
      return;
    }
    models.push(fp);
    for (const c of pointerChunks(fp.pointer)) {
      if (!needers.has(c.chunk)) needers.set(c.chunk, new Set());
      needers.get(c.chunk)!.add(fp.path);
    }
  };
  for await (const fp of pointersInHistory(['--all', '--reflog'], cwd)) visit(fp);
  if (repo.paths.top) for await (const fp of pointersIn(indexBlobs(repo.paths.top), repo.paths.top)) visit(fp);
  const missing: FsckReport['missing'] = [];
  const corrupt: FsckReport['corrupt'] = [];
  for (const [chunk, models] of needers) {
    try {
      repo.store.get(chunk);
    } catch (e) {
      const m = [...models].sort();
      if ((e as { code?: string }).code === 'ECHUNKMISSING') missing.push({ chunk, models: m });
      else corrupt.push({ chunk, error: errorMessage(e).replace(/^chunk \S+ is corrupt: /, ''), models: m });
    }
  }
  const mismatched: FsckReport['mismatched'] = [];
  if (opts.full && !missing.length && !corrupt.length) {
    for (const fp of models) {
      const hash = createHash('sha256');
      try {
        for (const piece of reconstruct(repo.store, fp.pointer!)) hash.update(piece);
        if (hash.digest('hex') !== fp.pointer!.sha256) mismatched.push({ oid: fp.oid, path: fp.path });
      } catch {
        mismatched.push({ oid: fp.oid, path: fp.path });
      }
    }
  }
  const ok = !missing.length && !corrupt.length && !badPointers.length && !mismatched.length;
  return { ok, pointers: seen.size - badPointers.length, chunks: needers.size, missing, corrupt, badPointers, mismatched };
}

// `git mgit fetch [<remote>] [--all | <path>...] [--json]`: downloads from the remote's shared storage
// the chunks of the models at HEAD (or only those under the given paths; `--all`: every model
// reachable from any local ref), so that later checkouts need no network. Writes no work-tree files:
// `git mgit checkout` turns pointers left in the work tree into models. Exit 1 when any chunk could not
// be brought in, naming it and the models that need it.

import * as path from 'node:path';
import type { Command } from 'commander';
import { pointerChunks } from '../codec/pointer.js';
import { errorMessage, MgitError } from '../errors.js';
import { humanBytes, printJson } from '../format.js';
import { remoteUrl } from '../git/remote.js';
import { pointersInHistory, treePointers, type FoundPointer } from '../git/scan.js';
import { checkoutRemote } from '../remote/locate.js';
import { fetchChunks } from '../remote/share.js';
import { Repo } from '../repo.js';

export function register(program: Command): void {
  program
    .command('fetch')
    .description("download models' chunks from a remote's shared storage into the local store")
    .argument('[remote]', 'remote whose storage to use (default: the upstream remote, else origin)')
    .argument('[paths...]', 'only the models under these paths (at HEAD)')
    .option('--all', 'every model reachable from any local ref')
    .option('--json', 'machine-readable output')
    .action(async (remote: string | undefined, paths: string[], opts: { all?: boolean; json?: boolean }) => {
      const repo = Repo.require();
      const cwd = repo.paths.top ?? repo.paths.gitDir;
      if (remote !== undefined && remoteUrl(remote, cwd) === undefined) {
        paths = [remote, ...paths];
        remote = undefined;
      }
      remote ??= checkoutRemote(undefined, cwd);
      const found: FoundPointer[] = [];
      if (opts.all) for await (const fp of pointersInHistory(['--all'], cwd)) found.push(fp);
      else {
        const rel = repo.paths.top ? path.relative(repo.paths.top, process.cwd()) : '';
        const specs = paths.map((p) => path.posix.normalize(path.join(rel, p).split(path.sep).join('/')).replace(/\/$/, ''));
        found.push(...(await treePointers('HEAD', specs, cwd)));
      }
      const needers = new Map<string, Set<string>>();
      for (const fp of found) {
        if (!fp.pointer) continue;
        for (const c of pointerChunks(fp.pointer)) {
          if (!needers.has(c.chunk)) needers.set(c.chunk, new Set());
          needers.get(c.chunk)!.add(fp.path);
        }
      }
      const report = await fetchChunks(repo, needers.keys(), { remote, cwd });
      const failures = [...report.failures].map(([chunk, e]) => ({ chunk, error: errorMessage(e), models: [...(needers.get(chunk) ?? [])].sort() }));
      if (opts.json) {
        printJson({ remote, storage: report.storage, models: found.length, chunks: needers.size, fetched: report.fetched, bytes: report.bytes, seconds: Number(report.seconds.toFixed(3)), failures });
      } else {
        for (const f of failures) process.stderr.write(`mgit: ${f.error} (needed by ${f.models.join(', ')})\n`);
        if (report.wanted === 0) process.stdout.write(`all chunks of ${found.length} model version(s) are already local\n`);
        else process.stdout.write(`fetched ${report.fetched} chunk object(s) (${humanBytes(report.bytes)}) for ${found.length} model version(s) from ${report.storage}\n`);
      }
      if (failures.length) throw new MgitError('EFETCH', `${failures.length} chunk(s) could not be fetched`);
    });
}

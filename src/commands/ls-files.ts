// `git mgit ls-files`: the models in the index, with their size and whether every chunk is local.
//
//   <sha256 prefix> <* all chunks local | - some missing> <path> (<size>)

import type { Command } from 'commander';
import { pointerChunks } from '../codec/pointer.js';
import { humanBytes, printJson } from '../format.js';
import { indexPointers } from '../git/scan.js';
import { Repo } from '../repo.js';

export function register(program: Command): void {
  program
    .command('ls-files')
    .description('list the models stored by mgit in the index')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const repo = Repo.require();
      const rows = (await indexPointers(repo.top)).map((fp) => {
        const p = fp.pointer;
        const chunks = p ? pointerChunks(p) : [];
        const missing = chunks.filter((c) => !repo.store.has(c.chunk)).length;
        return {
          path: fp.path,
          blob: fp.oid,
          sha256: p?.sha256,
          size: p?.size,
          format: p?.format,
          tensors: p ? p.parts.filter((x) => x.kind === 'tensor').length : 0,
          chunks: chunks.length,
          missingChunks: missing,
          local: !!p && missing === 0,
          error: fp.error,
        };
      });
      if (opts.json) return printJson(rows);
      for (const r of rows) {
        if (r.error) process.stdout.write(`?????????? ! ${r.path} (${r.error})\n`);
        else process.stdout.write(`${r.sha256!.slice(0, 10)} ${r.local ? '*' : '-'} ${r.path} (${humanBytes(r.size!)})\n`);
      }
    });
}

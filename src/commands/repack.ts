// `git mgit repack`: re-chooses delta bases and encodings for every reachable chunk, thoroughly, and
// packs them (like `git repack -a -d`). Pointers never change.

import type { Command } from 'commander';
import { configGet } from '../git/git.js';
import { versionsInOrder } from '../git/history.js';
import { humanBytes, printJson } from '../format.js';
import { parentVersions } from '../lineage/parents.js';
import { Repo } from '../repo.js';
import { repack, type RepackVersion } from '../store/repack.js';
import { MgitError } from '../errors.js';

export function register(program: Command): void {
  program
    .command('repack')
    .description('re-choose delta bases and encodings for every reachable chunk and pack them')
    .option('--depth <n>', 'longest delta chain (default: mgit.deltaDepth, or 10)')
    .option('--json', 'machine-readable report')
    .action(async (opts: { depth?: string; json?: boolean }) => {
      const repo = Repo.require();
      const depth = Number(opts.depth ?? configGet('mgit.deltaDepth') ?? 10);
      if (!Number.isInteger(depth) || depth < 0 || depth > 50) throw new MgitError('EUSAGE', '--depth must be a whole number from 0 to 50', 129);
      const versions: RepackVersion[] = [];
      for await (const v of versionsInOrder(repo.paths.top ?? repo.paths.gitDir)) if (v.pointer) versions.push({ path: v.path, pointer: v.pointer });
      const tty = process.stderr.isTTY && !opts.json;
      const report = repack(repo.store, versions, {
        maxDepth: depth,
        parentsOf: (v) => parentVersions(repo, v), // declared lineage parents are delta-base candidates
        progress: tty ? (d, t) => process.stderr.write(`\rrepacking models: ${d}/${t}`) : undefined,
      });
      if (tty) process.stderr.write('\n');
      if (opts.json) return printJson(report);
      process.stdout.write(`${report.versions} model version(s), ${report.chunks} chunk(s): ${humanBytes(report.bytesBefore)} -> ${humanBytes(report.bytesAfter)} in ${report.seconds.toFixed(1)} s\n`);
      for (const [name, t] of Object.entries(report.transforms).sort((a, b) => b[1].rawBytes - a[1].rawBytes)) {
        process.stdout.write(`  ${name.padEnd(11)} ${String(t.chunks).padStart(6)} chunk(s) ${humanBytes(t.rawBytes).padStart(9)} -> ${humanBytes(t.storedBytes)}\n`);
      }
      for (const u of report.unreadable) process.stderr.write(`mgit: chunk ${u.chunk} could not be read (${u.error}); run git mgit fsck\n`);
      if (report.unreadable.length) process.exitCode = 1;
    });
}

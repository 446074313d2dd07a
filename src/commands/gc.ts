// `git mgit gc`: deletes chunks nothing needs (see src/store/gc.ts), after a grace period
// (mgit.gcGracePeriod seconds, default one hour; --prune=now for none).

import type { Command } from 'commander';
import { pointerChunks } from '../codec/pointer.js';
import { MgitError } from '../errors.js';
import { humanBytes, printJson } from '../format.js';
import { configGet } from '../git/git.js';
import { versionsInOrder } from '../git/history.js';
import { Repo } from '../repo.js';
import { gc } from '../store/gc.js';

export function register(program: Command): void {
  program
    .command('gc')
    .description('delete chunks that no reachable model needs')
    .option('--prune <when>', '"now", or a grace period in seconds (default: mgit.gcGracePeriod, or 3600)')
    .option('--json', 'machine-readable report')
    .action(async (opts: { prune?: string; json?: boolean }) => {
      const repo = Repo.require();
      const raw = opts.prune ?? configGet('mgit.gcGracePeriod') ?? '3600';
      const grace = raw === 'now' ? 0 : Number(raw);
      if (!Number.isFinite(grace) || grace < 0) throw new MgitError('EUSAGE', `bad grace period ${JSON.stringify(raw)}: "now" or seconds`, 129);
      const reachable = new Set<string>();
      let broken = 0;
      for await (const v of versionsInOrder(repo.paths.top ?? repo.paths.gitDir)) {
        if (v.pointer) for (const c of pointerChunks(v.pointer)) reachable.add(c.chunk);
        else broken++;
      }
      const report = gc(repo.store, reachable, grace);
      if (opts.json) return printJson(report);
      process.stdout.write(`${report.deletedObjects} unneeded chunk object(s) deleted (${humanBytes(report.deletedBytes)}); ${report.kept} kept\n`);
      if (broken) process.stderr.write(`mgit: ${broken} unreadable pointer(s) in history; run git mgit fsck\n`);
    });
}

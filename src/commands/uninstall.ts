// `git mgit uninstall`: removes the filter and driver config and, inside a repository, mgit's hooks
// (restoring any hook mgit had chained) and the fetch refspecs that brought lineage.

import type { Command } from 'commander';
import { configUnsetSection } from '../git/git.js';
import { uninstallHooks } from '../hooks/install.js';
import { removeLineageRefspecs } from '../lineage/sync.js';
import { Repo } from '../repo.js';

export function register(program: Command): void {
  program
    .command('uninstall')
    .description('remove the mgit filter config (global, or --local) and the hooks of this repository')
    .option('--local', 'remove only the current repository config')
    .option('--skip-repo', 'leave the hooks of the current repository')
    .action((opts: { local?: boolean; skipRepo?: boolean }) => {
      for (const section of ['filter.mgit', 'merge.mgit', 'diff.mgit']) configUnsetSection(section, { scope: opts.local ? 'local' : 'global' });
      process.stdout.write(`mgit filter, merge and diff drivers removed from ${opts.local ? 'local' : 'global'} git config\n`);
      const repo = opts.skipRepo ? undefined : Repo.find();
      if (repo) {
        for (const c of uninstallHooks()) process.stdout.write(`hook ${c.hook}: ${c.action}\n`);
        removeLineageRefspecs(repo);
      }
    });
}

// `git mgit install`: the filter in git config (global by default, like `git lfs install`) and, inside
// a repository, its hooks and a fetch refspec per remote so that `git fetch` brings lineage.

import type { Command } from 'commander';
import { configSet, type ConfigScope } from '../git/git.js';
import { installHooks } from '../hooks/install.js';
import { Repo } from '../repo.js';
import { MgitError } from '../errors.js';
import { ensureLineageRefspecs } from '../lineage/sync.js';

export const FILTER_CONFIG: Record<string, string> = {
  'filter.mgit.process': 'git-mgit filter-process',
  'filter.mgit.clean': 'git-mgit clean -- %f',
  'filter.mgit.smudge': 'git-mgit smudge -- %f',
  'filter.mgit.required': 'true',
};

export function register(program: Command): void {
  program
    .command('install')
    .description('configure the mgit filter (in your global git config, or --local) and install hooks in this repository')
    .option('--local', 'configure only the current repository')
    .option('--skip-repo', 'do not install hooks in the current repository')
    .action((opts: { local?: boolean; skipRepo?: boolean }) => install(opts));
}

export function install(opts: { local?: boolean; skipRepo?: boolean; cwd?: string }): void {
  const repo = Repo.find(opts.cwd);
  if (opts.local && !repo) throw new MgitError('ENOREPO', '--local needs a git repository');
  const scope: ConfigScope = opts.local ? 'local' : 'global';
  for (const [k, v] of Object.entries(FILTER_CONFIG)) configSet(k, v, { cwd: opts.cwd, scope });
  process.stdout.write(`mgit filter configured (${scope} git config)\n`);
  if (repo && !opts.skipRepo) {
    for (const c of installHooks({ cwd: opts.cwd })) {
      if (c.action !== 'unchanged') process.stdout.write(`hook ${c.hook}: ${c.action}${c.detail ? ` (${c.detail})` : ''}\n`);
    }
    for (const r of ensureLineageRefspecs(repo)) process.stdout.write(`remote ${r}: git fetch now brings its lineage\n`);
  }
}

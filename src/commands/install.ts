// `git mgit install`: the filter and the model merge driver in git config (global by default, like
// `git lfs install`), optionally the tensor-summary diff driver for plain `git diff`, and, inside a
// repository, its hooks and a fetch refspec per remote so that `git fetch` brings lineage.

import type { Command } from 'commander';
import { configSet, type ConfigScope } from '../git/git.js';
import { installHooks } from '../hooks/install.js';
import { Repo } from '../repo.js';
import { MgitError } from '../errors.js';
import { ensureLineageRefspecs } from '../lineage/sync.js';
import { configGetAll, git } from '../git/git.js';

const NOTES_REF = 'refs/notes/mgit/tests';

/**
 * Test results are notes in NOTES_REF (docs/tests.md): they follow commits through amend and rebase
 * (notes.rewriteRef, added next to any the user has), and concurrent notes on one commit merge by
 * keeping the union of lines (cat_sort_uniq), so `git notes merge` never conflicts. Returns true when
 * something changed.
 */
function ensureTestNotesConfig(cwd?: string): boolean {
  let changed = false;
  if (!configGetAll('notes.rewriteRef', { cwd, scope: 'local' }).includes(NOTES_REF)) {
    git(['config', '--local', '--add', 'notes.rewriteRef', NOTES_REF], { cwd });
    changed = true;
  }
  const strategy = 'notes.mgit/tests.mergeStrategy';
  if (configGetAll(strategy, { cwd, scope: 'local' })[0] !== 'cat_sort_uniq') {
    configSet(strategy, 'cat_sort_uniq', { cwd, scope: 'local' });
    changed = true;
  }
  return changed;
}

export const FILTER_CONFIG: Record<string, string> = {
  'filter.mgit.process': 'git-mgit filter-process',
  'filter.mgit.clean': 'git-mgit clean -- %f',
  'filter.mgit.smudge': 'git-mgit smudge -- %f',
  'filter.mgit.required': 'true',
  // merge=mgit paths (the .gitattributes line `git mgit track` writes): tensor-by-tensor three-way merge.
  'merge.mgit.name': 'mgit model merge (tensor by tensor)',
  'merge.mgit.driver': 'git-mgit merge-driver %O %A %B %P',
};

/**
 * Opt-in (`--diff-driver`): plain `git diff` shows the tensor summary instead of pointer lines. Off by
 * default because git smudges every historical side for any external diff (docs/diff-merge.md).
 */
export const DIFF_DRIVER_CONFIG: Record<string, string> = {
  'diff.mgit.command': 'git-mgit diff-driver',
};

export function register(program: Command): void {
  program
    .command('install')
    .description('configure the mgit filter (in your global git config, or --local) and install hooks in this repository')
    .option('--local', 'configure only the current repository')
    .option('--skip-repo', 'do not install hooks in the current repository')
    .option('--diff-driver', 'also make plain `git diff` show tensor summaries (diff.mgit.command; smudges old versions)')
    .action((opts: { local?: boolean; skipRepo?: boolean; diffDriver?: boolean }) => install(opts));
}

export function install(opts: { local?: boolean; skipRepo?: boolean; diffDriver?: boolean; cwd?: string }): void {
  const repo = Repo.find(opts.cwd);
  if (opts.local && !repo) throw new MgitError('ENOREPO', '--local needs a git repository');
  const scope: ConfigScope = opts.local ? 'local' : 'global';
  for (const [k, v] of Object.entries(FILTER_CONFIG)) configSet(k, v, { cwd: opts.cwd, scope });
  process.stdout.write(`mgit filter and merge driver configured (${scope} git config)\n`);
  if (opts.diffDriver) {
    for (const [k, v] of Object.entries(DIFF_DRIVER_CONFIG)) configSet(k, v, { cwd: opts.cwd, scope });
    process.stdout.write(`mgit diff driver configured: git diff shows tensor summaries\n`);
  }
  if (repo && !opts.skipRepo) {
    for (const c of installHooks({ cwd: opts.cwd })) {
      if (c.action !== 'unchanged') process.stdout.write(`hook ${c.hook}: ${c.action}${c.detail ? ` (${c.detail})` : ''}\n`);
    }
    if (ensureTestNotesConfig(opts.cwd)) process.stdout.write(`test-result notes (${NOTES_REF}) follow amend and rebase and merge without conflicts\n`);
    for (const r of ensureLineageRefspecs(repo)) process.stdout.write(`remote ${r}: git fetch now brings its lineage and test results\n`);
  }
}

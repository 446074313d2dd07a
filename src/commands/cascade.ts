// `git mgit cascade <path> [--no-commit]`: re-create every model downstream of a model's new version
// (docs/tests.md#cascade), test them, stage them with lineage edges to the new parents, and commit.

import type { Command } from 'commander';
import { git } from '../git/git.js';
import { repoPath } from '../lineage/versions.js';
import { Repo } from '../repo.js';
import { cascade } from '../tests/cascade.js';

export function register(program: Command): void {
  program
    .command('cascade')
    .description('re-create the models downstream of a changed model (trusted creation commands, or task-vector), test and commit them')
    .argument('<path>', 'the model that has a new version (staged or committed)')
    .option('--no-commit', 'stage the re-created models instead of committing them')
    .option('--json', 'machine-readable output')
    .action(async (p: string, opts: { commit: boolean; json?: boolean }) => {
      const repo = Repo.require();
      const root = repoPath(repo, p);
      const steps = await cascade(repo, root, opts.json ? undefined : (s) => process.stderr.write(`${s}\n`));
      const updated = steps.filter((s) => s.status === 'updated');
      let commit: string | undefined;
      if (opts.commit && updated.length) {
        const msg = `mgit cascade from ${root}\n\n${steps.map((s) => `${s.status} ${s.path} (${s.recipe}): ${s.detail}`).join('\n')}\n`;
        // the re-created models were tested above; the hook would only run the same tests again
        git(['commit', '-q', '--no-verify', '-m', msg, '--', root, ...updated.map((s) => s.path)], { cwd: repo.top });
        commit = git(['rev-parse', 'HEAD'], { cwd: repo.top }).stdout.toString().trim();
      }
      if (opts.json) process.stdout.write(JSON.stringify({ commit, steps }, null, 2) + '\n');
      else if (steps.length === 0) process.stdout.write(`nothing downstream of ${root} to re-create\n`);
      else process.stdout.write(`${updated.length} of ${steps.length} downstream model(s) re-created${commit ? ` and committed (${commit.slice(0, 12)})` : opts.commit ? '' : ' and staged'}\n`);
      if (steps.some((s) => s.status === 'failed')) process.exitCode = 1;
    });
}

// `git mgit resolve [--strategy=<s>] <path>...`: settles a model conflict left by a merge (or rebase,
// cherry-pick, stash) after the fact, from the index's stages 1-3, with the same rules as the merge
// driver; writes the merged model into the work tree and stages it.
// Must never: touch a path that is not in conflict, or leave a half-written model (temp file + rename).

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { MgitError, UsageError } from '../errors.js';
import { reconstruct } from '../filter/smudge.js';
import { blobToFile, conflictStages } from '../git/diff.js';
import { git } from '../git/git.js';
import { mergeModels } from '../merge/merge.js';
import { recordMergeLineage } from '../merge/lineage-hook.js';
import { chooseStrategy, describeOutcome, loadVersion } from '../merge/run.js';
import { Repo } from '../repo.js';

export function register(program: Command): void {
  program
    .command('resolve')
    .description('settle a model merge conflict tensor by tensor from the index stages, and stage the result')
    .argument('<paths...>', 'conflicted model paths')
    .option('--strategy <s>', 'for tensors changed on both sides: ours, theirs, base, average or task-arithmetic')
    .action(async (paths: string[], opts: { strategy?: string }) => resolve(paths, opts));
}

async function resolve(paths: string[], opts: { strategy?: string }): Promise<void> {
  const repo = Repo.require();
  const top = repo.top;
  const strategy = chooseStrategy(opts.strategy, top);
  const cwdRel = path.relative(top, process.cwd());
  let failed = 0;
  for (const p of paths) {
    const rel = path.posix.normalize(path.join(cwdRel, p).split(path.sep).join('/'));
    const stages = conflictStages(rel, top);
    if (!stages[2] || !stages[3]) throw new UsageError(`${rel} is not a conflicted path with both sides (no index stages 2 and 3)`);
    const tmp: string[] = [];
    const version = async (label: string, oid: string) => {
      const f = repo.store.tempPath('resolve');
      tmp.push(f);
      blobToFile(oid, f, top);
      return loadVersion(repo, label, f);
    };
    try {
      const base = stages[1] ? await version('base', stages[1].oid) : undefined;
      const ours = await version('ours', stages[2].oid);
      const theirs = await version('theirs', stages[3].oid);
      const outcome = mergeModels(repo.store, base, ours, theirs, strategy);
      process.stderr.write(describeOutcome(rel, outcome, 'resolve'));
      if (outcome.status !== 'clean' || !outcome.pointer) {
        failed++;
        continue;
      }
      const file = path.join(top, rel);
      const out = `${file}.mgit-${process.pid}.tmp`;
      try {
        const fd = fs.openSync(out, 'w', stages[2].mode === '100755' ? 0o755 : 0o644);
        try {
          for (const piece of reconstruct(repo.store, outcome.pointer)) fs.writeSync(fd, piece);
        } finally {
          fs.closeSync(fd);
        }
        fs.renameSync(out, file);
      } catch (e) {
        fs.rmSync(out, { force: true });
        throw e;
      }
      git(['add', '--', rel], { cwd: top });
      await recordMergeLineage(
        { path: rel, child: outcome.pointer.sha256, parents: [ours.pointer.sha256, theirs.pointer.sha256], base: base?.pointer.sha256, relation: 'merge', strategy },
        repo,
      );
      process.stdout.write(`resolved ${rel}\n`);
    } finally {
      for (const f of tmp) fs.rmSync(f, { force: true });
    }
  }
  if (failed) throw new MgitError('ECONFLICT', `${failed} model(s) still in conflict`);
}

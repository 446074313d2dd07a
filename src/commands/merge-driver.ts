// `git-mgit merge-driver [--strategy=<s>] %O %A %B [%P]`: the merge driver git runs for `merge=mgit`
// paths (merge.mgit.driver). %O, %A and %B are temp files holding what git stores: pointers. On a clean
// merge the merged pointer goes into %A and the exit code is 0; git commits it and smudges it into the
// work tree (its chunks are in the store already). On a conflict %A is left as it is (ours), the exit
// code is 1, git keeps the three versions as index stages 1-3, and the report on stderr says how to
// compare and resolve. Started by git, so it bypasses the argument parser.
// Must never: write anything but a valid pointer (or nothing) into %A, or write to stdout.

import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { formatPointer } from '../codec/pointer.js';
import { errorMessage, isMgitError } from '../errors.js';
import { recordMergeLineage } from '../merge/lineage-hook.js';
import { mergeModels } from '../merge/merge.js';
import { chooseStrategy, describeOutcome, loadVersion } from '../merge/run.js';
import { Repo } from '../repo.js';
import { trace } from '../trace.js';

export async function mergeDriver(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { strategy: { type: 'string' } }, allowPositionals: true });
  } catch (e) {
    process.stderr.write(`mgit: merge-driver: ${errorMessage(e)}\n`);
    return 2;
  }
  const [baseFile, oursFile, theirsFile, pathName] = parsed.positionals;
  if (!baseFile || !oursFile || !theirsFile) {
    process.stderr.write('usage: git-mgit merge-driver [--strategy=<s>] <base> <ours> <theirs> [<path>]   (merge.mgit.driver = git-mgit merge-driver %O %A %B %P)\n');
    return 2;
  }
  const path = pathName ?? oursFile;
  try {
    const repo = Repo.require();
    const strategy = chooseStrategy(parsed.values.strategy, repo.paths.top);
    const base = fs.statSync(baseFile).size === 0 ? undefined : await loadVersion(repo, 'base', baseFile);
    const ours = await loadVersion(repo, 'ours', oursFile);
    const theirs = await loadVersion(repo, 'theirs', theirsFile);
    const outcome = mergeModels(repo.store, base, ours, theirs, strategy);
    trace(`merge-driver ${path}: ${outcome.status} structure=${outcome.structure} ${JSON.stringify(outcome.counts)}`);
    process.stderr.write(describeOutcome(path, outcome));
    if (outcome.status !== 'clean' || !outcome.pointer) return 1;
    fs.writeFileSync(oursFile, formatPointer(outcome.pointer));
    const hook = await recordMergeLineage(
      {
        path,
        child: outcome.pointer.sha256,
        parents: [ours.pointer.sha256, theirs.pointer.sha256],
        base: base?.pointer.sha256,
        relation: 'merge',
        strategy: outcome.resolved.length ? strategy : undefined,
      },
      repo,
    );
    trace(`merge-driver ${path}: lineage ${hook}`);
    return 0;
  } catch (e) {
    // Any failure is a conflict with ours kept: git then leaves the work tree on ours, never a broken file.
    const msg = isMgitError(e) ? e.message : (e as Error)?.stack ?? String(e);
    process.stderr.write(`mgit: ${path}: cannot merge tensor by tensor: ${msg}\nmgit: kept ours; the three versions are index stages 1-3 (git mgit resolve, or git checkout --theirs)\n`);
    return 1;
  }
}

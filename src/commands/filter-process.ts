// `git mgit filter-process`: started by git (filter.mgit.process). Also gives repositories that lack
// mgit's hooks (fresh clones) their hooks and lineage fetch refspecs, unless mgit.autoInstallHooks is false.

import { installHooks } from '../hooks/install.js';
import { runFilterProcess } from '../filter/process.js';
import { errorMessage, isMgitError } from '../errors.js';
import { trace } from '../trace.js';

export async function filterProcess(): Promise<number> {
  try {
    await run();
    await starting;
  } catch (e) {
    // git keeps our stdin open and waits for an answer: returning would leave the process (and git)
    // hanging on the open pipe. Say why and exit; git then reports the filter as failed.
    process.stderr.write(`mgit: ${errorMessage(e)}\n`);
    process.exit(isMgitError(e) ? e.exitCode : 1);
  }
  return 0;
}

/** Filling the pool of prestarted processes: done before this process exits, however short its job. */
let starting: Promise<void> | undefined;

async function run(): Promise<void> {
  await runFilterProcess(process.stdin, process.stdout, {
    onStart: (repo) => {
      // git's next command finds a process waiting (bin/git-mgit, src/prestart.ts)
      const prestart = repo.configBool('mgit.prestart', true);
      starting = import('../prestart.js').then(({ filterStarted }) => filterStarted(prestart)).catch(() => undefined);
      if (!repo.configBool('mgit.autoInstallHooks', true)) return;
      const changes = installHooks({ onlyMissing: true, dir: repo.paths.hooks });
      for (const c of changes) trace(`hook ${c.hook}: ${c.action}`);
      // A repository without our hooks is a fresh clone: let its `git fetch` bring lineage too.
      if (changes.length) {
        import('../lineage/sync.js')
          .then(({ ensureLineageRefspecs }) => {
            for (const r of ensureLineageRefspecs(repo)) trace(`remote ${r}: lineage fetch refspec added`);
          })
          .catch((e: Error) => trace(`lineage fetch refspecs not added: ${e.message}`)); // a hint, never a failure
      }
    },
  });
}

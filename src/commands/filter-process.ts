// `git mgit filter-process`: started by git (filter.mgit.process). Also gives repositories that lack
// mgit's hooks (fresh clones) their hooks and lineage fetch refspecs, unless mgit.autoInstallHooks is false.

import { installHooks } from '../hooks/install.js';
import { runFilterProcess } from '../filter/process.js';
import { trace } from '../trace.js';

export async function filterProcess(): Promise<number> {
  await runFilterProcess(process.stdin, process.stdout, {
    onStart: (repo) => {
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
  return 0;
}

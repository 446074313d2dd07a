// `git mgit filter-process`: started by git (filter.mgit.process). Also gives repositories that lack
// mgit's hooks (fresh clones) their hooks and lineage fetch refspecs, unless mgit.autoInstallHooks is false.

import { configBool } from '../git/git.js';
import { installHooks } from '../hooks/install.js';
import { runFilterProcess } from '../filter/process.js';
import { ensureLineageRefspecs } from '../lineage/sync.js';
import { trace } from '../trace.js';

export async function filterProcess(): Promise<number> {
  await runFilterProcess(process.stdin, process.stdout, {
    onStart: (repo) => {
      if (!configBool('mgit.autoInstallHooks', true)) return;
      const changes = installHooks({ onlyMissing: true });
      for (const c of changes) trace(`hook ${c.hook}: ${c.action}`);
      // A repository without our hooks is a fresh clone: let its `git fetch` bring lineage too.
      if (changes.length) for (const r of ensureLineageRefspecs(repo)) trace(`remote ${r}: lineage fetch refspec added`);
    },
  });
  return 0;
}

// `git mgit filter-process`: started by git (filter.mgit.process). Also gives repositories that lack
// mgit's hooks (fresh clones) their hooks, unless mgit.autoInstallHooks is false.

import { configBool } from '../git/git.js';
import { installHooks } from '../hooks/install.js';
import { runFilterProcess } from '../filter/process.js';
import { trace } from '../trace.js';

export async function filterProcess(): Promise<number> {
  await runFilterProcess(process.stdin, process.stdout, {
    onStart: () => {
      if (!configBool('mgit.autoInstallHooks', true)) return;
      for (const c of installHooks({ onlyMissing: true })) trace(`hook ${c.hook}: ${c.action}`);
    },
  });
  return 0;
}

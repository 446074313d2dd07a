// What each git hook does, behind `git mgit hook <name>`. The installer writes a script for every hook
// named here. Hooks that have nothing to do yet still get installed so that clones carry them when
// later features (model tests on commit) start using them.

import { errorMessage } from '../errors.js';
import { configBool } from '../git/git.js';
import { Repo } from '../repo.js';

export const HOOKS = ['pre-commit', 'post-commit', 'pre-push'] as const;
export type HookName = (typeof HOOKS)[number];

export interface HookContext {
  args: string[];
  stdin: () => Promise<Buffer>;
}

type Handler = (ctx: HookContext) => Promise<number>;

const handlers: Record<HookName, Handler> = {
  // Model tests of staged models run here once tests exist; until then, nothing blocks a commit.
  'pre-commit': async () => 0,
  // mgit.autoLineage: models the commit adds get their best-suggested parent as a lineage edge. A
  // post-commit hook cannot undo the commit, so nothing here may fail it: problems are a warning.
  'post-commit': async () => {
    if (!configBool('mgit.autoLineage', false)) return 0;
    try {
      const { autoLineageForCommit } = await import('../lineage/autopilot.js');
      for (const d of await autoLineageForCommit(Repo.require())) {
        process.stderr.write(`mgit: lineage: ${d.child} <- ${d.relation} ${d.parent} (autopilot, score ${d.score.toFixed(3)}; git mgit lineage rm to withdraw)\n`);
      }
    } catch (e) {
      process.stderr.write(`mgit: warning: automatic lineage failed: ${errorMessage(e)}\n`);
    }
    return 0;
  },
  // Plain remotes: upload the pushed commits' chunks to shared storage before git moves any ref, and
  // refuse the push when that fails; then lineage goes along (never failing the push). mgit:: remotes
  // do both inside the remote helper (the hook script does not even start Node for them).
  'pre-push': async (ctx) => {
    const input = (await ctx.stdin()).toString('utf8'); // always consume git's ref list
    const [remote, url] = ctx.args;
    const { prePush } = await import('../remote/pre-push.js');
    const status = await prePush(ctx.args, input);
    if (status !== 0) return status;
    if (remote) {
      const warn = (msg: string) => process.stderr.write(`mgit: warning: ${msg}\n`);
      try {
        const { pushLineageFromHook } = await import('../lineage/sync.js');
        pushLineageFromHook(Repo.require(), remote, url ?? remote, warn);
      } catch (e) {
        warn(`lineage was not pushed (${errorMessage(e)})`);
      }
    }
    return 0;
  },
};

/**
 * Shell conditions under which a hook script starts mgit at all. Starting Node costs 70-100 ms, which
 * every commit would pay for hooks with nothing to do; a guard lets the script decide in a few ms.
 * A hook without a guard always runs.
 */
export const HOOK_GUARDS: Partial<Record<HookName, string>> = {
  // nothing runs before a commit until model tests exist
  'pre-commit': 'false',
  'post-commit': '[ "$(git config --type=bool --get mgit.autoLineage 2>/dev/null)" = true ]',
};

/** Runs a hook; unknown hook names succeed, so a newer hook script never breaks an older mgit. */
export async function runHook(name: string, ctx: HookContext): Promise<number> {
  const h = (handlers as Record<string, Handler | undefined>)[name];
  return h ? h(ctx) : 0;
}

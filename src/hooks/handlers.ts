// What each git hook does, behind `git mgit hook <name>`. The installer writes a script for every hook
// named here. Hooks that have nothing to do yet still get installed so that clones carry them when
// later features (model tests on commit) start using them.

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
  'post-commit': async () => 0,
  // Plain remotes: upload the pushed commits' chunks to shared storage before git moves any ref, and
  // refuse the push when that fails (mgit:: remotes do the same inside the remote helper).
  'pre-push': async (ctx) => {
    const input = (await ctx.stdin()).toString('utf8'); // always consume git's ref list
    const { prePush } = await import('../remote/pre-push.js');
    return prePush(ctx.args, input);
  },
};

/** Runs a hook; unknown hook names succeed, so a newer hook script never breaks an older mgit. */
export async function runHook(name: string, ctx: HookContext): Promise<number> {
  const h = (handlers as Record<string, Handler | undefined>)[name];
  return h ? h(ctx) : 0;
}

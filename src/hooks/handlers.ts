// What each git hook does, behind `git mgit hook <name>`. The installer writes a script for every hook
// named here. Hooks that have nothing to do yet still get installed so that clones carry them when
// later features (model tests on commit, chunk upload on push) start using them.

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
  // Chunk upload to shared storage runs here for plain remotes once storage exists.
  'pre-push': async (ctx) => {
    await ctx.stdin(); // consume git's ref list so git never sees a broken pipe
    return 0;
  },
};

/**
 * Shell conditions under which a hook script starts mgit at all. Starting Node costs 70-100 ms, which
 * every commit would pay for hooks with nothing to do; a guard lets the script decide in a few ms.
 * A hook without a guard always runs.
 */
export const HOOK_GUARDS: Partial<Record<HookName, string>> = {
  // nothing runs on commit until model tests exist
  'pre-commit': 'false',
  'post-commit': 'false',
};

/** Runs a hook; unknown hook names succeed, so a newer hook script never breaks an older mgit. */
export async function runHook(name: string, ctx: HookContext): Promise<number> {
  const h = (handlers as Record<string, Handler | undefined>)[name];
  return h ? h(ctx) : 0;
}

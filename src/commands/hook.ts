// `git mgit hook <name> [args]`: what the installed hook scripts (or husky, lefthook, pre-commit) call.

import { runHook } from '../hooks/handlers.js';

export async function hook(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name) {
    process.stderr.write('usage: git mgit hook <hook-name> [args...]\n');
    return 129;
  }
  const stdin = async () => {
    const parts: Buffer[] = [];
    for await (const p of process.stdin) parts.push(p as Buffer);
    return Buffer.concat(parts);
  };
  return runHook(name, { args, stdin });
}

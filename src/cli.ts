// The CLI boundary: parses arguments, runs one command, maps errors to exit codes. Expected failures
// (MgitError) print one line, `mgit: <message>`, and no stack trace. The entry points git launches
// itself (the filter process, hooks, the merge and diff drivers) skip the argument parser so they start
// as fast as Node can.

import type { Command } from 'commander';
import { restoreCaEnv } from './ca-env.js';
import { isMgitError } from './errors.js';

const COMMANDS = ['install', 'uninstall', 'track', 'untrack', 'ls-files', 'checkout', 'fsck', 'repack', 'gc', 'stats', 'diff', 'resolve', 'lineage', 'log-lineage', 'trust', 'test', 'bisect', 'cascade', 'push', 'fetch', 'clean', 'smudge', 'version'];

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === '__prestart') {
    // a filter process started ahead of time (src/prestart.ts); not a user command
    const { serve } = await import('./prestart.js');
    return await serve(argv[1] ?? '');
  }
  restoreCaEnv();
  // A reader that stops early (`git mgit stats | head`) closes our stdout: exit quietly, as git does.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  try {
    if (argv[0] === 'filter-process') {
      const { filterProcess } = await import('./commands/filter-process.js');
      return await filterProcess();
    }
    if (argv[0] === 'merge-driver') {
      const { mergeDriver } = await import('./commands/merge-driver.js');
      return await mergeDriver(argv.slice(1));
    }
    if (argv[0] === 'diff-driver') {
      const { diffDriver } = await import('./commands/diff-driver.js');
      return await diffDriver(argv.slice(1));
    }
    if (argv[0] === 'hook') {
      const { hook } = await import('./commands/hook.js');
      return await hook(argv.slice(1));
    }
    return await runCommander(argv);
  } catch (e) {
    if (isMgitError(e)) {
      process.stderr.write(`mgit: ${e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(`mgit: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}

async function runCommander(argv: string[]): Promise<number> {
  const { Command, CommanderError } = await import('commander');
  const { VERSION } = await import('./version.js');
  const program: Command = new Command('git mgit')
    .description('Version ONNX models in git: tensor-level storage, lineage, tests, diff and merge')
    .version(VERSION, '--version')
    .exitOverride()
    // options after a command name belong to it (so `test show --json` is not `test --json`)
    .enablePositionalOptions()
    .showHelpAfterError('(run `git mgit --help` for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s.replace(/^error:/, 'mgit:')) });
  for (const name of COMMANDS) {
    const mod = (await import(`./commands/${name}.js`)) as { register(p: Command): void };
    mod.register(program);
  }
  let code = 0;
  try {
    await program.parseAsync(argv, { from: 'user' });
    code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; usage errors exit 129 like git's own
      return e.exitCode === 0 ? 0 : 129;
    }
    throw e;
  }
  return code;
}

// `git mgit clean [-- <path>]`: one-shot clean from stdin to stdout, for tools that do not speak the
// filter-process protocol (filter.mgit.clean). The path is informational only: the pointer depends on
// the bytes alone.

import type { Command } from 'commander';
import { cleanStream } from '../filter/clean.js';
import { Repo } from '../repo.js';

export function register(program: Command): void {
  program
    .command('clean')
    .description('read a model on stdin, store its chunks, write its pointer to stdout')
    .argument('[path]', 'the file name (informational)')
    .action(async () => {
      const repo = Repo.require();
      const pointer = await cleanStream(repo.store, repo.cleanCache, process.stdin);
      process.stdout.write(pointer);
    });
}

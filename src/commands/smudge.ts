// `git mgit smudge [-- <path>]`: one-shot smudge from stdin to stdout (filter.mgit.smudge). Content
// that is not a pointer passes through unchanged.

import type { Command } from 'commander';
import { once } from 'node:events';
import { parsePointer, pointerVersion } from '../codec/pointer.js';
import { reconstruct } from '../filter/smudge.js';
import { configBool } from '../git/git.js';
import { Repo } from '../repo.js';

export function register(program: Command): void {
  program
    .command('smudge')
    .description('read a pointer on stdin and write the model it names to stdout')
    .argument('[path]', 'the file name (informational)')
    .action(async () => {
      const parts: Buffer[] = [];
      for await (const p of process.stdin) parts.push(p as Buffer);
      const input = Buffer.concat(parts);
      const skip = !!process.env.GIT_MGIT_SKIP_SMUDGE && process.env.GIT_MGIT_SKIP_SMUDGE !== '0';
      if (pointerVersion(input) === undefined || skip || configBool('mgit.skipSmudge', false)) {
        process.stdout.write(input);
        return;
      }
      const repo = Repo.require();
      for (const piece of reconstruct(repo.store, parsePointer(input))) {
        if (!process.stdout.write(piece)) await once(process.stdout, 'drain');
      }
    });
}

// `git mgit version`

import type { Command } from 'commander';
import { kernelsName } from '../codec/kernels.js';
import { zstdName } from '../codec/zstd.js';
import { gitText } from '../git/git.js';
import { VERSION } from '../version.js';

export function register(program: Command): void {
  program
    .command('version')
    .description('print the versions of mgit and what it runs on')
    .action(() => {
      process.stdout.write(`mgit/${VERSION} (node ${process.versions.node}; ${gitText(['--version'])}; zstd: ${zstdName()}; kernels: ${kernelsName()})\n`);
    });
}

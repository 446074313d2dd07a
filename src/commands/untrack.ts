// `git mgit untrack <pattern>...`: removes the mgit lines for these patterns from .gitattributes.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { Repo } from '../repo.js';
import { quotePattern, readAttributes } from './track.js';

export function register(program: Command): void {
  program
    .command('untrack')
    .description('stop tracking the patterns with mgit (edits .gitattributes)')
    .argument('<patterns...>', 'patterns given to `git mgit track`')
    .action((patterns: string[]) => {
      const repo = Repo.require();
      const file = path.join(repo.top, '.gitattributes');
      const drop = new Set(patterns.map(quotePattern));
      const lines = readAttributes(file);
      const kept = lines.filter((l) => {
        const m = /^(\S+|"(?:[^"\\]|\\.)*")\s.*\bfilter=mgit\b/.exec(l.trim());
        if (m && drop.has(m[1])) {
          process.stdout.write(`untracking "${m[1]}"\n`);
          return false;
        }
        return true;
      });
      if (kept.length !== lines.length) fs.writeFileSync(file, kept.join('\n'));
      else process.stdout.write('no matching mgit patterns in .gitattributes\n');
    });
}

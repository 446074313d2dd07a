// `git mgit bisect --test <name> <path>`: the first version of a model that fails a registered test,
// along its commit history (default) or its lineage chain (--lineage), in O(log n) test runs.

import type { Command } from 'commander';
import { repoPath } from '../lineage/versions.js';
import { Repo } from '../repo.js';
import { bisect, historyChain, lineageChain } from '../tests/bisect.js';
import { findTest, loadRegistry } from '../tests/registry.js';
import { MgitError } from '../errors.js';

export function register(program: Command): void {
  program
    .command('bisect')
    .description("find the first version of a model that fails a test (its history, or --lineage chain)")
    .requiredOption('--test <name>', 'the registered test to run')
    .argument('<path>', 'the model')
    .option('--lineage', 'walk the lineage chain (primary parents) instead of the commit history')
    .option('--rev <rev>', 'newest commit to consider', 'HEAD')
    .option('--json', 'machine-readable output')
    .action(async (p: string, opts: { test: string; lineage?: boolean; rev: string; json?: boolean }) => {
      const repo = Repo.require();
      const test = findTest(loadRegistry(repo.top), opts.test);
      const path = repoPath(repo, p);
      const chain = opts.lineage ? await lineageChain(repo, path, opts.rev) : historyChain(path, opts.rev);
      if (chain.length === 0) throw new MgitError('ENOENT', `${path} has no committed versions at ${opts.rev}`);
      const out = await bisect(repo, chain, test);
      const bad = out.firstBad === undefined ? undefined : out.chain[out.firstBad];
      const badResult = out.runs.find((r) => r.index === out.firstBad)?.result;
      if (opts.json) {
        process.stdout.write(
          JSON.stringify(
            {
              candidates: out.candidates,
              runs: out.runs.map((r) => ({ index: r.index, commit: out.chain[r.index].commit, path: out.chain[r.index].path, status: r.result.status, version: r.result.version, metrics: r.result.metrics })),
              firstBad: bad ? { index: out.firstBad, commit: bad.commit, path: bad.path, version: badResult?.version, detail: badResult?.detail } : null,
            },
            null,
            2,
          ) + '\n',
        );
      } else if (!bad) {
        process.stdout.write(`the newest version passes ${test.name}: nothing to bisect (${out.runs.length} run)\n`);
      } else {
        process.stdout.write(`first failing version of ${path} (${out.firstBad! + 1} of ${out.candidates}, ${out.runs.length} test runs):\n`);
        process.stdout.write(`  ${bad.path} ${badResult?.version.slice(0, 12)}${bad.commit ? ` in commit ${bad.commit.slice(0, 12)}` : ''}\n  ${badResult?.detail.split('\n')[0] ?? ''}\n`);
      }
    });
}

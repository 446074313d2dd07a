// `git mgit push [<remote>] [<rev>...] [--all] [--dry-run] [--json]`: uploads to the remote's shared
// storage the chunks that the given commits (default HEAD) need and the remote's tracking refs do not
// already cover; `--all` takes every model in every local ref and reflog-free history, whatever the
// remote has (for moving to new storage). Moves no refs: `git push` does that (through the helper or
// the pre-push hook, which upload the same way). Exit 1 when any chunk could not be uploaded.

import type { Command } from 'commander';
import { MgitError, UsageError } from '../errors.js';
import { humanBytes, printJson } from '../format.js';
import { remoteUrl } from '../git/remote.js';
import { checkoutRemote } from '../remote/locate.js';
import { chunksToPush } from '../remote/plan.js';
import { describeProblems, uploadNeeds } from '../remote/share.js';
import { Repo } from '../repo.js';

export function register(program: Command): void {
  program
    .command('push')
    .description("upload models' chunks to a remote's shared storage (refs are left to git push)")
    .argument('[remote]', 'remote whose storage to use (default: the upstream remote, else origin)')
    .argument('[revs...]', 'commits whose models to upload (default HEAD)')
    .option('--all', 'every model reachable from any local ref, whatever the remote already has')
    .option('--dry-run', 'say what would be uploaded')
    .option('--json', 'machine-readable output')
    .action(async (remote: string | undefined, revs: string[], opts: { all?: boolean; dryRun?: boolean; json?: boolean }) => {
      const repo = Repo.require();
      const cwd = repo.paths.top ?? repo.paths.gitDir;
      if (remote !== undefined && remoteUrl(remote, cwd) === undefined) {
        if (/^[a-z][a-z0-9+.-]*:\/\/|^\/|^mgit::/i.test(remote)) throw new UsageError(`${remote}: give a configured remote's name (git remote add <name> <url>)`);
        revs = [remote, ...revs];
        remote = undefined;
      }
      remote ??= checkoutRemote(undefined, cwd);
      if (!remote) throw new MgitError('ENOREMOTE', 'no remote given and none configured');
      const include = opts.all ? ['--all'] : revs.length ? revs : ['HEAD'];
      const needs = await chunksToPush(include, [], opts.all ? undefined : remote, cwd);
      const report = await uploadNeeds(repo, needs, { remote, dryRun: opts.dryRun, cwd });
      const r = report.result;
      const summary = {
        remote,
        storage: report.choice?.url,
        storageSource: report.choice?.source,
        models: needs.pointers,
        needed: r?.needed ?? 0,
        alreadyOnStorage: r?.present ?? 0,
        uploaded: r?.uploaded ?? 0,
        bytes: r?.bytes ?? 0,
        seconds: r ? Number(r.seconds.toFixed(3)) : 0,
        dryRun: !!opts.dryRun,
        problems: [...report.problems].map(([chunk, why]) => ({ chunk, why, models: [...(needs.chunks.get(chunk) ?? [])] })),
      };
      if (opts.json) printJson(summary);
      else {
        for (const line of describeProblems(report)) process.stderr.write(`mgit: ${line}\n`);
        if (needs.pointers === 0) process.stdout.write('no models to upload\n');
        else {
          const verb = opts.dryRun ? 'would upload' : 'uploaded';
          process.stdout.write(`${verb} ${summary.uploaded} of ${summary.needed} chunk object(s) (${humanBytes(summary.bytes)}) for ${needs.pointers} model version(s) to ${summary.storage}; ${summary.alreadyOnStorage} already there\n`);
        }
      }
      if (report.problems.size) process.exitCode = 1;
    });
}

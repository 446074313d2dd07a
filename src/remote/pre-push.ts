// The pre-push hook for plain remotes (git-lfs's approach): git gives us, on stdin, the refs it is
// about to push; we upload the chunks their commits need to the remote's shared storage, and exit
// non-zero, which stops git before it sends anything, when any of them cannot be uploaded. For
// `mgit::` remotes this is the helper's job, so the hook does nothing there. `git push --no-verify`
// skips hooks: that is git's documented escape hatch, and the pointers then reach the remote without
// their chunks.

import { configGet } from '../git/git.js';
import { existingObjects, remoteUrl } from '../git/remote.js';
import { humanBytes } from '../format.js';
import { Repo } from '../repo.js';
import { describeProblems, pushChunks } from './share.js';

export async function prePush(args: string[], input: string): Promise<number> {
  const [remote, url] = args;
  if (!url || url.startsWith('mgit::')) return 0;
  const named = remote && remote !== url && remoteUrl(remote) !== undefined ? remote : undefined;
  if (named && configGet(`remote.${named}.vcs`) === 'mgit') return 0;
  const repo = Repo.require();
  const include: string[] = [];
  const remoteOids: string[] = [];
  for (const line of input.split('\n')) {
    const [, localOid, , remoteOid] = line.trim().split(' ');
    if (!localOid) continue;
    if (!/^0+$/.test(localOid)) include.push(localOid);
    if (remoteOid && !/^0+$/.test(remoteOid)) remoteOids.push(remoteOid);
  }
  if (include.length === 0) return 0; // deletions only
  const exclude = [...existingObjects(remoteOids)];
  const report = await pushChunks(repo, { remote: named, url, include, exclude, trackingRemote: named, cwd: repo.paths.top });
  if (report.problems.size > 0) {
    for (const line of describeProblems(report)) process.stderr.write(`mgit: ${line}\n`);
    process.stderr.write(`mgit: push refused: the models' chunks must reach shared storage before the refs (git push --no-verify pushes the pointers without them)\n`);
    return 1;
  }
  const r = report.result;
  if (r && r.uploaded > 0) process.stderr.write(`mgit: uploaded ${r.uploaded} chunk object(s), ${humanBytes(r.bytes)}, to ${report.choice?.url}; ${r.present} already there\n`);
  return 0;
}

// Entry point of `git-remote-mgit <remote> [<url>]` (bin/git-remote-mgit). Loads only what the helper
// needs (no commander), refuses to call itself, and maps failures to one `mgit: ...` line on stderr and
// git's exit code 128. stdout belongs to the protocol.

import { restoreCaEnv } from '../ca-env.js';
import { errorMessage, isMgitError } from '../errors.js';
import { remoteUrl } from '../git/remote.js';
import { GUARD_ENV, Helper } from './helper.js';

export async function main(argv: string[]): Promise<number> {
  restoreCaEnv();
  try {
    const [remote, given] = argv;
    if (!remote) {
      process.stderr.write('usage: git-remote-mgit <remote> [<url>] (git runs this for mgit::<url> remotes)\n');
      return 129;
    }
    let url = given ?? remoteUrl(remote);
    if (!url) {
      process.stderr.write(`mgit: remote ${remote} has no URL\n`);
      return 128;
    }
    url = url.replace(/^mgit::/, '');
    const outer = process.env[GUARD_ENV];
    if (outer !== undefined) {
      // A nested git command of ours reached mgit:: again, e.g. through a url.<base>.insteadOf rule that
      // adds the prefix: going on would recurse until the environment overflows.
      process.stderr.write(`mgit: git-remote-mgit was started again for ${url} from inside itself (for ${outer}); does a url.*.insteadOf rule add mgit:: to it? Refusing to recurse\n`);
      return 128;
    }
    await new Helper(remote, url, (s) => process.stdout.write(s)).run(process.stdin);
    // the caller exits right away: let every answer reach git first (pipes are asynchronous on macOS)
    await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
    return 0;
  } catch (e) {
    process.stderr.write(`mgit: ${isMgitError(e) ? e.message : (e as Error)?.stack ?? errorMessage(e)}\n`);
    return 128;
  }
}

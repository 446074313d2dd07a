// `git-mgit diff-driver`: an external diff command for plain `git diff` (diff.mgit.command, set by
// `git mgit install --diff-driver`). Git runs it per changed model with
//     <path> <old-file> <old-hex> <old-mode> <new-file> <new-hex> <new-mode> [<new-path> <xfrm>]
// and it prints the tensor-level summary computed from the two pointers, read by blob id (old-hex,
// new-hex), not from the temp files. Git 2.39 smudges historical sides into those temp files before it
// starts any external diff or textconv (docs/diff-merge.md), so this driver costs a reconstruction per
// historical side; the default, no driver, keeps `git diff` at the pointer text, which needs nothing.
// Started by git, so it bypasses the argument parser. Must never: fail the whole `git diff` for one
// model it cannot describe (it prints why and exits 0).

import { ZERO_OID, colorBool } from '../git/diff.js';
import { CatFile } from '../git/cat-file.js';
import { diffModel } from '../diff/report.js';
import { TextRenderer } from '../diff/render-text.js';
import { errorMessage } from '../errors.js';
import { Resolver } from '../model/resolve.js';
import type { ModelSource } from '../model/source.js';
import { Repo } from '../repo.js';

export async function diffDriver(argv: string[]): Promise<number> {
  if (argv.length === 1) {
    process.stdout.write(`* Unmerged path ${argv[0]} (see git mgit diff :1:${argv[0]} :3:${argv[0]})\n`);
    return 0;
  }
  if (argv.length !== 7 && argv.length !== 9) {
    process.stderr.write('usage: git-mgit diff-driver <path> <old-file> <old-hex> <old-mode> <new-file> <new-hex> <new-mode> [<new-path> <xfrm>]\n');
    return 2;
  }
  const [path, oldFile, oldHex, , newFile, newHex] = argv as [string, string, string, string, string, string];
  const newPath = argv.length === 9 ? argv[7]! : path;
  const repo = Repo.require();
  const color = colorBool('color.diff', !!process.stdout.isTTY || process.env.GIT_PAGER_IN_USE === 'true');
  const cat = new CatFile();
  const resolver = new Resolver(cat, repo.store, process.cwd());
  const sources: ModelSource[] = [];
  const side = async (file: string, hex: string): Promise<ModelSource | undefined> => {
    if (file === '/dev/null') return undefined;
    const s = ZERO_OID.test(hex) ? resolver.file('work tree', file) : await resolver.blob(`blob ${hex.slice(0, 10)}`, hex);
    sources.push(s);
    return s;
  };
  const r = new TextRenderer({ color });
  const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[0m` : s);
  try {
    const a = await side(oldFile, oldHex);
    const b = await side(newFile, newHex);
    process.stdout.write(bold(`mgit diff a/${path} b/${newPath}`) + '\n' + r.model(diffModel(newPath, a, b), false));
  } catch (e) {
    process.stdout.write(bold(`mgit diff a/${path} b/${newPath}`) + `\n  (cannot describe: ${errorMessage(e)})\n`);
  } finally {
    for (const s of sources) s.close();
    await cat.close();
  }
  return 0;
}

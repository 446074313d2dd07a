// Which shared storage a remote uses, and which remote a checkout downloads from. Reads settings, never
// writes them. Order (docs/remote.md):
//   1. git config  remote.<name>.mgitStorage, then mgit.storage
//   2. the tracked .mgitconfig (git-config format; the work tree's file, else the blob at the revision
//      being checked out, else HEAD's), same keys: published with the repository, so a fresh clone over
//      any URL finds its storage; git config overrides it
//   3. for a path or file:// remote: a folder inside that repository, <its git dir>/mgit-chunks, so a
//      local or NFS remote needs no set-up
// .mgitconfig comes from whoever last pushed the repository: only storage locations and S3 endpoint
// settings are read from it, never credentials or anything that runs.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StorageError } from '../errors.js';
import { configGet, findRepo, type ConfigScope, type RepoPaths } from '../git/git.js';
import { branchRemote, currentBranch, remoteNames, remoteUrl } from '../git/remote.js';
import { describeSpec, parseStorageUrl, type S3Settings, type StorageSpec } from './storage.js';

export const MGITCONFIG = '.mgitconfig';
export const DEFAULT_DIR_NAME = 'mgit-chunks';

export interface StorageChoice {
  spec: StorageSpec;
  /** the directory or s3:// URL, for messages */
  url: string;
  /** where the choice came from, for messages and --verbose */
  source: string;
  s3: S3Settings;
}

export interface LocateOptions {
  /** a configured remote name, if there is one */
  remote?: string;
  /** the remote's URL when known (the helper gets it as an argument); `mgit::` is stripped */
  url?: string;
  /** revision whose .mgitconfig applies when the work tree has none (default HEAD) */
  rev?: string;
  cwd?: string;
}

/** Reads one setting: git config first, then the tracked .mgitconfig. */
class Settings {
  private readonly mgitconfig?: ConfigScope;

  constructor(
    readonly paths: RepoPaths | undefined,
    rev: string | undefined,
    private readonly cwd?: string,
  ) {
    if (!paths) return;
    const file = paths.top ? path.join(paths.top, MGITCONFIG) : undefined;
    if (file && fs.existsSync(file)) this.mgitconfig = { file };
    else if (/^[^\s:]+$/.test(rev ?? 'HEAD')) this.mgitconfig = { blob: `${rev ?? 'HEAD'}:${MGITCONFIG}` };
  }

  get(key: string, type?: 'bool'): { value: string; source: string } | undefined {
    const v = configGet(key, { cwd: this.cwd, type });
    if (v !== undefined) return { value: v, source: `git config ${key}` };
    if (this.mgitconfig) {
      const w = configGet(key, { cwd: this.cwd, scope: this.mgitconfig, type });
      if (w !== undefined) return { value: w, source: `${MGITCONFIG} ${key}` };
    }
    return undefined;
  }

  /** Relative storage paths are taken from the repository's top level (or git dir when bare). */
  get base(): string {
    return this.paths?.top ?? this.paths?.gitDir ?? process.cwd();
  }
}

export function chooseStorage(opts: LocateOptions = {}): StorageChoice {
  const paths = findRepo(opts.cwd);
  const settings = new Settings(paths, opts.rev, opts.cwd);
  const s3: S3Settings = {
    endpoint: settings.get('mgit.s3.endpoint')?.value,
    region: settings.get('mgit.s3.region')?.value,
    forcePathStyle: ((v) => (v === undefined ? undefined : v === 'true'))(settings.get('mgit.s3.forcePathStyle', 'bool')?.value),
  };
  const keys = [...(opts.remote ? [`remote.${opts.remote}.mgitStorage`] : []), 'mgit.storage'];
  for (const key of keys) {
    const s = settings.get(key);
    if (s) {
      const spec = parseStorageUrl(s.value, settings.base);
      return { spec, url: describeSpec(spec), source: s.source, s3 };
    }
  }
  const url = opts.url ?? (opts.remote ? remoteUrl(opts.remote, opts.cwd) : undefined);
  const local = url ? localRepoPath(url, opts.cwd ?? process.cwd()) : undefined;
  if (local) {
    const gitDir = gitDirOf(local);
    if (gitDir) {
      const spec: StorageSpec = { kind: 'dir', dir: path.join(gitDir, DEFAULT_DIR_NAME) };
      return { spec, url: spec.dir, source: `default for the path remote ${url}`, s3 };
    }
  }
  const who = opts.remote ? `remote '${opts.remote}'${url ? ` (${url})` : ''}` : url ? url : 'this repository';
  throw new StorageError(
    'ESTORAGECONFIG',
    `no chunk storage is configured for ${who}: set one with \`git config remote.${opts.remote ?? '<name>'}.mgitStorage <dir | s3://bucket/prefix>\` (or mgit.storage), or publish it in a tracked ${MGITCONFIG}`,
  );
}

/** The remote a checkout downloads from: the ref's (or current branch's) upstream, else origin, else the only remote. */
export function checkoutRemote(ref?: string, cwd?: string): string | undefined {
  let remote: string | undefined;
  if (ref?.startsWith('refs/remotes/')) remote = ref.slice('refs/remotes/'.length).split('/')[0];
  else if (ref?.startsWith('refs/heads/')) remote = branchRemote(ref.slice('refs/heads/'.length), cwd);
  if (!remote) {
    const b = currentBranch(cwd);
    if (b) remote = branchRemote(b, cwd);
  }
  if (remote) return remote;
  const names = remoteNames(cwd);
  if (names.includes('origin')) return 'origin';
  return names.length === 1 ? names[0] : undefined;
}

/** The local path a remote URL names (path, file://), or undefined for network URLs. */
export function localRepoPath(url: string, base: string): string | undefined {
  const u = url.replace(/^mgit::/, '');
  if (/^file:\/\//i.test(u)) {
    try {
      return fileURLToPath(u);
    } catch {
      return undefined;
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(u)) return undefined; // ssh://, https://, ...
  if (/^[a-z][a-z0-9+.-]*::/i.test(u)) return undefined; // another helper's transport
  const colon = u.indexOf(':');
  const slash = u.indexOf('/');
  if (colon > 0 && (slash < 0 || colon < slash)) return undefined; // scp-like host:path is ssh
  return path.resolve(base, u);
}

/** The git directory of the repository at a path (bare or not), without running git in it. */
export function gitDirOf(p: string): string | undefined {
  const dotGit = path.join(p, '.git');
  try {
    const st = fs.statSync(dotGit);
    if (st.isDirectory()) return dotGit;
    if (st.isFile()) {
      const m = /^gitdir: (.+)$/m.exec(fs.readFileSync(dotGit, 'utf8'));
      if (m) {
        const gd = path.resolve(p, m[1].trim());
        const common = path.join(gd, 'commondir');
        return fs.existsSync(common) ? path.resolve(gd, fs.readFileSync(common, 'utf8').trim()) : gd;
      }
    }
  } catch {
    // not a non-bare repository: try bare below
  }
  if (fs.existsSync(path.join(p, 'HEAD')) && fs.existsSync(path.join(p, 'objects'))) return p;
  return undefined;
}

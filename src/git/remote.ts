// Git plumbing for sharing: remotes and their configuration, refs, and the nested git commands the
// remote helper runs against the real URL (ls-remote, fetch, push). Nested commands never write to our
// stdout (for the helper it is the protocol): their stdout is captured, their stderr goes to the user
// so that progress and credential prompts still reach the terminal.

import { spawn } from 'node:child_process';
import { configGet, git, gitText, gitZ } from './git.js';
import { GitError } from '../errors.js';

export interface RemoteRef {
  oid: string;
  name: string;
}

export interface RemoteListing {
  refs: RemoteRef[];
  /** symbolic refs (e.g. HEAD -> refs/heads/main) */
  symrefs: Map<string, string>;
}

export interface NestedResult {
  status: number;
  stdout: string;
}

/** Settings that keep nested git commands from starting background work of their own. */
const QUIET = ['-c', 'gc.auto=0', '-c', 'maintenance.auto=false'];

export interface NestedOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** capture stderr instead of passing it on */
  captureStderr?: boolean;
  /** pass stderr on, but drop whole lines this rejects (progress, which redraws with CR, always passes) */
  keepLine?: (line: string) => boolean;
}

/** Runs git with stdout captured and stderr passed through (filtered, or captured, when asked). */
export function nestedGit(args: string[], opts: NestedOptions = {}): Promise<NestedResult & { stderr: string }> {
  return new Promise((resolve, reject) => {
    const pipeErr = opts.captureStderr || opts.keepLine;
    const proc = spawn('git', [...QUIET, ...args], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', pipeErr ? 'pipe' : 'inherit'],
    });
    const out: Buffer[] = [];
    let err = '';
    let pending = '';
    const forward = (final: boolean) => {
      for (;;) {
        const nl = pending.indexOf('\n');
        if (nl < 0) break;
        const line = pending.slice(0, nl + 1);
        pending = pending.slice(nl + 1);
        if (opts.keepLine!(line.replace(/\r?\n$/, ''))) process.stderr.write(line);
      }
      const cr = pending.lastIndexOf('\r');
      if (cr >= 0 || final) {
        const upto = final ? pending.length : cr + 1;
        if (upto > 0 && opts.keepLine!(pending.slice(0, upto))) process.stderr.write(pending.slice(0, upto));
        pending = pending.slice(upto);
      }
    };
    proc.stdout!.on('data', (d: Buffer) => out.push(d));
    proc.stderr?.on('data', (d: Buffer) => {
      if (opts.captureStderr) err += d.toString('utf8');
      else {
        pending += d.toString('utf8');
        forward(false);
      }
    });
    proc.on('error', (e) => reject(new GitError(args, e.message, null)));
    proc.on('close', (code) => {
      if (opts.keepLine && !opts.captureStderr) forward(true);
      resolve({ status: code ?? 128, stdout: Buffer.concat(out).toString('utf8'), stderr: err });
    });
  });
}

/** `git ls-remote --symref <url>`: the remote's refs. Throws when the remote cannot be listed. */
export async function lsRemote(url: string, env?: NodeJS.ProcessEnv): Promise<RemoteListing> {
  const r = await nestedGit(['ls-remote', '--symref', url], { env });
  if (r.status !== 0) throw new GitError(['ls-remote', url], 'cannot list the remote (see the message above)', r.status);
  return parseLsRemote(r.stdout);
}

export function parseLsRemote(text: string): RemoteListing {
  const refs: RemoteRef[] = [];
  const symrefs = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const left = line.slice(0, tab);
    const name = line.slice(tab + 1);
    if (left.startsWith('ref: ')) symrefs.set(name, left.slice(5));
    else if (/^[0-9a-f]{40,64}$/.test(left)) refs.push({ oid: left, name });
  }
  return { refs, symrefs };
}

/** The configured URL of a remote, or undefined when `name` is not a configured remote. */
export function remoteUrl(name: string, cwd?: string): string | undefined {
  if (!/^[A-Za-z0-9._\-/]+$/.test(name)) return undefined;
  return configGet(`remote.${name}.url`, { cwd });
}

/** Names of the configured remotes. */
export function remoteNames(cwd?: string): string[] {
  const out = gitText(['remote'], { cwd });
  return out ? out.split('\n') : [];
}

/** The remote a branch tracks (`branch.<b>.remote`), if any and if it is not the repository itself. */
export function branchRemote(branch: string, cwd?: string): string | undefined {
  const r = configGet(`branch.${branch}.remote`, { cwd });
  return r && r !== '.' ? r : undefined;
}

/** The checked-out branch's short name, or undefined when HEAD is detached. */
export function currentBranch(cwd?: string): string | undefined {
  const r = git(['symbolic-ref', '-q', '--short', 'HEAD'], { cwd, okStatus: [1, 128] });
  return r.status === 0 ? r.stdout.toString('utf8').trim() || undefined : undefined;
}

/** Which of these object ids exist in the local object database (no lazy fetch in partial clones). */
export function existingObjects(oids: string[], cwd?: string): Set<string> {
  const have = new Set<string>();
  if (oids.length === 0) return have;
  const out = git(['cat-file', '--batch-check=%(objectname) %(objecttype)'], {
    cwd,
    input: oids.join('\n') + '\n',
    env: { ...process.env, GIT_NO_LAZY_FETCH: '1' },
  }).stdout.toString('utf8');
  for (const line of out.split('\n')) {
    const [oid, type] = line.split(' ');
    if (type && type !== 'missing') have.add(oid);
  }
  return have;
}

/** Resolves revisions to object ids; undefined for those that do not resolve. */
export function resolveRevs(revs: string[], cwd?: string): (string | undefined)[] {
  if (revs.length === 0) return [];
  const out = git(['cat-file', '--batch-check=%(objectname) %(objecttype)'], { cwd, input: revs.join('\n') + '\n' }).stdout.toString('utf8');
  return out
    .split('\n')
    .slice(0, revs.length)
    .map((line) => {
      const [oid, type] = line.split(' ');
      return type && type !== 'missing' && /^[0-9a-f]{40,64}$/.test(oid) ? oid : undefined;
    });
}

/** Local refs under the given prefixes. */
export function listRefs(prefixes: string[], cwd?: string): RemoteRef[] {
  return gitZ(['for-each-ref', '--format=%(objectname) %(refname)%00', ...prefixes], { cwd })
    .map((r) => r.replace(/^\n/, ''))
    .filter((r) => r)
    .map((r) => {
      const sp = r.indexOf(' ');
      return { oid: r.slice(0, sp), name: r.slice(sp + 1) };
    });
}

/** Points a ref at an object (a remote-tracking copy: whatever it held before is replaced). */
export function setRef(name: string, oid: string, cwd?: string): void {
  git(['update-ref', '-m', 'mgit: remote-tracking copy', name, oid], { cwd });
}

export function deleteRef(name: string, cwd?: string): void {
  git(['update-ref', '-d', name], { cwd, okStatus: [1] });
}

export function isAncestor(ancestor: string, descendant: string, cwd?: string): boolean {
  return git(['merge-base', '--is-ancestor', ancestor, descendant], { cwd, okStatus: [1, 128] }).status === 0;
}

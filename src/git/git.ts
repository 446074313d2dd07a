// The only module that runs git for one-off commands. Everything else receives typed results.
// Commands run with the caller's environment (git sets GIT_DIR and friends for filters and hooks,
// and we must follow them), never through a shell.

import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { GitError } from '../errors.js';

export interface GitOptions {
  cwd?: string;
  input?: string | Uint8Array;
  env?: NodeJS.ProcessEnv;
  /** exit codes that are answers rather than failures (e.g. 1 for `git config --get` of an unset key) */
  okStatus?: number[];
}

export interface GitResult {
  stdout: Buffer;
  stderr: string;
  status: number;
}

export function git(args: string[], opts: GitOptions = {}): GitResult {
  const r = spawnSync('git', args, {
    cwd: opts.cwd,
    input: opts.input,
    env: opts.env ?? process.env,
    maxBuffer: 1 << 30,
  });
  if (r.error) throw new GitError(args, r.error.message, null);
  const status = r.status ?? 128;
  const stderr = r.stderr.toString('utf8');
  if (status !== 0 && !(opts.okStatus ?? []).includes(status)) throw new GitError(args, stderr, status);
  return { stdout: r.stdout, stderr, status };
}

/** stdout as text without the trailing newline. */
export function gitText(args: string[], opts: GitOptions = {}): string {
  return git(args, opts).stdout.toString('utf8').replace(/\n$/, '');
}

/** NUL-separated records of a `-z` command. */
export function gitZ(args: string[], opts: GitOptions = {}): string[] {
  const out = git(args, opts).stdout.toString('utf8');
  const recs = out.split('\0');
  if (recs[recs.length - 1] === '') recs.pop();
  return recs;
}

export interface RepoPaths {
  /** the worktree's top level, or undefined in a bare repository */
  top?: string;
  gitDir: string;
  /** shared by all worktrees; the chunk store lives here */
  commonDir: string;
  /** where git runs hooks from (core.hooksPath honoured) */
  hooks: string;
}

const REPO_ARGS = ['rev-parse', '--path-format=absolute', '--git-dir', '--git-common-dir', '--git-path', 'hooks', '--is-bare-repository'];

/** Where the repository is, or undefined outside one. */
export function findRepo(cwd?: string): RepoPaths | undefined {
  let r = git([...REPO_ARGS, '--show-toplevel'], { cwd, okStatus: [128] });
  // git 2.39 refuses --show-toplevel without a work tree (a bare repository, or a cwd inside .git):
  // that is still a repository (the filter runs there for `git archive`, hooks run there), with no top.
  if (r.status !== 0) r = git(REPO_ARGS, { cwd, okStatus: [128] });
  return r.status === 0 ? repoPaths(r.stdout) : undefined;
}

function repoPaths(stdout: Buffer): RepoPaths {
  const [gitDir, commonDir, hooks, bare, top] = stdout.toString('utf8').split('\n');
  return { gitDir, commonDir, hooks, top: bare === 'true' || !top ? undefined : top };
}

/** `git rev-parse --git-path <name>`: follows core.hooksPath and worktree layout. */
export function gitPath(name: string, cwd?: string): string {
  const p = gitText(['rev-parse', '--git-path', name], { cwd });
  return path.resolve(cwd ?? process.cwd(), p);
}

/** Where a setting is read or written: git's scopes, a config-format file, or a blob (`<rev>:<path>`). */
export type ConfigScope = 'global' | 'local' | 'system' | 'worktree' | { file: string } | { blob: string };

function scopeArgs(scope?: ConfigScope): string[] {
  if (!scope) return [];
  if (typeof scope === 'object') return 'file' in scope ? ['--file', scope.file] : ['--blob', scope.blob];
  return [`--${scope}`];
}

export function configGet(key: string, opts: { cwd?: string; scope?: ConfigScope; type?: 'bool' | 'int' | 'path' } = {}): string | undefined {
  const type = opts.type ? [`--type=${opts.type}`] : [];
  // 1: unset; 128 for a blob scope: the file does not exist at that revision (both mean "not set")
  const okStatus = typeof opts.scope === 'object' && 'blob' in opts.scope ? [1, 128] : [1];
  const r = git(['config', ...scopeArgs(opts.scope), ...type, '--get', key], { cwd: opts.cwd, okStatus });
  return r.status === 0 ? r.stdout.toString('utf8').replace(/\n$/, '') : undefined;
}

export function configGetAll(key: string, opts: { cwd?: string; scope?: ConfigScope } = {}): string[] {
  const r = git(['config', ...scopeArgs(opts.scope), '--get-all', key], { cwd: opts.cwd, okStatus: [1] });
  return r.status === 0 ? r.stdout.toString('utf8').split('\n').filter((l) => l !== '') : [];
}

/** A boolean setting as git reads it (true/yes/on/1), with a default. */
export function configBool(key: string, dflt: boolean, cwd?: string): boolean {
  const r = git(['config', '--type=bool', '--get', key], { cwd, okStatus: [1, 128] });
  if (r.status !== 0) return dflt;
  return r.stdout.toString('utf8').trim() === 'true';
}

/**
 * Every setting in effect, read with one git process (for entry points git starts often, such as the
 * filter). Keys are as `git config --list` prints them: section and name lowercase.
 */
export function configSnapshot(cwd?: string): Map<string, string> {
  const r = git(['config', '-z', '--list'], { cwd, okStatus: [1, 128] });
  return r.status === 0 ? parseConfigList(r.stdout) : new Map();
}

/**
 * The repository (findRepo) and its settings (configSnapshot) in one child process. Starting a process forks this one, and
 * the fork copies its page tables on the main thread: 8-13 ms from a filter that holds 100-200 MB
 * (a prestarted one, src/prestart.ts), twice at the start of every git command. A shell, started once,
 * runs both git commands from its own small process.
 */
export async function repoAndConfigAsync(cwd?: string): Promise<{ paths?: RepoPaths; config: Map<string, string> }> {
  const early = preset;
  preset = undefined;
  if (early && early.cwd === (cwd ?? process.cwd())) {
    const got = parseRepoAndConfig(await early.out);
    if (got) return got;
  }
  const rp = REPO_ARGS.join(' ');
  const script = `p=$(git ${rp} --show-toplevel 2>/dev/null) || p=$(git ${rp} 2>/dev/null) || exit 128; printf '%s\\001' "$p"; git config -z --list 2>/dev/null; exit 0`;
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', script], { cwd, env: process.env, stdio: ['ignore', 'pipe', 'ignore'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.on('error', (e) => reject(new GitError(['rev-parse'], e.message, null)));
    child.on('close', (code) => resolve((code === 0 && parseRepoAndConfig(Buffer.concat(out))) || { config: new Map() }));
  });
}

/** The paths, \x01, then `git config -z --list`: what the script above prints (or the launcher). */
function parseRepoAndConfig(all: Buffer): { paths: RepoPaths; config: Map<string, string> } | undefined {
  const cut = all.indexOf(1);
  if (cut <= 0) return undefined;
  return { paths: repoPaths(all.subarray(0, cut)), config: parseConfigList(all.subarray(cut + 1)) };
}

let preset: { cwd: string; out: Promise<Buffer> } | undefined;

/**
 * The same answers, asked by the launcher of a prestarted filter (bin/git-mgit) while this process took
 * over its job: the next repoAndConfigAsync in `cwd` uses them instead of starting a process of its own.
 * Output without a repository in it (an older launcher, git failing) falls back to asking here.
 */
export function presetRepoAndConfig(cwd: string, out: Promise<Buffer>): void {
  preset = { cwd, out };
}

export function clearPreset(): void {
  preset = undefined;
}

/** `git config -z --list` output as a map. */
function parseConfigList(stdout: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  for (const rec of stdout.toString('utf8').split('\0')) {
    if (!rec) continue;
    const nl = rec.indexOf('\n');
    out.set(nl < 0 ? rec : rec.slice(0, nl), nl < 0 ? 'true' : rec.slice(nl + 1));
  }
  return out;
}

/** A boolean as git reads it (true/yes/on/1, false/no/off/0/empty), with a default for unset or unreadable. */
export function parseBool(v: string | undefined, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  const l = v.trim().toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(l)) return true;
  if (['false', 'no', 'off', '0', ''].includes(l)) return false;
  return dflt;
}

export function configSet(key: string, value: string, opts: { cwd?: string; scope?: ConfigScope } = {}): void {
  git(['config', ...scopeArgs(opts.scope), key, value], { cwd: opts.cwd });
}

export function configUnsetSection(section: string, opts: { cwd?: string; scope?: ConfigScope } = {}): void {
  git(['config', ...scopeArgs(opts.scope), '--remove-section', section], { cwd: opts.cwd, okStatus: [1, 128] });
}

/** Runs `git update-index -q --refresh --stdin` for exactly these paths so status re-cleans them. */
export function refreshIndex(paths: string[], cwd?: string): void {
  if (paths.length === 0) return;
  git(['update-index', '-q', '--refresh', '--stdin'], { cwd, input: paths.join('\n') + '\n', okStatus: [1] });
}

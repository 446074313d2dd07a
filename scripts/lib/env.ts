// Shared by demo and bench. Owns: where the project is, the isolated environment every git call of the
// scripts runs in (no user or system git config can leak in), running commands (optionally under GNU
// time for peak RSS), and temp folders that are removed on exit or on a signal.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root: the folder holding bin/git-mgit, found upward from this file (src or dist). */
export const PROJECT_ROOT = findProjectRoot(path.dirname(fileURLToPath(import.meta.url)));

function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'bin', 'git-mgit')) && fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`cannot find the mgit project (bin/git-mgit) above ${start}`);
  }
}

export class ScriptError extends Error {}

/** Fails early with a clear message when the CLI has not been built (bin/git-mgit loads dist/src/cli.js). */
export function requireBuiltCli(): void {
  if (!fs.existsSync(path.join(PROJECT_ROOT, 'dist', 'src', 'cli.js'))) {
    throw new ScriptError(`mgit is not built: run \`npx tsc -p .\` in ${PROJECT_ROOT}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Temp folders

const tempRoots = new Set<string>();
let exitHooked = false;

/** A fresh temp folder; with `autoRemove` it is deleted at exit, also after a failure or Ctrl-C. */
export function makeTempDir(prefix: string, autoRemove: boolean): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (autoRemove) {
    tempRoots.add(dir);
    hookExit();
  }
  return dir;
}

/** Keeps a folder that was registered for removal (the demo's `--cleanup` not given). */
export function keepTempDir(dir: string): void {
  tempRoots.delete(dir);
}

/**
 * Lets Node run pending signal handlers. The scripts work synchronously (spawnSync keeps timings
 * simple), and a synchronous loop never returns to the event loop, so without these pauses Ctrl-C
 * would neither stop the script nor remove its temp folders until the very end.
 */
export function letSignalsIn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const d of tempRoots) fs.rmSync(d, { recursive: true, force: true });
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\n${sig}: removing temp folders\n`);
      process.exit(130); // runs the exit handler above
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Isolated git environment

export interface GitEnv {
  env: NodeJS.ProcessEnv;
  home: string;
}

/**
 * An environment in which git sees only the config we write: HOME and the global config in `home`,
 * no system config, the project's bin/ first on PATH (so `git mgit` is this checkout's mgit), and no
 * GIT_* variable inherited from the caller (a hook or an outer repository must not redirect us).
 */
export function isolatedGitEnv(home: string): GitEnv {
  fs.mkdirSync(home, { recursive: true });
  const globalConfig = path.join(home, '.gitconfig');
  fs.writeFileSync(
    globalConfig,
    [
      '[user]',
      '\tname = mgit script',
      '\temail = mgit-script@example.invalid',
      '[init]',
      '\tdefaultBranch = main',
      '[advice]',
      '\tdetachedHead = false',
      '',
    ].join('\n'),
  );
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('GIT_') || k === 'XDG_CONFIG_HOME' || k === 'EMAIL') continue;
    env[k] = v;
  }
  Object.assign(env, {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    GIT_CONFIG_GLOBAL: globalConfig,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    LC_ALL: 'C',
    PATH: [path.join(PROJECT_ROOT, 'bin'), process.env.PATH ?? ''].join(path.delimiter),
  });
  return { env, home };
}

// ---------------------------------------------------------------------------------------------
// Running commands

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** return instead of throwing on a non-zero exit */
  allowFail?: boolean;
  /** run under GNU time (this binary) and report the peak RSS of the command's process tree */
  timeBin?: string;
  /**
   * Kill the command and everything it started after this many seconds (coreutils `timeout` runs
   * it in its own process group), so a filter that never exits cannot hang the script forever.
   */
  timeoutSeconds?: number;
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
  /** wall-clock seconds of the command (spawn to exit) */
  seconds: number;
  /** GNU time's %M in KiB: the largest RSS of the command or of any child it waited for */
  peakRssKb?: number;
}

/** GNU time's figures files live in one temp folder, removed at exit like the others. */
let rssDir: string | undefined;
let rssCount = 0;

export function run(cmd: string, args: string[], opts: RunOptions = {}): RunResult {
  let file = cmd;
  let argv = args;
  let rssFile: string | undefined;
  if (opts.timeBin) {
    rssDir ??= makeTempDir('mgit-rss-', true);
    rssFile = path.join(rssDir, `${++rssCount}.txt`);
    file = opts.timeBin;
    argv = ['-f', '%M', '-o', rssFile, cmd, ...args];
  }
  const timeoutBin = opts.timeoutSeconds ? findTimeout() : undefined;
  if (timeoutBin) {
    argv = ['-k', '10', String(opts.timeoutSeconds), file, ...argv];
    file = timeoutBin;
  }
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, argv, {
    cwd: opts.cwd,
    env: opts.env,
    input: opts.input,
    maxBuffer: 512 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  let peakRssKb: number | undefined;
  if (rssFile) {
    peakRssKb = maxRssIn(rssFile);
    fs.rmSync(rssFile, { force: true });
  }
  if (r.error) throw new ScriptError(`cannot run ${cmd}: ${r.error.message}`);
  const status = r.status ?? 128;
  const res: RunResult = { status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), seconds, peakRssKb };
  if (timeoutBin && (status === 124 || status === 137) && seconds >= opts.timeoutSeconds!) {
    throw new ScriptError(`\`${[cmd, ...args].join(' ')}\` did not finish within ${opts.timeoutSeconds} s and was killed${opts.cwd ? ` (in ${opts.cwd})` : ''}`);
  }
  if (status !== 0 && !opts.allowFail) {
    const where = opts.cwd ? ` (in ${opts.cwd})` : '';
    throw new ScriptError(`\`${[cmd, ...args].join(' ')}\` failed with exit code ${status}${where}:\n${(res.stderr || res.stdout).trim()}`);
  }
  return res;
}

/** The largest %M figure GNU time wrote to a file (one line per run; other lines are its notes). */
export function maxRssIn(file: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const values = text
    .split('\n')
    .filter((l) => /^\d+$/.test(l.trim()))
    .map(Number);
  return values.length ? Math.max(...values) : undefined;
}

/** Whether an executable exists on PATH (or at an absolute path). */
export function which(name: string): string | undefined {
  if (path.isAbsolute(name)) return fs.existsSync(name) ? name : undefined;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

let timeoutPath: string | null | undefined;

/** coreutils `timeout`, looked up once. */
function findTimeout(): string | undefined {
  if (timeoutPath === undefined) timeoutPath = which('timeout') ?? null;
  return timeoutPath ?? undefined;
}

/** GNU time (not the shell keyword, nor BSD time: we need -f %M and -o). */
export function findGnuTime(): string | undefined {
  const p = which('time');
  if (!p) return undefined;
  const r = spawnSync(p, ['--version'], { encoding: 'utf8' });
  return /GNU/.test(`${r.stdout}${r.stderr}`) ? p : undefined;
}

/** First line of `<cmd> <args>`, or undefined when the command is missing or fails. */
export function versionOf(cmd: string, args: string[], env?: NodeJS.ProcessEnv): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.trim().split('\n')[0];
}

/** Quotes a word for the shell git runs filter commands with. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./=%:-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

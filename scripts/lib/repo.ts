// Shared by demo and bench. Owns: one benchmark/demo repository for one tool (mgit, git-lfs or plain
// git): setting it up, committing a plan step by step with the add+commit timed, the timed
// re-checkout of the work tree, checking the result byte for byte, and measuring what it stored.
// Peak RSS: git commands run under GNU time, and the tool's long-running filter is wrapped in GNU
// time through its `filter.<driver>.process` config (one figures file per phase).

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { maxRssIn, run, shellQuote, type GitEnv, type RunResult } from './env.js';
import { apparentSize, placeFile, sha256File } from './files.js';
import type { CommitStep, PlanFile } from './plan.js';

export type Tool = 'mgit' | 'git-lfs' | 'git';
export const TOOLS: Tool[] = ['mgit', 'git-lfs', 'git'];

const PATTERNS = ['*.onnx', '*.onnx.data'];

/** The filter driver each tool configures, and the command git runs for it. */
const FILTER: Partial<Record<Tool, { driver: string; command: string }>> = {
  mgit: { driver: 'mgit', command: 'git-mgit filter-process' },
  'git-lfs': { driver: 'lfs', command: 'git-lfs filter-process' },
};

export type Phase = 'add' | 'checkout' | 'other';

export interface ToolRepoOptions {
  tool: Tool;
  dir: string;
  git: GitEnv;
  /** GNU time, to measure peak RSS; undefined: not measured */
  timeBin?: string;
  /** git init --template=<this> (an empty folder keeps sample hooks out of the measured .git) */
  template?: string;
  /** limit for any one git command (see RunOptions.timeoutSeconds) */
  timeoutSeconds?: number;
  /**
   * XDG_RUNTIME_DIR for mgit: where its prestarted filter processes wait (docs/prestart.md). One for
   * the whole run, as a user's machine has one for all repositories, and apart from the user's own.
   */
  runtime?: string;
}

/** Processes of the prestart pool under `runtime`, in whatever phase they are. */
export function poolPids(runtime: string | undefined): number[] {
  if (!runtime || process.platform !== 'linux') return [];
  const pids: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.includes('__prestart') && cmd.includes(runtime)) pids.push(Number(d));
    } catch {
      // gone
    }
  }
  return pids;
}

/** Ends the pool's processes (they would wait for their idle time-out). */
export function stopPool(runtime: string | undefined): void {
  for (const pid of poolPids(runtime)) {
    try {
      process.kill(pid);
    } catch {
      // gone
    }
  }
}

export interface StepResult {
  step: CommitStep;
  commit: string;
  bytes: number;
  addSeconds: number;
  commitSeconds: number;
  /** bytes of the blobs git stored for this step's files (pointers for mgit and git-lfs) */
  blobBytes: number;
  gitRssKb?: number;
}

/** Timed checkouts per measurement (the median counts), and the time after which no more are started. */
const CHECKOUT_RUNS = 5;
const CHECKOUT_BUDGET_S = 20;

export interface CheckoutResult {
  files: number;
  bytes: number;
  /** the median of the runs */
  seconds: number;
  runs: number[];
  gitRssKb?: number;
  filterRssKb?: number;
}

export interface Sizes {
  /** everything under .git */
  gitDir: number;
  /** .git/objects: git's object store */
  objects: number;
  /** .git/lfs (objects and tmp) */
  lfs: number;
  /** .git/mgit (objects, cache, tmp) */
  mgit: number;
  /** .git/mgit/objects: the chunk store */
  mgitObjects: number;
}

export class ToolRepo {
  readonly tool: Tool;
  readonly dir: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly timeBin?: string;
  private readonly rssDir: string;

  /** mgit's prestart pool (docs/prestart.md): its processes are measured with the filter */
  private readonly runtime?: string;
  private phase: Phase = 'other';
  private readonly poolPeakKb: Partial<Record<Phase, number>> = {};

  constructor(private readonly opts: ToolRepoOptions) {
    this.tool = opts.tool;
    this.dir = opts.dir;
    this.env = opts.git.env;
    this.timeBin = opts.timeBin;
    this.rssDir = `${opts.dir}.rss`;
    if (this.tool === 'mgit' && opts.runtime) {
      this.runtime = opts.runtime;
      fs.mkdirSync(this.runtime, { recursive: true, mode: 0o700 });
      this.env = { ...this.env, XDG_RUNTIME_DIR: this.runtime };
    }
  }

  /**
   * The filter's work happens in prestarted processes that git does not start (GNU time around the
   * filter command then measures only the launcher script): their peak RSS is read from /proc
   * (VmHWM) at the end of each phase, after it was reset at the phase's start (clear_refs 5).
   */
  private notePoolPeak(): void {
    for (const pid of poolPids(this.runtime)) {
      try {
        const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (m) this.poolPeakKb[this.phase] = Math.max(this.poolPeakKb[this.phase] ?? 0, Number(m[1]));
        fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
      } catch {
        // gone, or not allowed: the launcher's own figure stands
      }
    }
  }

  git(args: string[], extra: { timed?: boolean; allowFail?: boolean; input?: string } = {}): RunResult {
    return run('git', args, {
      cwd: this.dir,
      env: this.env,
      timeBin: extra.timed ? this.timeBin : undefined,
      allowFail: extra.allowFail,
      input: extra.input,
      timeoutSeconds: this.opts.timeoutSeconds,
    });
  }

  get gitDir(): string {
    return path.join(this.dir, '.git');
  }

  /** git init, the tool's own setup (as its docs tell a user), and a first commit of .gitattributes. */
  init(log?: (line: string) => void): void {
    const say = log ?? (() => {});
    fs.mkdirSync(this.dir, { recursive: true });
    const template = this.opts.template ? [`--template=${this.opts.template}`] : [];
    this.git(['init', '-q', ...template]);
    if (this.tool === 'mgit') {
      this.setup(say, ['mgit', 'install', '--local']);
      this.setup(say, ['mgit', 'track', ...PATTERNS]);
    } else if (this.tool === 'git-lfs') {
      this.setup(say, ['lfs', 'install', '--local']);
      this.setup(say, ['lfs', 'track', ...PATTERNS]);
    }
    this.setPhase('other');
    if (fs.existsSync(path.join(this.dir, '.gitattributes'))) {
      this.git(['add', '.gitattributes']);
      this.git(['commit', '-q', '-m', `track ${PATTERNS.join(' ')} with ${this.tool}`]);
    } else {
      this.git(['commit', '-q', '--allow-empty', '-m', 'empty repository']);
    }
  }

  private setup(say: (line: string) => void, args: string[]): void {
    say(`$ git ${args.map(shellQuote).join(' ')}`);
    const out = this.git(args).stdout.trim();
    if (out) say(out.replace(/^/gm, '  '));
  }

  /**
   * Points the tool's filter process at GNU time writing to this phase's figures file, so the peak
   * RSS of the filter is known per phase. Plain git has no filter; without GNU time nothing changes.
   */
  setPhase(phase: Phase): void {
    this.notePoolPeak();
    this.phase = phase;
    const f = FILTER[this.tool];
    if (!f || !this.timeBin) return;
    fs.mkdirSync(this.rssDir, { recursive: true });
    const out = path.join(this.rssDir, `${phase}.txt`);
    this.git(['config', `filter.${f.driver}.process`, `${shellQuote(this.timeBin)} -f %M -a -o ${shellQuote(out)} ${f.command}`]);
  }

  filterRssKb(phase: Phase): number | undefined {
    const figures = [maxRssIn(path.join(this.rssDir, `${phase}.txt`)), this.poolPeakKb[phase]].filter((x): x is number => x !== undefined);
    return figures.length ? Math.max(...figures) : undefined;
  }

  /** Places the step's files (untimed: a user's files are already there), then times add + commit. */
  commit(step: CommitStep, link = false): StepResult {
    for (const f of step.files) placeFile(f.src, path.join(this.dir, f.path), link);
    const paths = step.files.map((f) => f.path);
    this.setPhase('add');
    const add = this.git(['add', '--', ...paths], { timed: true });
    const commit = this.git(['commit', '-m', step.message], { timed: true });
    this.setPhase('other');
    const rss = [add.peakRssKb, commit.peakRssKb].filter((x): x is number => x !== undefined);
    return {
      step,
      commit: this.git(['rev-parse', 'HEAD']).stdout.trim(),
      bytes: step.files.reduce((a, f) => a + f.size, 0),
      addSeconds: add.seconds,
      commitSeconds: commit.seconds,
      blobBytes: this.blobBytes('HEAD', paths),
      gitRssKb: rss.length ? Math.max(...rss) : undefined,
    };
  }

  /** Sizes of the blobs git holds for `paths` at `rev` (`git ls-tree -l`). */
  blobBytes(rev: string, paths: string[]): number {
    const out = this.git(['ls-tree', '-l', '-z', rev, '--', ...paths]).stdout;
    return out
      .split('\0')
      .filter(Boolean)
      .reduce((a, rec) => a + Number(rec.slice(0, rec.indexOf('\t')).trim().split(/\s+/)[3]), 0);
  }

  /**
   * Deletes the given work-tree files, then times `git checkout -- .` restoring them from this
   * repository: the median of up to `maxRuns` runs (fewer once CHECKOUT_BUDGET_S have passed), each
   * after a `sync`, so that writes of earlier steps (a repack, the last checkout) are not flushed during
   * it. One run of a 100 ms checkout on a 2-core machine moved by up to 2x between runs.
   */
  checkout(files: PlanFile[], maxRuns = CHECKOUT_RUNS): CheckoutResult {
    const runs: number[] = [];
    let gitRssKb: number | undefined;
    const started = Date.now();
    while (runs.length < maxRuns && (runs.length === 0 || Date.now() - started < CHECKOUT_BUDGET_S * 1000)) {
      for (const f of files) fs.rmSync(path.join(this.dir, f.path), { force: true });
      spawnSync('sync');
      this.setPhase('checkout');
      const r = this.git(['checkout', '--', '.'], { timed: true });
      this.setPhase('other');
      runs.push(r.seconds);
      if (r.peakRssKb !== undefined) gitRssKb = Math.max(gitRssKb ?? 0, r.peakRssKb);
    }
    const sorted = [...runs].sort((a, b) => a - b);
    return {
      files: files.length,
      bytes: files.reduce((a, f) => a + f.size, 0),
      seconds: sorted[(sorted.length - 1) >> 1],
      runs,
      gitRssKb,
      filterRssKb: this.filterRssKb('checkout'),
    };
  }

  /** Problems found comparing the work tree with the sources (sha256) and in `git status`. */
  verify(files: PlanFile[], sourceSha: (src: string) => string): string[] {
    const problems: string[] = [];
    for (const f of files) {
      const p = path.join(this.dir, f.path);
      if (!fs.existsSync(p)) problems.push(`${f.path}: missing after checkout`);
      else if (sha256File(p) !== sourceSha(f.src)) problems.push(`${f.path}: checked-out bytes differ from ${f.src} (sha256)`);
    }
    const status = this.git(['status', '--porcelain']).stdout.trim();
    if (status) problems.push(`git status is not clean:\n${status}`);
    return problems;
  }

  sizes(): Sizes {
    const g = this.gitDir;
    return {
      gitDir: apparentSize(g),
      objects: apparentSize(path.join(g, 'objects')),
      lfs: apparentSize(path.join(g, 'lfs')),
      mgit: apparentSize(path.join(g, 'mgit')),
      mgitObjects: apparentSize(path.join(g, 'mgit', 'objects')),
    };
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
    fs.rmSync(this.rssDir, { recursive: true, force: true });
  }
}

/** Caches sha256 of source files (each source is hashed once however many tools check against it). */
export function shaCache(): (file: string) => string {
  const cache = new Map<string, string>();
  return (file) => {
    let h = cache.get(file);
    if (!h) {
      h = sha256File(file);
      cache.set(file, h);
    }
    return h;
  };
}

export interface HistoryEntry {
  rev: string;
  path: string;
  sha256: string;
}

/**
 * Restores every committed version through the filters (`git cat-file --filters <rev>:<path>`, which
 * smudges like a checkout) and returns the entries whose bytes differ. One git call per version:
 * git 2.39's `--batch --filters` loses the path and fails. Output is hashed as it streams, so memory
 * stays flat whatever the models' sizes.
 */
export async function verifyHistory(repo: ToolRepo, entries: HistoryEntry[], env: NodeJS.ProcessEnv): Promise<string[]> {
  const problems: string[] = [];
  for (const e of entries) {
    const name = `${e.rev.slice(0, 10)}:${e.path}`;
    const r = await filteredSha(repo.dir, env, `${e.rev}:${e.path}`);
    if (r.code !== 0) problems.push(`${name}: git cat-file --filters failed (exit ${r.code}): ${r.stderr.trim()}`);
    else if (r.sha256 !== e.sha256) problems.push(`${name}: restored bytes differ from the committed source (sha256)`);
  }
  return problems;
}

async function filteredSha(cwd: string, env: NodeJS.ProcessEnv, object: string): Promise<{ code: number; sha256: string; stderr: string }> {
  const proc = spawn('git', ['cat-file', '--filters', object], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const exited = new Promise<number>((resolve) => proc.on('close', (code) => resolve(code ?? 128)));
  const hash = createHash('sha256');
  for await (const chunk of proc.stdout as AsyncIterable<Buffer>) hash.update(chunk);
  return { code: await exited, sha256: hash.digest('hex'), stderr };
}

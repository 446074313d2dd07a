// Test helper: real git repositories in temp folders, with an isolated environment (no user or
// system config, background maintenance off) and the project's bin/ first on PATH, so `git mgit`
// and the filter git starts are this checkout's code.

import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = path.join(PROJECT, 'bin');

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mgit-test-'));
process.on('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));

export function tempDir(tag = 'd'): string {
  return fs.mkdtempSync(path.join(scratch, `${tag}-`));
}

/** The environment every git call in tests runs with. */
export function testEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const home = path.join(scratch, 'home');
  fs.mkdirSync(home, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    GIT_CONFIG_GLOBAL: path.join(home, '.gitconfig'),
    GIT_CONFIG_NOSYSTEM: '1',
    PATH: `${BIN}${path.delimiter}${process.env.PATH}`,
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.com',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.com',
    GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z',
    GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z',
    // prestarted filter processes (src/prestart.ts) that tests start exit soon after the suite
    MGIT_PRESTART_IDLE: process.env.MGIT_PRESTART_IDLE ?? '60',
    ...extra,
  };
  for (const k of Object.keys(env)) if (k.startsWith('GIT_') && ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_TRACE'].includes(k)) delete env[k];
  return env;
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
  out: Buffer;
}

export function run(cmd: string, args: string[], opts: SpawnSyncOptions & { env?: NodeJS.ProcessEnv } = {}): RunResult {
  const r = spawnSync(cmd, args, { ...opts, env: opts.env ?? testEnv(), maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  return { status: r.status ?? 128, stdout: r.stdout?.toString() ?? '', stderr: r.stderr?.toString() ?? '', out: r.stdout as Buffer };
}

export class TestRepo {
  constructor(readonly dir: string, readonly env: NodeJS.ProcessEnv = testEnv()) {}

  /** A new repository with mgit installed locally and `*.onnx` tracked. */
  static create(opts: { track?: string[]; install?: boolean; env?: NodeJS.ProcessEnv } = {}): TestRepo {
    const r = new TestRepo(tempDir('repo'), opts.env ?? testEnv());
    r.git('init', '-q', '-b', 'main');
    r.git('config', 'maintenance.auto', 'false');
    r.git('config', 'gc.auto', '0');
    if (opts.install !== false) {
      r.mgit('install', '--local');
      r.mgit('track', ...(opts.track ?? ['*.onnx']));
    }
    return r;
  }

  /** Runs git and returns stdout; throws with stderr on failure. */
  git(...args: string[]): string {
    const r = this.tryGit(...args);
    if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  }

  tryGit(...args: string[]): RunResult {
    return run('git', args, { cwd: this.dir, env: this.env });
  }

  /** Raw bytes of a git command's stdout. */
  gitBytes(...args: string[]): Buffer {
    const r = this.tryGit(...args);
    if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    return r.out;
  }

  mgit(...args: string[]): string {
    return this.git('mgit', ...args);
  }

  tryMgit(...args: string[]): RunResult {
    return this.tryGit('mgit', ...args);
  }

  path(rel: string): string {
    return path.join(this.dir, rel);
  }

  write(rel: string, data: Uint8Array | string): void {
    fs.mkdirSync(path.dirname(this.path(rel)), { recursive: true });
    fs.writeFileSync(this.path(rel), data);
  }

  read(rel: string): Buffer {
    return fs.readFileSync(this.path(rel));
  }

  /** Deletes a tracked file and has git check it out again (through the filter); its bytes. */
  checkoutAgain(rel: string): Buffer {
    fs.rmSync(this.path(rel));
    this.git('checkout', '--', rel);
    return this.read(rel);
  }

  commitAll(message: string): void {
    this.git('add', '-A');
    this.git('commit', '-q', '-m', message);
  }

  status(): string {
    return this.git('status', '--porcelain');
  }

  /**
   * Flips the last byte of the loose object of the first tensor chunk that the blob `spec` (e.g.
   * `HEAD:m.onnx`) names; returns that chunk's id.
   */
  corruptFirstTensorChunk(spec: string): string {
    const chunk = /^tensor ([0-9a-f]{64}) /m.exec(this.git('cat-file', 'blob', spec))![1];
    const file = path.join(this.store, 'objects', chunk.slice(0, 2), chunk.slice(2));
    fs.chmodSync(file, 0o644);
    const obj = fs.readFileSync(file);
    obj[obj.length - 1] ^= 1;
    fs.writeFileSync(file, obj);
    return chunk;
  }

  /** The chunk store folder. */
  get store(): string {
    return path.join(this.dir, '.git', 'mgit');
  }

  storeObjects(): string[] {
    const root = path.join(this.store, 'objects');
    if (!fs.existsSync(root)) return [];
    return fs.readdirSync(root).flatMap((d) => fs.readdirSync(path.join(root, d)).map((f) => path.join(root, d, f)));
  }
}

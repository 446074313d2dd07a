// Test helper for sharing: a user environment with mgit installed globally (as on a real machine, so
// fresh clones get the filter), bare remotes, clones, and a look at what landed on directory storage.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parsePointer, pointerChunks } from '../../src/codec/pointer.js';
import { mlpTensors, type MlpOptions } from './onnx-builder.js';
import { run, tempDir, testEnv, type RunResult } from './git-repo.js';

export const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** An environment with its own HOME, mgit installed in its global git config. */
export function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const home = tempDir('home');
  const env = testEnv({ HOME: home, GIT_CONFIG_GLOBAL: path.join(home, '.gitconfig'), ...extra });
  const r = run('git', ['mgit', 'install', '--skip-repo'], { cwd: home, env });
  if (r.status !== 0) throw new Error(`git mgit install failed: ${r.stderr}`);
  run('git', ['config', '--global', 'init.defaultBranch', 'main'], { env });
  run('git', ['config', '--global', 'maintenance.auto', 'false'], { env });
  run('git', ['config', '--global', 'gc.auto', '0'], { env });
  return env;
}

export function bareRepo(env: NodeJS.ProcessEnv): string {
  const dir = path.join(tempDir('remote'), 'models.git');
  const r = run('git', ['init', '-q', '--bare', '-b', 'main', dir], { env });
  if (r.status !== 0) throw new Error(r.stderr);
  return dir;
}

export function clone(url: string, env: NodeJS.ProcessEnv, args: string[] = []): RunResult & { dir: string } {
  const dir = path.join(tempDir('clone'), 'work');
  return { ...run('git', ['clone', '-q', ...args, url, dir], { env }), dir };
}

/** Chunk ids stored under a directory storage. */
export function storageIds(root: string): string[] {
  const objects = path.join(root, 'objects');
  if (!fs.existsSync(objects)) return [];
  return fs
    .readdirSync(objects)
    .flatMap((d) => fs.readdirSync(path.join(objects, d)).map((f) => d + f))
    .sort();
}

/** Chunks a model's pointer names, read from git. */
export function chunksAt(cwd: string, env: NodeJS.ProcessEnv, rev: string): string[] {
  const r = run('git', ['cat-file', 'blob', rev], { cwd, env });
  if (r.status !== 0) throw new Error(r.stderr);
  return [...new Set(pointerChunks(parsePointer(r.out)).map((c) => c.chunk))];
}

/** mlpModel with one tensor's values changed in place (same layout, so only that tensor's chunk differs). */
export function changeTensor(modelBytes: Buffer, opts: MlpOptions, index: number, seed: number): Buffer {
  const spec = mlpTensors(opts)[index];
  const raw = spec.raw!;
  const at = modelBytes.indexOf(raw);
  if (at < 0) throw new Error('tensor payload not found in model');
  const out = Buffer.from(modelBytes);
  const changed = Buffer.from(raw);
  for (let i = 0; i + 4 <= changed.length; i += 4) changed.writeFloatLE(changed.readFloatLE(i) + ((seed + i) % 7) * 0.001, i);
  changed.copy(out, at);
  return out;
}

/** Runs a command without blocking the event loop (for tests that serve something in-process meanwhile). */
export function runAsync(cmd: string, args: string[], opts: { cwd?: string; env: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => {
      const b = Buffer.concat(out);
      resolve({ status: code ?? 128, stdout: b.toString(), stderr: err, out: b });
    });
  });
}

/** The remote's refs (name -> oid), read with plain git. */
export function remoteRefs(bare: string, env: NodeJS.ProcessEnv): Map<string, string> {
  const r = run('git', ['for-each-ref', '--format=%(refname) %(objectname)'], { cwd: bare, env });
  return new Map(
    r.stdout
      .split('\n')
      .filter((l) => l)
      .map((l) => l.split(' ') as [string, string]),
  );
}

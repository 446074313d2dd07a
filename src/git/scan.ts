// Finds mgit pointers in history and in the index. Pointers are recognised by their header, reading
// every candidate blob up to the spec's pointer size limit, so no model is skipped however large.
// Every scan passes --missing=allow-promisor: in a partial clone it must not trigger downloads.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { MAX_POINTER_BYTES, parsePointer, pointerVersion, type Pointer } from '../codec/pointer.js';
import { CatFile } from './cat-file.js';
import { gitZ } from './git.js';

export interface FoundPointer {
  oid: string;
  path: string;
  pointer?: Pointer;
  /** set when the blob has a pointer header but does not parse (newer version, damage) */
  error?: string;
}

/** Blob ids and paths reachable from revision arguments (e.g. ['--all', '--reflog']). */
async function* reachableBlobs(revArgs: string[], cwd?: string): AsyncGenerator<{ oid: string; path: string }> {
  const proc = spawn('git', ['rev-list', '--objects', '--missing=allow-promisor', '--filter=object:type=blob', ...revArgs], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<number>((resolve) => proc.on('close', (code) => resolve(code ?? 128)));
  for await (const line of createInterface({ input: proc.stdout })) {
    const sp = line.indexOf(' ');
    if (sp < 0) continue; // commits carry no path
    yield { oid: line.slice(0, sp), path: line.slice(sp + 1) };
  }
  const code = await done;
  if (code !== 0 && !/unknown revision|bad revision|does not have any commits/.test(stderr)) {
    throw new Error(`git rev-list failed: ${stderr.trim()}`);
  }
}

/** Staged blobs of the current worktree's index. */
export function indexBlobs(cwd?: string): { oid: string; path: string; stage: number; mode: string }[] {
  return gitZ(['ls-files', '-s', '-z'], { cwd }).map((rec) => {
    const tab = rec.indexOf('\t');
    const [mode, oid, stage] = rec.slice(0, tab).split(' ');
    return { mode, oid, stage: Number(stage), path: rec.slice(tab + 1) };
  });
}

/** Reads candidate blobs and yields the pointers among them (each blob once). */
export async function* pointersIn(blobs: AsyncIterable<{ oid: string; path: string }> | Iterable<{ oid: string; path: string }>, cwd?: string): AsyncGenerator<FoundPointer> {
  const cat = new CatFile(cwd);
  const seen = new Set<string>();
  try {
    // Pipeline reads: keep a window of requests in flight.
    const window: { oid: string; path: string; p: ReturnType<CatFile['read']> }[] = [];
    const drain = async function* (all: boolean): AsyncGenerator<FoundPointer> {
      while (window.length > (all ? 0 : 64)) {
        const w = window.shift()!;
        const found = classify(w.oid, w.path, await w.p);
        if (found) yield found;
      }
    };
    for await (const b of blobs) {
      if (seen.has(b.oid)) continue;
      seen.add(b.oid);
      window.push({ ...b, p: cat.read(b.oid, MAX_POINTER_BYTES) });
      yield* drain(false);
    }
    yield* drain(true);
  } finally {
    await cat.close();
  }
}

function classify(oid: string, path: string, obj: { type: string; data?: Buffer }): FoundPointer | undefined {
  if (obj.type !== 'blob' || !obj.data) return undefined;
  const v = pointerVersion(obj.data);
  if (v === undefined) return undefined;
  try {
    return { oid, path, pointer: parsePointer(obj.data) };
  } catch (e) {
    return { oid, path, error: (e as Error).message };
  }
}

export function pointersInHistory(revArgs: string[], cwd?: string): AsyncGenerator<FoundPointer> {
  return pointersIn(reachableBlobs(revArgs, cwd), cwd);
}

/** Models staged in the index (stage 0), as pointers. */
export async function indexPointers(cwd?: string): Promise<FoundPointer[]> {
  const entries = indexBlobs(cwd).filter((e) => e.stage === 0 && (e.mode === '100644' || e.mode === '100755'));
  const byOid = new Map<string, string[]>();
  for (const e of entries) byOid.set(e.oid, [...(byOid.get(e.oid) ?? []), e.path]);
  const out: FoundPointer[] = [];
  for await (const fp of pointersIn(entries, cwd)) {
    for (const p of byOid.get(fp.oid) ?? []) out.push({ ...fp, path: p });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Blobs in a revision's tree (`git ls-tree -r`), optionally only under some paths. */
export function treeBlobs(rev: string, paths: string[] = [], cwd?: string): { oid: string; path: string }[] {
  return gitZ(['ls-tree', '-r', '-z', '--full-tree', rev, '--', ...paths], { cwd }).flatMap((rec) => {
    const tab = rec.indexOf('\t');
    const [, type, oid] = rec.slice(0, tab).split(' ');
    return type === 'blob' ? [{ oid, path: rec.slice(tab + 1) }] : [];
  });
}

/** Models in a revision's tree, as pointers. */
export async function treePointers(rev: string, paths: string[] = [], cwd?: string): Promise<FoundPointer[]> {
  const blobs = treeBlobs(rev, paths, cwd);
  const byOid = new Map<string, string[]>();
  for (const b of blobs) byOid.set(b.oid, [...(byOid.get(b.oid) ?? []), b.path]);
  const out: FoundPointer[] = [];
  for await (const fp of pointersIn(blobs, cwd)) for (const p of byOid.get(fp.oid) ?? []) out.push({ ...fp, path: p });
  return out;
}

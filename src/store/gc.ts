// gc: deletes chunks that nothing needs (DESIGN §3): not named by a pointer reachable from refs,
// reflogs or any worktree's index, and not a delta base of a chunk that is kept. Objects written or
// touched within the grace period are kept too (with their bases), and so are the chunks of clean-cache
// entries written or hit within it, so a clean in flight, whose pointer git has not recorded yet, never
// loses its chunks. Cache entries that name a chunk about to go are removed first: a cache hit never
// names a deleted chunk, even when gc is killed midway. Packs holding garbage are rewritten with the
// live objects only (encodings copied, not recomputed).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { pointerChunks } from '../codec/pointer.js';
import { CleanCache } from './clean-cache.js';
import { PackWriter, readPackIndex, readPacked, type PackEntry } from './pack.js';
import type { ChunkStore } from './store.js';

export interface GcReport {
  reachable: number;
  kept: number;
  deletedObjects: number;
  deletedBytes: number;
  rewrittenPacks: number;
  tempFilesRemoved: number;
  cacheEntriesRemoved: number;
}

export function gc(store: ChunkStore, reachable: Set<string>, graceSeconds: number, now = Date.now()): GcReport {
  const cutoff = now - graceSeconds * 1000;
  const keep = new Set(reachable);
  const report: GcReport = { reachable: reachable.size, kept: 0, deletedObjects: 0, deletedBytes: 0, rewrittenPacks: 0, tempFilesRemoved: 0, cacheEntriesRemoved: 0 };

  const loose = [...store.looseIds()];
  for (const id of loose) {
    if (fs.statSync(store.objectPath(id)).mtimeMs >= cutoff) keep.add(id);
  }
  const packs = store.packNames().map((name) => {
    const entries = new Map<string, PackEntry>();
    const pack = path.join(store.packs, `${name}.pack`);
    readPackIndex(path.join(store.packs, `${name}.idx`), pack, entries);
    return { name, pack, entries, fresh: fs.statSync(pack).mtimeMs >= cutoff };
  });
  for (const p of packs) if (p.fresh) for (const id of p.entries.keys()) keep.add(id);
  const cache = new CleanCache(store);
  const entries = cache.entries();
  for (const e of entries) if (e.mtime >= cutoff) for (const c of pointerChunks(e.pointer)) keep.add(c.chunk);

  // Bases of everything kept are kept (a delta is useless without them).
  const stack = [...keep];
  while (stack.length) {
    const id = stack.pop()!;
    let bases: string[] = [];
    try {
      bases = store.basesOf(id);
    } catch {
      continue; // missing: fsck reports it
    }
    for (const b of bases) {
      if (!keep.has(b)) {
        keep.add(b);
        stack.push(b);
      }
    }
  }
  report.kept = keep.size;

  // Before any chunk goes, the cache entries that name one (or one already gone) go.
  for (const e of entries) {
    if (pointerChunks(e.pointer).some((c) => !keep.has(c.chunk) || !store.has(c.chunk))) {
      cache.remove(e.sha);
      report.cacheEntriesRemoved++;
    }
  }

  for (const id of loose) {
    if (keep.has(id)) continue;
    report.deletedBytes += fs.statSync(store.objectPath(id)).size;
    report.deletedObjects++;
    store.remove(id);
  }
  for (const p of packs) {
    const dead = [...p.entries.keys()].filter((id) => !keep.has(id));
    if (dead.length === 0 || p.fresh) continue;
    const w = new PackWriter(store.packs, (t) => store.tempPath(t));
    for (const [id, e] of p.entries) if (keep.has(id)) w.add(id, readPacked(e));
    for (const id of dead) report.deletedBytes += p.entries.get(id)!.length;
    report.deletedObjects += dead.length;
    w.finish();
    fs.rmSync(path.join(store.packs, `${p.name}.idx`), { force: true });
    fs.rmSync(p.pack, { force: true });
    report.rewrittenPacks++;
  }
  store.reloadPacks();

  // Temp files of writers that died (nothing live is older than a day).
  for (const f of safeList(store.tmp)) {
    const file = path.join(store.tmp, f);
    try {
      if (fs.statSync(file).mtimeMs < Math.min(cutoff, now - 86400 * 1000)) {
        fs.rmSync(file, { force: true });
        report.tempFilesRemoved++;
      }
    } catch {
      // gone already
    }
  }
  store.pruneEmptyDirs();
  return report;
}

function safeList(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

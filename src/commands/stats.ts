// `git mgit stats`: per tracked model path and in total, how many versions history holds, their
// logical size, what the chunk store spends on them, and what dedup, deltas and compression saved.
// Stored bytes of a chunk are attributed to the version that first needed it (history order).

import type { Command } from 'commander';
import { humanBytes, printJson } from '../format.js';
import { versionsInOrder } from '../git/history.js';
import { Repo } from '../repo.js';
import { storeBytes } from '../store/repack.js';
import type { Pointer } from '../codec/pointer.js';

export interface ModelStats {
  path: string;
  versions: number;
  logicalBytes: number;
  storedBytes: number;
}

export interface Stats {
  logicalBytes: number;
  storedBytes: number;
  ratio: number;
  /** the whole store folder as it is on disk (objects, packs, caches, temp files) */
  storeDirBytes: number;
  saved: { dedup: number; compression: number; delta: number };
  models: ModelStats[];
}

function partsOf(p: Pointer): { chunk: string; length: number }[] {
  const out = [...p.skeleton];
  for (const part of p.parts) if (part.kind === 'tensor') out.push(...part.pieces);
  return out;
}

export async function collectStats(repo: Repo): Promise<Stats> {
  const models = new Map<string, ModelStats>();
  const seen = new Set<string>();
  const saved = { dedup: 0, compression: 0, delta: 0 };
  let logical = 0;
  let stored = 0;
  for await (const v of versionsInOrder(repo.paths.top ?? repo.paths.gitDir)) {
    if (!v.pointer) continue;
    const m = models.get(v.path) ?? { path: v.path, versions: 0, logicalBytes: 0, storedBytes: 0 };
    models.set(v.path, m);
    m.versions++;
    m.logicalBytes += v.pointer.size;
    logical += v.pointer.size;
    for (const c of partsOf(v.pointer)) {
      if (seen.has(c.chunk)) {
        saved.dedup += c.length;
        continue;
      }
      seen.add(c.chunk);
      const info = repo.store.info(c.chunk);
      if (!info) continue;
      m.storedBytes += info.storedBytes;
      stored += info.storedBytes;
      saved.compression += c.length - info.standaloneBytes;
      saved.delta += info.standaloneBytes - info.storedBytes;
    }
  }
  return {
    logicalBytes: logical,
    storedBytes: stored,
    ratio: stored ? logical / stored : 0,
    storeDirBytes: storeBytes(repo.store),
    saved,
    models: [...models.values()].sort((a, b) => (a.path < b.path ? -1 : 1)),
  };
}

export function register(program: Command): void {
  program
    .command('stats')
    .description('storage per model: versions, logical and stored bytes, and what dedup, deltas and compression saved')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const s = await collectStats(Repo.require());
      if (opts.json) return printJson(s);
      const w = Math.max(5, ...s.models.map((m) => m.path.length));
      process.stdout.write(`${'model'.padEnd(w)}  versions    logical     stored   ratio\n`);
      for (const m of s.models) {
        const r = m.storedBytes ? (m.logicalBytes / m.storedBytes).toFixed(1) + 'x' : '-';
        process.stdout.write(`${m.path.padEnd(w)}  ${String(m.versions).padStart(8)} ${humanBytes(m.logicalBytes).padStart(10)} ${humanBytes(m.storedBytes).padStart(10)} ${r.padStart(7)}\n`);
      }
      process.stdout.write(`${'total'.padEnd(w)}  ${String(s.models.reduce((a, m) => a + m.versions, 0)).padStart(8)} ${humanBytes(s.logicalBytes).padStart(10)} ${humanBytes(s.storedBytes).padStart(10)} ${(s.ratio.toFixed(1) + 'x').padStart(7)}\n`);
      process.stdout.write(`saved by dedup ${humanBytes(s.saved.dedup)}, by deltas ${humanBytes(s.saved.delta)}, by compression ${humanBytes(s.saved.compression)}\n`);
    });
}

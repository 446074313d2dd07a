// Push planning: the chunks of exactly the pointers reachable from the commits being pushed and not
// from what the remote already has. Reads history only (with --missing=allow-promisor, through scan.ts),
// never storage. Chunks of pointers the remote can already reach are on storage by the push invariant
// (chunks go up before refs), so excluding the remote's tips is safe.

import { pointerChunks } from '../codec/pointer.js';
import { pointersInHistory } from '../git/scan.js';

export interface ChunkNeeds {
  /** chunk id -> the model paths that need it (for messages) */
  chunks: Map<string, Set<string>>;
  pointers: number;
  /** blobs with a pointer header that do not parse (a newer spec version, damage) */
  unreadable: { oid: string; path: string; error: string }[];
}

/**
 * Chunks needed by pointers reachable from `include` and not from `exclude` (object ids present
 * locally) or from the remote-tracking refs of `trackingRemote`.
 */
export async function chunksToPush(include: string[], exclude: string[], trackingRemote?: string, cwd?: string): Promise<ChunkNeeds> {
  const needs: ChunkNeeds = { chunks: new Map(), pointers: 0, unreadable: [] };
  if (include.length === 0) return needs;
  const not = [...exclude, ...(trackingRemote ? [`--remotes=${trackingRemote}`] : [])];
  const revArgs = [...include, ...(not.length ? ['--not', ...not] : [])];
  for await (const fp of pointersInHistory(revArgs, cwd)) {
    if (!fp.pointer) {
      needs.unreadable.push({ oid: fp.oid, path: fp.path, error: fp.error ?? 'unreadable' });
      continue;
    }
    needs.pointers++;
    for (const c of pointerChunks(fp.pointer)) {
      let paths = needs.chunks.get(c.chunk);
      if (!paths) needs.chunks.set(c.chunk, (paths = new Set()));
      if (paths.size < 3) paths.add(fp.path);
    }
  }
  return needs;
}

/** Every chunk of every pointer reachable from these revisions (no exclusions): `--all` uploads and fetches. */
export function allChunks(revArgs: string[], cwd?: string): Promise<ChunkNeeds> {
  return chunksToPush(revArgs, [], undefined, cwd);
}

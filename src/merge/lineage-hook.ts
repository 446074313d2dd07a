// Hook point between the merge driver and the lineage graph.
//
// Owns: telling lineage that a merged model version exists, with both parents (relation `merge`).
// `src/lineage/record-merge.ts` exports
//     recordMerge(edge: MergeLineageEdge, repo: Repo): Promise<void> | void
// and this function calls it (a build without that module makes this a no-op).
// Must never: fail or slow down a merge: any error from lineage is traced (MGIT_TRACE) and otherwise
// ignored; the merge result stands either way.

import type { Repo } from '../repo.js';
import { errorMessage } from '../errors.js';
import { trace } from '../trace.js';

export interface MergeLineageEdge {
  /** repository path of the merged model */
  path: string;
  /** file sha256 of the merged version (its version id) */
  child: string;
  /** file sha256 of ours and theirs, in that order */
  parents: [string, string];
  /** file sha256 of the merge base, when there was one */
  base?: string;
  relation: 'merge';
  /** the strategy that settled conflicting tensors, if any */
  strategy?: string;
}

// Kept in a variable so TypeScript does not require the module to exist at compile time.
const LINEAGE_MODULE = '../lineage/record-merge.js';

export type HookResult = 'recorded' | 'no-lineage' | 'failed';

export async function recordMergeLineage(edge: MergeLineageEdge, repo: Repo): Promise<HookResult> {
  let mod: { recordMerge?: (e: MergeLineageEdge, r: Repo) => unknown };
  try {
    mod = (await import(LINEAGE_MODULE)) as typeof mod;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND') return 'no-lineage';
    trace(`lineage hook: cannot load ${LINEAGE_MODULE}: ${errorMessage(e)}`);
    return 'failed';
  }
  if (typeof mod.recordMerge !== 'function') return 'no-lineage';
  try {
    await mod.recordMerge(edge, repo);
    return 'recorded';
  } catch (e) {
    trace(`lineage hook: recordMerge failed: ${errorMessage(e)}`);
    return 'failed';
  }
}

// The lineage side of the merge driver (src/merge/lineage-hook.ts loads this module): a model version
// made by `git merge` (the merge driver) or `git mgit resolve` gets an edge to both parents, relation
// `merge`, ours first (the primary parent, as git's first parent).
// Must never: record a version as its own parent (a merge whose result is ours or theirs made nothing
// new: git history already says where it came from), or fail the merge (the hook traces errors).

import type { MergeLineageEdge } from '../merge/lineage-hook.js';
import type { Repo } from '../repo.js';
import type { EdgeRecord } from './record.js';
import { writeRecords } from './ref.js';

/** The edge record for a merged version, or undefined when the result is one of its parents. */
export function mergeEdge(edge: MergeLineageEdge): EdgeRecord | undefined {
  const parents = [...new Set(edge.parents)];
  if (parents.length < 2 || parents.includes(edge.child)) return undefined;
  const meta: Record<string, string> = {};
  if (edge.strategy) meta.strategy = edge.strategy;
  if (edge.base) meta.base = edge.base;
  return {
    kind: 'edge',
    child: edge.child,
    childPath: edge.path,
    parents,
    parentPaths: parents.map(() => edge.path),
    relation: 'merge',
    ...(Object.keys(meta).length ? { meta } : {}),
  };
}

export function recordMerge(edge: MergeLineageEdge, repo: Repo): void {
  const record = mergeEdge(edge);
  if (!record) return;
  writeRecords(repo, [record], `lineage: ${edge.path} <- merge${edge.strategy ? ` (${edge.strategy})` : ''}\n`);
}

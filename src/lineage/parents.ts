// The store's view of lineage: which model versions a version was declared to come from, so the delta
// encoder can try their tensors as delta bases (DESIGN §5). Reads only; never fails a caller that just
// wants hints: a repository without lineage has no parents.

import type { Repo } from '../repo.js';
import { loadGraph } from './ref.js';

/**
 * Version ids (file sha256) of the declared parents of a model version, primary parents first,
 * retractions applied; [] when none are declared. Synchronous. Costs one short git process per call
 * while the lineage refs are unchanged (the graph is cached per process), a graph load otherwise.
 */
export function parentVersions(repo: Repo, versionId: string): string[] {
  if (!/^[0-9a-f]{64}$/.test(versionId)) return [];
  return loadGraph(repo).parentsOf(versionId);
}

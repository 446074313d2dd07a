// Which model versions to test: staged changes, named paths, and the lineage descendants of a model
// (bounded by mgit.testDownstream). Reads git and the lineage refs; runs no test.

import { looksLikePointer, parsePointer } from '../codec/pointer.js';
import { catBlobs } from '../git/plumbing.js';
import { indexBlobs } from '../git/scan.js';
import { LineageGraph } from '../lineage/graph.js';
import { loadGraph } from '../lineage/ref.js';
import type { Repo } from '../repo.js';
import { testsFor, type Registry, type TestDef } from './registry.js';
import type { Target } from './run.js';

export type Downstream = 'none' | 'direct' | 'all';

export function downstreamMode(v: string | undefined): Downstream {
  if (v === undefined || v === '') return 'direct';
  if (v === 'none' || v === 'direct' || v === 'all') return v;
  throw new Error(`mgit.testDownstream must be none, direct or all (not ${v})`);
}

/** Model version ids (sha256 from the pointer) of blobs; blobs that are not pointers are absent. */
export function versionsOf(blobs: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const [oid, bytes] of catBlobs(blobs)) {
    if (!looksLikePointer(bytes)) continue;
    try {
      out.set(oid, parsePointer(bytes).sha256);
    } catch {
      // a damaged or newer pointer: it simply has no lineage here
    }
  }
  return out;
}

/** Every test-matching model path of the index (stage 0), as targets. */
export function indexTargets(reg: Registry, paths?: string[]): Target[] {
  const want = paths ? new Set(paths) : undefined;
  return indexBlobs()
    .filter((b) => b.stage === 0 && (want ? want.has(b.path) : testsFor(reg, b.path).length > 0))
    .map((b) => ({ path: b.path, blob: b.oid }));
}

export function pairsFor(reg: Registry, targets: Target[], only?: string): { target: Target; test: TestDef }[] {
  return targets.flatMap((target) => testsFor(reg, target.path).filter((t) => !only || t.name === only).map((test) => ({ target, test })));
}

export interface StaleModel {
  path: string;
  version: string;
  /** the changed model it descends from */
  from: string;
}

/**
 * Models in the index that descend (through lineage edges) from the given old versions: their parent
 * changed, so they are stale. `direct` stops at children, `all` follows the whole subtree.
 */
export function descendantsInIndex(repo: Repo, roots: { path: string; version: string }[], mode: Downstream, graph?: LineageGraph): StaleModel[] {
  if (mode === 'none' || roots.length === 0) return [];
  const g = graph ?? loadGraph(repo);
  const entries = indexBlobs().filter((b) => b.stage === 0);
  const versions = versionsOf(entries.map((e) => e.oid));
  const pathOfVersion = new Map<string, string>();
  for (const e of entries) {
    const v = versions.get(e.oid);
    if (v) pathOfVersion.set(v, e.path);
  }
  const out: StaleModel[] = [];
  const seen = new Set<string>();
  for (const r of roots) {
    const desc = mode === 'direct' ? new Set(g.childrenOf(r.version)) : LineageGraph.closure([r.version], (v) => g.childrenOf(v));
    desc.delete(r.version);
    for (const v of desc) {
      const p = pathOfVersion.get(v);
      if (p && p !== r.path && !seen.has(p)) {
        seen.add(p);
        out.push({ path: p, version: v, from: r.path });
      }
    }
  }
  return out;
}

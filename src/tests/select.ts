// Which model versions to test: staged changes, named paths, and the lineage descendants of a model
// (bounded by mgit.testDownstream). Reads git and the lineage refs; runs no test.

import { looksLikePointer, parsePointer } from '../codec/pointer.js';
import { catBlobs } from '../git/plumbing.js';
import { indexBlobs } from '../git/scan.js';
import { LineageGraph } from '../lineage/graph.js';
import { loadGraph } from '../lineage/ref.js';
import type { Repo } from '../repo.js';
import { testsFor, usesTypes, type Registry, type TestDef } from './registry.js';
import { revParse } from '../git/plumbing.js';
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

/**
 * Model types of targets (lineage edge `meta.model_type` of the target's version, or of the version
 * at its path in HEAD: a freshly staged version has no edges yet). Read only when a test uses types.
 */
export function typesOf(repo: Repo, reg: Registry, targets: Target[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  if (!usesTypes(reg) || targets.length === 0) return out;
  const graph = loadGraph(repo);
  const head = new Map<string, string>();
  for (const t of targets) {
    const b = revParse(`HEAD:${t.path}`);
    if (b) head.set(t.path, b);
  }
  const blobs = [...targets.flatMap((t) => (t.blob ? [t.blob] : [])), ...head.values()];
  const versions = versionsOf(blobs);
  for (const t of targets) {
    const set = new Set<string>();
    for (const b of [t.blob, head.get(t.path)]) {
      const v = b ? versions.get(b) : undefined;
      if (v) for (const e of graph.edgesOf(v)) if (e.meta?.model_type) set.add(e.meta.model_type);
    }
    out.set(t.path, set);
  }
  return out;
}

/** Every test-matching model of the index (stage 0), as targets. */
export function indexTargets(repo: Repo, reg: Registry, paths?: string[]): Target[] {
  const want = paths ? new Set(paths) : undefined;
  const all = indexBlobs()
    .filter((b) => b.stage === 0 && (!want || want.has(b.path)))
    .map((b) => ({ path: b.path, blob: b.oid }));
  if (want) return all;
  const types = typesOf(repo, reg, all);
  return all.filter((t) => testsFor(reg, t.path, types.get(t.path)).length > 0);
}

export function pairsFor(repo: Repo, reg: Registry, targets: Target[], only?: string): { target: Target; test: TestDef }[] {
  const types = typesOf(repo, reg, targets);
  return targets.flatMap((target) => testsFor(reg, target.path, types.get(target.path)).filter((t) => !only || t.name === only).map((test) => ({ target, test })));
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

// What `git mgit log-lineage` shows: the lineage records joined with git history at read time. Each
// version id becomes the model (path) and the commit that introduced it; versions of one model are
// chained by implicit `version` edges (git's own history); filters pick a model's ancestors or
// descendants over both kinds of edges. Unresolved versions (in a record, in no local commit) still
// show, under the path the record remembers.
// Pure: history, graph and trust in, a JSON-ready structure out.

import { LineageGraph, type LiveEdge } from './graph.js';
import type { Model, ModelHistory, VersionOccurrence } from './versions.js';

export interface ViewVersion {
  id: string;
  path?: string;
  commit?: string;
  date?: string;
  message?: string;
  staged?: boolean;
  /** history order for sorting (not output) */
  seq?: number;
}

export interface ViewNode {
  /** the model's path; null for versions found in no local commit */
  path: string | null;
  /** the path a lineage record gave, for versions not in local history */
  recordedPath?: string;
  /** earlier names of the model (renames), newest first */
  renamedFrom?: string[];
  versions: ViewVersion[];
}

export interface ViewEdge {
  child: string | null;
  parent: string | null;
  relation: string;
  childVersion: string;
  parentVersion: string;
  childCommit?: string;
  parentCommit?: string;
  /** git history's own edge between consecutive versions of one model */
  implicit?: boolean;
  record?: string;
  /** the merge parents' order: 0 is the primary parent */
  parentIndex?: number;
  command?: string[];
  commandTrusted?: boolean;
  meta?: Record<string, string>;
  auto?: string;
}

export interface LineageView {
  nodes: ViewNode[];
  edges: ViewEdge[];
}

export interface ViewOptions {
  /** versions to start from; all when undefined */
  focus?: Set<string>;
  ancestors?: boolean;
  descendants?: boolean;
  trusted?: Set<string>;
}

interface Place {
  model?: Model;
  occ?: VersionOccurrence;
  hint?: string;
}

function dateOf(t?: number): string | undefined {
  return t === undefined ? undefined : new Date(t * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

export function buildView(history: ModelHistory, graph: LineageGraph, opts: ViewOptions = {}): LineageView {
  // Where each version is: its model and first commit, preferring the model at the path a record names.
  const hints = new Map<string, string>();
  for (const e of graph.edges) {
    if (!hints.has(e.child)) hints.set(e.child, e.childPath);
    e.parents.forEach((p, i) => hints.has(p) || hints.set(p, e.parentPaths[i]));
  }
  const place = (id: string): Place => {
    const at = history.byVersion.get(id);
    if (!at?.length) return { hint: hints.get(id) };
    const hint = hints.get(id);
    const pick = (hint && at.find((a) => a.model.paths.includes(hint))) || [...at].sort((a, b) => b.occ.seq - a.occ.seq)[0];
    return { model: pick.model, occ: pick.occ };
  };

  // Implicit version edges: each version of a model follows the one before it.
  const prevOf = new Map<string, string[]>();
  const nextOf = new Map<string, string[]>();
  const implicit: { child: string; parent: string; model: Model }[] = [];
  for (const m of history.models) {
    const chrono = [...m.versions].reverse();
    for (let i = 1; i < chrono.length; i++) {
      const child = chrono[i].id;
      const parent = chrono[i - 1].id;
      implicit.push({ child, parent, model: m });
      (prevOf.get(child) ?? prevOf.set(child, []).get(child)!).push(parent);
      (nextOf.get(parent) ?? nextOf.set(parent, []).get(parent)!).push(child);
    }
  }
  const parentsOf = (v: string) => [...graph.parentsOf(v), ...(prevOf.get(v) ?? [])];
  const childrenOf = (v: string) => [...graph.childrenOf(v), ...(nextOf.get(v) ?? [])];

  let included: Set<string>;
  if (!opts.focus) {
    included = new Set(history.byVersion.keys());
    for (const e of graph.edges) [e.child, ...e.parents].forEach((v) => included.add(v));
  } else {
    included = new Set(opts.focus);
    if (opts.ancestors) LineageGraph.closure(opts.focus, parentsOf).forEach((v) => included.add(v));
    if (opts.descendants) LineageGraph.closure(opts.focus, childrenOf).forEach((v) => included.add(v));
    if (!opts.ancestors && !opts.descendants) for (const v of opts.focus) [...parentsOf(v), ...childrenOf(v)].forEach((w) => included.add(w));
  }

  // Nodes: models with their included versions; unresolved versions as nodes of their own.
  const nodes = new Map<Model | string, ViewNode>();
  const places = new Map<string, Place>();
  for (const id of included) {
    const pl = place(id);
    places.set(id, pl);
    const key = pl.model ?? `version:${id}`;
    let n = nodes.get(key);
    if (!n) {
      n = pl.model ? { path: pl.model.path, versions: [] } : { path: null, recordedPath: pl.hint, versions: [] };
      if (pl.model && pl.model.paths.length > 1) n.renamedFrom = pl.model.paths.filter((p) => p !== pl.model!.path);
      nodes.set(key, n);
    }
    const o = pl.occ;
    n.versions.push(
      o ? { id, path: o.path, commit: o.commit, date: dateOf(o.time), message: o.subject, ...(o.staged ? { staged: true } : {}), seq: o.seq } : { id },
    );
  }
  const order = (v: ViewVersion) => v.seq ?? Infinity; // unresolved versions last
  for (const n of nodes.values()) n.versions.sort((a, b) => order(a) - order(b));
  const nodeList = [...nodes.values()].sort((a, b) => order(a.versions[0]) - order(b.versions[0]) || cmp(String(a.path ?? a.recordedPath), String(b.path ?? b.recordedPath)));

  const pathOf = (id: string) => places.get(id)?.model?.path ?? null;
  const commitOf = (id: string) => places.get(id)?.occ?.commit;
  const edges: ViewEdge[] = [];
  const liveEdges: LiveEdge[] = graph.edges.filter((e) => included.has(e.child));
  for (const e of liveEdges) {
    e.parents.forEach((p, i) => {
      if (!included.has(p)) return;
      edges.push({
        child: pathOf(e.child),
        parent: pathOf(p),
        relation: e.relation,
        childVersion: e.child,
        parentVersion: p,
        childCommit: commitOf(e.child),
        parentCommit: commitOf(p),
        record: e.id,
        ...(e.parents.length > 1 ? { parentIndex: i } : {}),
        ...(e.command ? { command: e.command, commandTrusted: opts.trusted?.has(e.id) ?? false } : {}),
        ...(e.meta ? { meta: e.meta } : {}),
        ...(e.auto !== undefined ? { auto: e.auto } : {}),
      });
    });
  }
  for (const im of implicit) {
    if (!included.has(im.child) || !included.has(im.parent)) continue;
    edges.push({ child: im.model.path, parent: im.model.path, relation: 'version', childVersion: im.child, parentVersion: im.parent, childCommit: commitOf(im.child), parentCommit: commitOf(im.parent), implicit: true });
  }
  // newest child first, then the record order (the same in every clone)
  const seqOf = (id: string) => places.get(id)?.occ?.seq ?? Infinity;
  edges.sort((a, b) => seqOf(a.childVersion) - seqOf(b.childVersion) || (a.implicit ? 1 : 0) - (b.implicit ? 1 : 0) || cmp(String(a.record), String(b.record)) || (a.parentIndex ?? 0) - (b.parentIndex ?? 0));
  for (const n of nodeList) for (const v of n.versions) delete v.seq;
  return { nodes: nodeList, edges };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

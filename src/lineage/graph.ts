// The lineage graph over model versions, as the records on the lineage refs describe it: live edges
// (retractions applied), looked up by child or parent version, and walked for ancestors and
// descendants. Pure: it knows records and version ids, not git, paths on disk or commits.

import type { EdgeRecord, LineageRecord } from './record.js';

export interface LiveEdge extends EdgeRecord {
  /** the record's id (sha256 of its bytes) */
  id: string;
}

export interface InvalidRecord {
  path: string;
  reason: string;
}

export class LineageGraph {
  readonly records = new Map<string, LineageRecord>();
  /** ids of edge records that some retraction withdraws */
  readonly retracted = new Set<string>();
  readonly invalid: InvalidRecord[] = [];
  private _byChild?: Map<string, LiveEdge[]>;
  private _byParent?: Map<string, LiveEdge[]>;

  constructor(records: Iterable<[string, LineageRecord]> = [], invalid: InvalidRecord[] = []) {
    for (const [id, r] of records) this.add(id, r);
    this.invalid.push(...invalid);
  }

  add(id: string, r: LineageRecord): void {
    this.records.set(id, r);
    if (r.kind === 'retract') this.retracted.add(r.edge);
    this._byChild = this._byParent = undefined;
  }

  /** Every live edge, ordered by record id (the same order in every clone). */
  get edges(): LiveEdge[] {
    return [...this.byChild.values()].flat().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  private get byChild(): Map<string, LiveEdge[]> {
    if (!this._byChild) this.index();
    return this._byChild!;
  }

  private get byParent(): Map<string, LiveEdge[]> {
    if (!this._byParent) this.index();
    return this._byParent!;
  }

  private index(): void {
    const byChild = new Map<string, LiveEdge[]>();
    const byParent = new Map<string, LiveEdge[]>();
    const ids = [...this.records.keys()].sort();
    for (const id of ids) {
      const r = this.records.get(id)!;
      if (r.kind !== 'edge' || this.retracted.has(id)) continue;
      const e: LiveEdge = { ...r, id };
      push(byChild, r.child, e);
      for (const p of r.parents) push(byParent, p, e);
    }
    this._byChild = byChild;
    this._byParent = byParent;
  }

  /** Live edges whose child is this version. */
  edgesOf(child: string): LiveEdge[] {
    return this.byChild.get(child) ?? [];
  }

  /** Live edges that list this version as a parent. */
  edgesFrom(parent: string): LiveEdge[] {
    return this.byParent.get(parent) ?? [];
  }

  /** Declared parent versions of a version, primary parents first, without repeats. */
  parentsOf(child: string): string[] {
    const out: string[] = [];
    for (const e of this.edgesOf(child)) for (const p of e.parents) if (!out.includes(p)) out.push(p);
    return out;
  }

  childrenOf(parent: string): string[] {
    const out: string[] = [];
    for (const e of this.edgesFrom(parent)) if (!out.includes(e.child)) out.push(e.child);
    return out;
  }

  /** Every version reachable by following `next` from the start set (the start set included). */
  static closure(start: Iterable<string>, next: (v: string) => Iterable<string>): Set<string> {
    const seen = new Set<string>(start);
    const todo = [...seen];
    while (todo.length) {
      const v = todo.pop()!;
      for (const w of next(v)) {
        if (!seen.has(w)) {
          seen.add(w);
          todo.push(w);
        }
      }
    }
    return seen;
  }

  /** True when declaring `child <- parents` would close a cycle (child is already an ancestor of a parent). */
  wouldCycle(child: string, parents: string[], extraParents: (v: string) => Iterable<string> = () => []): boolean {
    const anc = LineageGraph.closure(parents, (v) => [...this.parentsOf(v), ...extraParents(v)]);
    return anc.has(child);
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}

// Structural and contextual diff of two ONNX graphs (after MGit's Algorithm 2, adapted to ONNX).
//
// Owns: matching the nodes of two graphs without trusting node names (exporters renumber them): by
// structure (op, attributes, weight shapes), refined by neighbourhood (Weisfeiler-Lehman rounds over the
// dataflow edges), anchored on unique matches and propagated along edges, then order-preserving matches
// per structure class, then in-place replacements (a node whose neighbours matched but whose op or
// attributes changed), then names as a last hint. From the matching: nodes and edges added and removed,
// ops and attributes changed, inputs and outputs changed, and "contextual" nodes, whose structure
// matches but whose weights differ (MGit's contextual hash: structure plus the hash of every weight).
// Subgraphs (If, Loop, Scan bodies) of matched nodes are diffed recursively.
// Must never: call a node unchanged when any of its weights, attributes or subgraphs differ, or read
// tensor values (weights are compared by content id).

import { createHash } from 'node:crypto';
import type { AttrInfo, GraphInfo, ModelInfo, NodeInfo, TensorInfo } from '../onnx/structure.js';

export type NodeStatus = 'unchanged' | 'contextual' | 'modified' | 'added' | 'removed';

export interface NodeRef {
  index: number;
  name: string;
  op: string;
}

export interface WeightChange {
  /** input slot number, or `attr:<name>` for tensors held in attributes (Constant values) */
  slot: string;
  /** tensor name and type (`float32[64,3,3,3]`) on each side */
  a?: { name: string; type: string };
  b?: { name: string; type: string };
  change: 'changed' | 'reshaped' | 'retyped' | 'added' | 'removed';
}

export interface NodeChange {
  status: NodeStatus;
  a?: NodeRef;
  b?: NodeRef;
  renamed?: boolean;
  opChanged?: boolean;
  /** attributes whose value differs (structure), by name */
  attrs?: { name: string; a?: string; b?: string }[];
  /** inputs whose kind differs (a value became a weight, an optional input appeared...) */
  inputs?: { a: number; b: number };
  weights?: WeightChange[];
  subgraphs?: { attr: string; diff: GraphDiff }[];
}

export interface EdgeRef {
  from: string;
  to: string;
  value: string;
}

export interface IoChange {
  name: string;
  a?: string;
  b?: string;
}

export interface GraphDiff {
  name: string;
  nodes: { a: number; b: number; unchanged: number; contextual: number; modified: number; added: number; removed: number };
  edges: { a: number; b: number; added: number; removed: number };
  /** (edges added + removed) / (edges in a + edges in b), as MGit's divergence */
  divergence: number;
  /** every node that is not unchanged, in b's order with removed nodes where they stood in a */
  changes: NodeChange[];
  /** every node of both graphs, aligned, in the same order (what a side-by-side view draws) */
  rows: { status: NodeStatus; a?: NodeRef; b?: NodeRef }[];
  inputs: IoChange[];
  outputs: IoChange[];
  edgesAdded: EdgeRef[];
  edgesRemoved: EdgeRef[];
}

export interface ModelGraphDiff {
  irVersion: { a: number; b: number };
  producer: { a: string; b: string };
  opsets: { domain: string; a?: number; b?: number }[];
  metadata: { key: string; a?: string; b?: string }[];
  graph: GraphDiff;
  functions: { name: string; status: 'added' | 'removed' | 'modified'; diff?: GraphDiff }[];
}

// ---------------------------------------------------------------------------------------------

function h(s: string): string {
  return createHash('sha1').update(s).digest('base64').slice(0, 16);
}

type Input = { kind: 'value'; src: number; slot: number; value: string } | { kind: 'weight'; tensor: TensorInfo } | { kind: 'outer'; value: string } | { kind: 'none' };

interface Vertex {
  id: number;
  kind: 'input' | 'node' | 'output';
  /** graph input or output name, or node name */
  name: string;
  node?: NodeInfo;
  inputs: Input[];
  /** consumers per output slot: vertex id and input slot */
  consumers: { dst: number; slot: number }[][];
  s: string[]; // s[0] structural, s[k] after k refinement rounds
  ctx: string; // contextual hash
  type?: string; // graph input/output type
}

interface Prepared {
  graph: GraphInfo;
  v: Vertex[];
  /** vertex id of node i */
  nodeVertex: number[];
  edges: Map<string, EdgeRef>;
}

function tensorDesc(t: TensorInfo): string {
  return `${t.dtype}[${t.dims.join(',')}]`;
}

/** Structure and content signatures of a graph as a whole (for attributes holding subgraphs). */
const signatures = new WeakMap<GraphInfo, { s: string; c: string }>();
function graphSignature(g: GraphInfo): { s: string; c: string } {
  let sig = signatures.get(g);
  if (!sig) {
    const p = prepare(g);
    sig = { s: h(p.v.map((v) => v.s[1]).sort().join('|')), c: h(p.v.map((v) => v.ctx).sort().join('|')) };
    signatures.set(g, sig);
  }
  return sig;
}

function attrSignature(a: AttrInfo): { s: string; c: string } {
  const subs = a.graphs.map(graphSignature);
  return {
    s: `${a.name}=${a.value}${subs.map((x) => `{${x.s}}`).join('')}`,
    c: `${a.name}:${a.tensors.map((t) => t.content).join(',')}${subs.map((x) => `{${x.c}}`).join('')}`,
  };
}

function prepare(g: GraphInfo): Prepared {
  const v: Vertex[] = [];
  const producer = new Map<string, { src: number; slot: number }>();
  const add = (x: Omit<Vertex, 'id' | 'consumers' | 's' | 'ctx'>): Vertex => {
    const vx: Vertex = { ...x, id: v.length, consumers: [], s: [], ctx: '' };
    v.push(vx);
    return vx;
  };
  for (const inp of g.inputs) {
    if (g.initializers.has(inp.name)) continue; // initializers listed as inputs (IR < 4) are weights
    const vx = add({ kind: 'input', name: inp.name, inputs: [], type: inp.type });
    vx.consumers = [[]];
    producer.set(inp.name, { src: vx.id, slot: 0 });
  }
  const nodeVertex: number[] = [];
  for (const n of g.nodes) {
    const vx = add({ kind: 'node', name: n.name, node: n, inputs: [] });
    vx.consumers = n.outputs.map(() => []);
    nodeVertex.push(vx.id);
    n.outputs.forEach((o, slot) => {
      if (o !== '') producer.set(o, { src: vx.id, slot });
    });
  }
  for (const out of g.outputs) {
    const vx = add({ kind: 'output', name: out.name, inputs: [], type: out.type });
    vx.consumers = [];
    void vx;
  }
  // Resolve inputs (nodes are topologically sorted, but a producer later in the list is tolerated).
  const resolve = (value: string): Input => {
    if (value === '') return { kind: 'none' };
    const p = producer.get(value);
    if (p) return { kind: 'value', src: p.src, slot: p.slot, value };
    const w = g.initializers.get(value);
    if (w) return { kind: 'weight', tensor: w };
    return { kind: 'outer', value };
  };
  for (const vx of v) {
    if (vx.kind === 'node') vx.inputs = vx.node!.inputs.map(resolve);
    else if (vx.kind === 'output') vx.inputs = [resolve(vx.name)];
  }
  const edges = new Map<string, EdgeRef>();
  for (const vx of v) {
    vx.inputs.forEach((inp, slot) => {
      if (inp.kind !== 'value') return;
      v[inp.src]!.consumers[inp.slot]!.push({ dst: vx.id, slot });
      edges.set(`${inp.src}:${inp.slot}>${vx.id}:${slot}`, { from: label(v[inp.src]!), to: label(vx), value: inp.value });
    });
  }
  // Structural and contextual signatures.
  for (const vx of v) {
    if (vx.kind !== 'node') {
      vx.s[0] = h(vx.kind);
      vx.ctx = h(`${vx.kind}:${vx.type ?? ''}`);
      continue;
    }
    const n = vx.node!;
    const attrs = n.attrs.map(attrSignature).sort((x, y) => (x.s < y.s ? -1 : 1));
    const ins = vx.inputs.map((i) => (i.kind === 'weight' ? `w:${tensorDesc(i.tensor)}` : i.kind === 'none' ? '-' : i.kind === 'outer' ? 'o' : 'v'));
    vx.s[0] = h(`${n.domain}::${n.opType}|${attrs.map((a) => a.s).join(';')}|${ins.join(',')}|${n.outputs.length}`);
    const weights = vx.inputs.map((i) => (i.kind === 'weight' ? i.tensor.content : ''));
    vx.ctx = h(`${vx.s[0]}|${weights.join(',')}|${attrs.map((a) => a.c).join(';')}`);
  }
  // Neighbourhood refinement: each round folds in the previous hashes of producers (by input slot) and
  // consumers (by the slot they read), so equal hashes mean equal surroundings up to that radius.
  for (let k = 1; k <= 3; k++) {
    for (const vx of v) {
      const ins = vx.inputs.map((i) => (i.kind === 'value' ? `${v[i.src]!.s[k - 1]}.${i.slot}` : i.kind));
      const outs = vx.consumers.map((list, slot) => list.map((c) => `${slot}>${v[c.dst]!.s[k - 1]}.${c.slot}`).sort().join(','));
      vx.s[k] = h(`${vx.s[k - 1]}|${ins.join(',')}|${outs.join(';')}`);
    }
  }
  return { graph: g, v, nodeVertex, edges };
}

function label(vx: Vertex): string {
  if (vx.kind === 'input') return `input:${vx.name}`;
  if (vx.kind === 'output') return `output:${vx.name}`;
  return vx.name || `${vx.node!.opType}#${vx.node!.index}`;
}

class Matcher {
  readonly ab = new Map<number, number>();
  readonly ba = new Map<number, number>();
  constructor(
    readonly A: Prepared,
    readonly B: Prepared,
  ) {}

  pair(a: number, b: number): void {
    this.ab.set(a, b);
    this.ba.set(b, a);
  }

  free(side: 'a' | 'b'): Vertex[] {
    return side === 'a' ? this.A.v.filter((x) => !this.ab.has(x.id)) : this.B.v.filter((x) => !this.ba.has(x.id));
  }

  run(): void {
    this.io();
    for (let k = 3; k >= 0; k--) this.uniqueBuckets(k);
    this.propagate();
    this.orderedBuckets((x) => x.s[0]!);
    this.replacements();
    // Same op and same main weight shape, in order: a node whose neighbours were all removed (a Conv
    // between two folded BatchNorms) has nothing left to anchor it but its op and its weights.
    this.orderedBuckets(weakKey);
    this.replacements();
    this.names();
  }

  /** Graph inputs and outputs: by name, then the rest in order. */
  private io(): void {
    for (const kind of ['input', 'output'] as const) {
      const fa = this.A.v.filter((x) => x.kind === kind);
      const fb = this.B.v.filter((x) => x.kind === kind);
      const byName = new Map(fb.map((x) => [x.name, x]));
      const restA: Vertex[] = [];
      for (const x of fa) {
        const y = byName.get(x.name);
        if (y) {
          this.pair(x.id, y.id);
          byName.delete(x.name);
        } else restA.push(x);
      }
      const restB = fb.filter((y) => !this.ba.has(y.id));
      for (let i = 0; i < Math.min(restA.length, restB.length); i++) this.pair(restA[i]!.id, restB[i]!.id);
    }
  }

  private uniqueBuckets(k: number): void {
    const ba = new Map<string, Vertex[]>();
    const bb = new Map<string, Vertex[]>();
    for (const x of this.free('a')) if (x.kind === 'node') (ba.get(x.s[k]!) ?? ba.set(x.s[k]!, []).get(x.s[k]!)!).push(x);
    for (const y of this.free('b')) if (y.kind === 'node') (bb.get(y.s[k]!) ?? bb.set(y.s[k]!, []).get(y.s[k]!)!).push(y);
    for (const [key, xs] of ba) {
      const ys = bb.get(key);
      if (xs.length === 1 && ys?.length === 1) this.pair(xs[0]!.id, ys[0]!.id);
    }
  }

  /** From every matched pair, match unmatched neighbours that are structurally equal and unambiguous. */
  private propagate(): void {
    const queue = [...this.ab.entries()];
    while (queue.length) {
      const [ia, ib] = queue.pop()!;
      const x = this.A.v[ia]!;
      const y = this.B.v[ib]!;
      const tryPair = (p: Vertex, q: Vertex) => {
        if (this.ab.has(p.id) || this.ba.has(q.id) || p.kind !== 'node' || q.kind !== 'node' || p.s[0] !== q.s[0]) return;
        this.pair(p.id, q.id);
        queue.push([p.id, q.id]);
      };
      // producers, slot by slot
      x.inputs.forEach((inp, slot) => {
        const other = y.inputs[slot];
        if (inp.kind === 'value' && other?.kind === 'value' && inp.slot === other.slot) tryPair(this.A.v[inp.src]!, this.B.v[other.src]!);
      });
      // consumers of each output slot, when each structure class appears once there
      x.consumers.forEach((list, slot) => {
        const olist = y.consumers[slot] ?? [];
        const group = (l: { dst: number; slot: number }[], side: Prepared) => {
          const m = new Map<string, Vertex[]>();
          for (const c of l) {
            const d = side.v[c.dst]!;
            const key = `${d.s[0]}.${c.slot}`;
            (m.get(key) ?? m.set(key, []).get(key)!).push(d);
          }
          return m;
        };
        const ga = group(list, this.A);
        const gb = group(olist, this.B);
        for (const [key, ps] of ga) {
          const qs = gb.get(key);
          if (ps.length === 1 && qs?.length === 1) tryPair(ps[0]!, qs[0]!);
        }
      });
    }
  }

  /** Remaining nodes of equal structure, paired in graph order (order-preserving within a class). */
  private orderedBuckets(key: (v: Vertex) => string): void {
    const ba = new Map<string, Vertex[]>();
    for (const x of this.free('a')) if (x.kind === 'node') (ba.get(key(x)) ?? ba.set(key(x), []).get(key(x))!).push(x);
    const bb = new Map<string, Vertex[]>();
    for (const y of this.free('b')) if (y.kind === 'node') (bb.get(key(y)) ?? bb.set(key(y), []).get(key(y))!).push(y);
    for (const [key, xs] of ba) {
      const ys = bb.get(key) ?? [];
      for (let i = 0; i < Math.min(xs.length, ys.length); i++) this.pair(xs[i]!.id, ys[i]!.id);
    }
    this.propagate();
  }

  /**
   * In-place replacements: an unmatched node whose matched producers and consumers correspond to those
   * of an unmatched node on the other side is the same node, modified (op or attributes changed).
   */
  private replacements(): void {
    for (let round = 0; round < 4; round++) {
      let progress = false;
      const freeB = new Set(this.free('b').filter((y) => y.kind === 'node').map((y) => y.id));
      for (const x of this.free('a')) {
        if (x.kind !== 'node') continue;
        let best: { id: number; score: number } | undefined;
        for (const cand of this.neighbourCandidates(x)) {
          if (!freeB.has(cand.id)) continue;
          const y = this.B.v[cand.id]!;
          const sameOp = y.node!.opType === x.node!.opType && y.node!.domain === x.node!.domain;
          // Another op in the same place counts only when it is anchored on both sides.
          if (!sameOp && !(cand.viaInput && cand.viaOutput)) continue;
          const score = cand.score + (sameOp ? 2 : 0);
          if (!best || score > best.score) best = { id: cand.id, score };
        }
        if (best) {
          this.pair(x.id, best.id);
          freeB.delete(best.id);
          progress = true;
        }
      }
      if (!progress) break;
    }
  }

  private neighbourCandidates(x: Vertex): { id: number; score: number; viaInput: boolean; viaOutput: boolean }[] {
    const acc = new Map<number, { id: number; score: number; viaInput: boolean; viaOutput: boolean }>();
    const bump = (id: number, via: 'in' | 'out') => {
      const c = acc.get(id) ?? { id, score: 0, viaInput: false, viaOutput: false };
      c.score++;
      if (via === 'in') c.viaInput = true;
      else c.viaOutput = true;
      acc.set(id, c);
    };
    // Through producers: consumers in B of the matched producer's same output slot.
    x.inputs.forEach((inp) => {
      if (inp.kind !== 'value') return;
      const pb = this.ab.get(inp.src);
      if (pb === undefined) return;
      for (const c of this.B.v[pb]!.consumers[inp.slot] ?? []) bump(c.dst, 'in');
    });
    // Through consumers: producers in B of the matched consumers' same input slot.
    x.consumers.forEach((list) => {
      for (const c of list) {
        const cb = this.ab.get(c.dst);
        if (cb === undefined) continue;
        const inp = this.B.v[cb]!.inputs[c.slot];
        if (inp?.kind === 'value') bump(inp.src, 'out');
      }
    });
    return [...acc.values()].filter((c) => this.B.v[c.id]!.kind === 'node');
  }

  /**
   * Last hint: nodes with the same non-empty name, and the same op or at least one neighbour in common
   * (an op replaced in place while its surroundings changed too).
   */
  private names(): void {
    const byName = new Map<string, Vertex>();
    for (const y of this.free('b')) if (y.kind === 'node' && y.name) byName.set(y.name, y);
    for (const x of this.free('a')) {
      if (x.kind !== 'node' || !x.name) continue;
      const y = byName.get(x.name);
      if (!y || this.ba.has(y.id)) continue;
      const sameOp = y.node!.opType === x.node!.opType && y.node!.domain === x.node!.domain;
      if (sameOp || this.neighbourCandidates(x).some((c) => c.id === y.id)) this.pair(x.id, y.id);
    }
  }
}

function weakKey(v: Vertex): string {
  const w = v.inputs.find((i) => i.kind === 'weight');
  return `${v.node!.domain}::${v.node!.opType}|${w?.kind === 'weight' ? tensorDesc(w.tensor) : ''}`;
}

function weightChanges(x: Vertex, y: Vertex): WeightChange[] {
  const out: WeightChange[] = [];
  const d = (t: TensorInfo) => ({ name: t.name, type: tensorDesc(t) });
  const cmp = (slot: string, a?: TensorInfo, b?: TensorInfo) => {
    if (!a && !b) return;
    if (!a) return out.push({ slot, b: d(b!), change: 'added' });
    if (!b) return out.push({ slot, a: d(a), change: 'removed' });
    if (a.content === b.content && a.dtype === b.dtype && a.dims.join() === b.dims.join()) return;
    const change = a.dtype !== b.dtype ? 'retyped' : a.dims.join() !== b.dims.join() ? 'reshaped' : 'changed';
    out.push({ slot, a: d(a), b: d(b), change });
  };
  const n = Math.max(x.inputs.length, y.inputs.length);
  for (let i = 0; i < n; i++) {
    const a = x.inputs[i];
    const b = y.inputs[i];
    cmp(String(i), a?.kind === 'weight' ? a.tensor : undefined, b?.kind === 'weight' ? b.tensor : undefined);
  }
  const attrsB = new Map((y.node?.attrs ?? []).map((a) => [a.name, a]));
  for (const a of x.node?.attrs ?? []) {
    const b = attrsB.get(a.name);
    const len = Math.max(a.tensors.length, b?.tensors.length ?? 0);
    for (let i = 0; i < len; i++) cmp(`attr:${a.name}${len > 1 ? `[${i}]` : ''}`, a.tensors[i], b?.tensors[i]);
  }
  for (const b of y.node?.attrs ?? []) {
    if ((x.node?.attrs ?? []).some((a) => a.name === b.name)) continue;
    b.tensors.forEach((t, i) => cmp(`attr:${b.name}${b.tensors.length > 1 ? `[${i}]` : ''}`, undefined, t));
  }
  return out;
}

function attrChanges(x: NodeInfo, y: NodeInfo): { name: string; a?: string; b?: string }[] {
  const out: { name: string; a?: string; b?: string }[] = [];
  const sig = (a: AttrInfo) => attrSignature(a).s;
  const mb = new Map(y.attrs.map((a) => [a.name, a]));
  for (const a of x.attrs) {
    const b = mb.get(a.name);
    if (!b) out.push({ name: a.name, a: a.value });
    else if (sig(a) !== sig(b)) out.push({ name: a.name, a: a.value, b: b.value });
  }
  for (const b of y.attrs) if (!x.attrs.some((a) => a.name === b.name)) out.push({ name: b.name, b: b.value });
  return out;
}

function ref(vx: Vertex): NodeRef {
  return { index: vx.node!.index, name: vx.name, op: vx.node!.domain ? `${vx.node!.domain}::${vx.node!.opType}` : vx.node!.opType };
}

function describePair(x: Vertex, y: Vertex, depth: number): NodeChange {
  const nx = x.node!;
  const ny = y.node!;
  const change: NodeChange = { status: 'unchanged', a: ref(x), b: ref(y) };
  if (x.name !== y.name) change.renamed = true;
  // Subgraphs of matched nodes, attribute by attribute.
  const subs: { attr: string; diff: GraphDiff }[] = [];
  const gb = new Map(ny.attrs.map((a) => [a.name, a]));
  for (const a of nx.attrs) {
    const b = gb.get(a.name);
    if (!b || (a.graphs.length === 0 && b.graphs.length === 0)) continue;
    const n = Math.max(a.graphs.length, b.graphs.length);
    for (let i = 0; i < n; i++) {
      const ga = a.graphs[i];
      const gbb = b.graphs[i];
      if (!ga || !gbb) continue;
      const d = diffGraph(ga, gbb, depth + 1);
      const quiet = d.changes.length === 0 && d.inputs.length === 0 && d.outputs.length === 0 && d.edges.added === 0 && d.edges.removed === 0;
      if (!quiet) subs.push({ attr: n > 1 ? `${a.name}[${i}]` : a.name, diff: d });
    }
  }
  if (subs.length) change.subgraphs = subs;
  if (x.s[0] !== y.s[0]) {
    change.status = 'modified';
    if (nx.opType !== ny.opType || nx.domain !== ny.domain) change.opChanged = true;
    const attrs = attrChanges(nx, ny);
    if (attrs.length) change.attrs = attrs;
    const kinds = (v: Vertex) => v.inputs.map((i) => i.kind).join();
    if (kinds(x) !== kinds(y)) change.inputs = { a: nx.inputs.length, b: ny.inputs.length };
  } else if (x.ctx !== y.ctx) {
    change.status = 'contextual';
  }
  if (change.status !== 'unchanged') {
    const w = weightChanges(x, y);
    if (w.length) change.weights = w;
  }
  return change;
}

/** Diffs two graphs (one level, recursing into subgraphs of matched nodes). */
export function diffGraph(ga: GraphInfo, gb: GraphInfo, depth = 0): GraphDiff {
  const A = prepare(ga);
  const B = prepare(gb);
  const m = new Matcher(A, B);
  if (depth < 32) m.run();
  // Per-node outcome.
  const statusA = new Map<number, NodeChange>();
  const statusB = new Map<number, NodeChange>();
  const counts = { a: ga.nodes.length, b: gb.nodes.length, unchanged: 0, contextual: 0, modified: 0, added: 0, removed: 0 };
  for (const x of A.v) {
    if (x.kind !== 'node') continue;
    const yb = m.ab.get(x.id);
    const c = yb === undefined ? { status: 'removed' as const, a: ref(x) } : describePair(x, B.v[yb]!, depth);
    counts[c.status]++;
    statusA.set(x.id, c);
    if (yb !== undefined) statusB.set(yb, c);
  }
  for (const y of B.v) {
    if (y.kind !== 'node' || statusB.has(y.id)) continue;
    const c: NodeChange = { status: 'added', b: ref(y) };
    counts.added++;
    statusB.set(y.id, c);
  }
  // Alignment: b's order, with each removed node after the last matched node that preceded it in a.
  const after = new Map<number, number[]>(); // a vertex id of the preceding matched node (-1: top) -> removed ids
  let lastMatched = -1;
  for (const x of A.v) {
    if (x.kind !== 'node') continue;
    if (m.ab.has(x.id)) lastMatched = x.id;
    else (after.get(lastMatched) ?? after.set(lastMatched, []).get(lastMatched)!).push(x.id);
  }
  const rows: GraphDiff['rows'] = [];
  const changes: NodeChange[] = [];
  const emitRemoved = (key: number) => {
    for (const id of after.get(key) ?? []) {
      rows.push({ status: 'removed', a: ref(A.v[id]!) });
      changes.push(statusA.get(id)!);
    }
  };
  emitRemoved(-1);
  for (const y of B.v) {
    if (y.kind !== 'node') continue;
    const xa = m.ba.get(y.id);
    const c = statusB.get(y.id)!;
    rows.push({ status: c.status, a: xa === undefined ? undefined : ref(A.v[xa]!), b: ref(y) });
    if (c.status !== 'unchanged') changes.push(c);
    if (xa !== undefined) emitRemoved(xa);
  }
  // Edges, mapped through the matching.
  const mapped = new Set<string>();
  const edgesRemoved: EdgeRef[] = [];
  for (const [key, e] of A.edges) {
    const [src, dst] = key.split('>') as [string, string];
    const [s, so] = src.split(':').map(Number) as [number, number];
    const [d, di] = dst.split(':').map(Number) as [number, number];
    const sb = m.ab.get(s);
    const db = m.ab.get(d);
    const k = sb !== undefined && db !== undefined ? `${sb}:${so}>${db}:${di}` : undefined;
    if (k && B.edges.has(k)) mapped.add(k);
    else edgesRemoved.push(e);
  }
  const edgesAdded = [...B.edges].filter(([k]) => !mapped.has(k)).map(([, e]) => e);
  const totalEdges = A.edges.size + B.edges.size;
  return {
    name: gb.name || ga.name,
    nodes: counts,
    edges: { a: A.edges.size, b: B.edges.size, added: edgesAdded.length, removed: edgesRemoved.length },
    divergence: totalEdges ? (edgesAdded.length + edgesRemoved.length) / totalEdges : 0,
    changes,
    rows,
    inputs: ioChanges(ga.inputs.filter((i) => !ga.initializers.has(i.name)), gb.inputs.filter((i) => !gb.initializers.has(i.name))),
    outputs: ioChanges(ga.outputs, gb.outputs),
    edgesAdded,
    edgesRemoved,
  };
}

function ioChanges(a: { name: string; type: string }[], b: { name: string; type: string }[]): IoChange[] {
  const out: IoChange[] = [];
  const mb = new Map(b.map((x) => [x.name, x.type]));
  for (const x of a) {
    const t = mb.get(x.name);
    if (t === undefined) out.push({ name: x.name, a: x.type });
    else if (t !== x.type) out.push({ name: x.name, a: x.type, b: t });
  }
  for (const y of b) if (!a.some((x) => x.name === y.name)) out.push({ name: y.name, b: y.type });
  return out;
}

/** Diffs two decoded models: graph, opsets, metadata and model-local functions. */
export function diffModels(a: ModelInfo, b: ModelInfo): ModelGraphDiff {
  const opsets: ModelGraphDiff['opsets'] = [];
  for (const d of new Set([...Object.keys(a.opsets), ...Object.keys(b.opsets)])) {
    if (a.opsets[d] !== b.opsets[d]) opsets.push({ domain: d, a: a.opsets[d], b: b.opsets[d] });
  }
  const metadata: ModelGraphDiff['metadata'] = [];
  for (const k of new Set([...Object.keys(a.metadata), ...Object.keys(b.metadata)])) {
    if (a.metadata[k] !== b.metadata[k]) metadata.push({ key: k, a: a.metadata[k], b: b.metadata[k] });
  }
  const functions: ModelGraphDiff['functions'] = [];
  const fb = new Map(b.functions.map((f) => [`${f.domain}::${f.name}`, f]));
  for (const f of a.functions) {
    const g = fb.get(`${f.domain}::${f.name}`);
    if (!g) functions.push({ name: `${f.domain}::${f.name}`, status: 'removed' });
    else {
      const d = diffGraph(f.graph, g.graph);
      if (d.changes.length || d.edges.added || d.edges.removed) functions.push({ name: `${f.domain}::${f.name}`, status: 'modified', diff: d });
    }
  }
  for (const g of b.functions) if (!a.functions.some((f) => f.domain === g.domain && f.name === g.name)) functions.push({ name: `${g.domain}::${g.name}`, status: 'added' });
  return {
    irVersion: { a: a.irVersion, b: b.irVersion },
    producer: { a: a.producer, b: b.producer },
    opsets,
    metadata,
    graph: diffGraph(a.graph, b.graph),
    functions,
  };
}

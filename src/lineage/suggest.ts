// The autopilot's ranking (MGit's automatic insertion, from pointers instead of traced models): which
// existing model versions a new version most likely came from. Evidence, strongest first:
//   1. shared chunk ids: tensors whose bytes are identical (frozen layers, re-exports, re-layouts);
//   2. tensors of equal name, dtype and shape: the same architecture;
//   3. value similarity: the sketches of matched tensors correlate (fine-tuned, pruned, quantized).
// A candidate's score is the byte-weighted mean over the new version's tensors of 1 (identical bytes)
// or the sketch correlation of the best-matched tensor (0 when unmatched or anti-correlated). Shape
// alone is no evidence: independently trained models of one architecture score near 0.
// Pure: index entries in, ranked suggestions out. Candidates are pruned through inverted indexes (by
// chunk and by shape), so only versions that share something are scored.

import type { IndexEntry, IndexedTensor } from './local-index.js';
import { isConstant, jaccard, similarity } from './sketch.js';

/** Below this score a candidate is not suggested (calibrated on the corpus: docs/lineage-spec.md)... */
export const SUGGEST_THRESHOLD = 0.5;
/** ...unless at least this fraction of the new version's tensor bytes is identical and not constant. */
export const SHARED_THRESHOLD = 0.05;

export interface Candidate {
  id: string;
  path: string;
  /** position in history (0 = newest, -1 = staged); on equal evidence the older candidate wins (a parent predates its children) */
  seq?: number;
  entry: IndexEntry;
}

export interface Suggestion {
  id: string;
  path: string;
  score: number;
  /** fraction of the new version's tensor bytes found identical in the candidate */
  shared: number;
  /** fraction of the new version's tensor bytes with a tensor of equal name, dtype and shape */
  structure: number;
  /** estimated Jaccard similarity of the two skeletons (graph bytes) */
  graph: number;
  relation: string;
  evidence: string;
}

const dimsKeys = new WeakMap<IndexedTensor, string>();
function dimsKey(t: IndexedTensor): string {
  let k = dimsKeys.get(t);
  if (k === undefined) dimsKeys.set(t, (k = t.dims.join('x')));
  return k;
}
const LOW_PRECISION = new Set(['float16', 'bfloat16', 'int8', 'uint8', 'int4', 'uint4', 'float8e4m3fn', 'float8e5m2']);
const QUANT_SUFFIX = /_(quantized|quant|fp16|int8)$/;

interface Prepared {
  c: Candidate;
  chunks: Set<string>;
  byName: Map<string, IndexedTensor[]>;
  byDims: Map<string, IndexedTensor[]>;
}

function prepare(c: Candidate): Prepared {
  const chunks = new Set<string>();
  const byName = new Map<string, IndexedTensor[]>();
  const byDims = new Map<string, IndexedTensor[]>();
  for (const t of c.entry.tensors) {
    for (const ch of t.chunks) chunks.add(ch);
    (byName.get(t.name) ?? byName.set(t.name, []).get(t.name)!).push(t);
    (byDims.get(dimsKey(t)) ?? byDims.set(dimsKey(t), []).get(dimsKey(t))!).push(t);
  }
  if (c.entry.tensors.length === 0) for (const ch of c.entry.skeleton) chunks.add(ch);
  return { c, chunks, byName, byDims };
}

/** Scores every candidate that shares a chunk or a tensor shape with the target; best first. */
export function rankParents(target: IndexEntry, candidates: Candidate[], opts: { limit?: number; threshold?: number } = {}): Suggestion[] {
  const threshold = opts.threshold ?? SUGGEST_THRESHOLD;
  const tensors = target.tensors;
  // Inverted indexes: only candidates that share a chunk or a shape with the target are scored.
  const byChunk = new Map<string, number[]>();
  const byShape = new Map<string, number[]>();
  candidates.forEach((c, i) => {
    const chunks = c.entry.tensors.length ? c.entry.tensors.flatMap((t) => t.chunks) : c.entry.skeleton;
    for (const ch of chunks) (byChunk.get(ch) ?? byChunk.set(ch, []).get(ch)!).push(i);
    for (const t of c.entry.tensors) (byShape.get(dimsKey(t)) ?? byShape.set(dimsKey(t), []).get(dimsKey(t))!).push(i);
  });
  const hit = new Set<number>();
  const targetChunks = tensors.length ? tensors.flatMap((t) => t.chunks) : target.skeleton;
  for (const ch of targetChunks) for (const i of byChunk.get(ch) ?? []) hit.add(i);
  for (const t of tensors) for (const i of byShape.get(dimsKey(t)) ?? []) hit.add(i);

  const out: Suggestion[] = [];
  for (const i of hit) {
    const s = tensors.length ? scoreTensors(target, prepare(candidates[i])) : scoreSkeleton(target, prepare(candidates[i]));
    if (s.score >= threshold || s.distinctShared >= SHARED_THRESHOLD) out.push(s.suggestion);
  }
  const age = new Map(candidates.map((c) => [c.id, c.seq ?? -1]));
  // On equal scores: more identical bytes, then the more alike graph, then the older candidate.
  out.sort(
    (a, b) =>
      b.score - a.score ||
      b.shared - a.shared ||
      b.graph - a.graph ||
      age.get(b.id)! - age.get(a.id)! ||
      (a.path < b.path ? -1 : a.path > b.path ? 1 : 0) ||
      (a.id < b.id ? -1 : 1),
  );
  return opts.limit ? out.slice(0, opts.limit) : out;
}

interface Scored {
  suggestion: Suggestion;
  /** fraction of tensor bytes identical, not counting constant tensors */
  distinctShared: number;
  score: number;
}

function scoreSkeleton(target: IndexEntry, p: Prepared): Scored {
  const n = target.skeleton.length;
  const shared = n ? target.skeleton.filter((c) => p.chunks.has(c)).length / n : 0;
  const graph = jaccard(target.skeletonSketch, p.c.entry.skeletonSketch);
  const suggestion = { id: p.c.id, path: p.c.path, score: shared, shared, structure: 0, graph, relation: shared === 1 ? 'reexport' : 'other', evidence: `${Math.round(shared * 100)}% of its bytes identical` };
  return { suggestion, distinctShared: 0, score: shared };
}

function scoreTensors(target: IndexEntry, p: Prepared): Scored {
  let total = 0;
  let sharedW = 0;
  let distinctW = 0;
  let structW = 0;
  let valueW = 0;
  let lowerPrecisionW = 0;
  let zerosT = 0;
  let zerosC = 0;
  let matchedW = 0;
  let slicedW = 0;
  const used = new Set<IndexedTensor>();
  const dimsSeen = new Map<string, number>();
  for (const t of target.tensors) {
    const w = t.bytes;
    total += w;
    const dk = dimsKey(t);
    const ordinal = dimsSeen.get(dk) ?? 0;
    dimsSeen.set(dk, ordinal + 1);
    if (t.chunks.every((c) => p.chunks.has(c))) {
      sharedW += w;
      valueW += w;
      if (t.sketch && !isConstant(t.sketch)) distinctW += w;
      if (p.byName.get(t.name)?.some((x) => x.dtype === t.dtype && dimsKey(x) === dk)) structW += w;
      continue;
    }
    // Match: same name and shape; else the name without a quantization suffix; else by position
    // among tensors of the same shape (exporters rename weights).
    const sameShape = (xs: IndexedTensor[] | undefined) => xs?.find((x) => !used.has(x) && dimsKey(x) === dk);
    let m = sameShape(p.byName.get(t.name)) ?? sameShape(p.byName.get(t.name.replace(QUANT_SUFFIX, '')));
    if (!m) {
      const peers = p.byDims.get(dk)?.filter((x) => !used.has(x));
      m = peers?.[Math.min(ordinal, peers.length - 1)];
    }
    if (!m) {
      if (p.byName.has(t.name)) slicedW += w; // same name, other shape: sliced (structured pruning)
      continue;
    }
    used.add(m);
    if (m.name === t.name && m.dtype === t.dtype) structW += w;
    if (!t.sketch || !m.sketch) continue;
    const sim = Math.max(0, similarity(t.sketch, m.sketch));
    valueW += w * sim;
    if (sim > 0.5) {
      matchedW += w;
      zerosT += w * t.sketch.zeros;
      zerosC += w * m.sketch.zeros;
      if (LOW_PRECISION.has(t.dtype) && !LOW_PRECISION.has(m.dtype)) lowerPrecisionW += w;
    }
  }
  const score = total ? valueW / total : 0;
  const shared = total ? sharedW / total : 0;
  const structure = total ? structW / total : 0;
  let relation = 'finetune';
  if (sharedW === total) relation = 'reexport';
  else if (lowerPrecisionW > 0.5 * total) relation = 'quantize';
  else if ((matchedW && (zerosT - zerosC) / matchedW > 0.2) || slicedW > 0.25 * total) relation = 'prune';
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const evidence = `score ${score.toFixed(3)}: ${pct(shared)} of tensor bytes identical, ${pct(structure)} same name/dtype/shape, values ${pct(total ? (valueW - sharedW) / total : 0)} similar`;
  const graph = jaccard(target.skeletonSketch, p.c.entry.skeletonSketch);
  return { suggestion: { id: p.c.id, path: p.c.path, score, shared, structure, graph, relation, evidence }, distinctShared: total ? distinctW / total : 0, score };
}

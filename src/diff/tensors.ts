// Tensor-level diff of two model versions, from their pointers alone (no chunk is read).
//
// Owns: pairing the tensor parts of two pointers (first by name, then by identical content for the rest)
// and classifying each: unchanged, changed (same name, dtype and shape, other bytes), reshaped (same name
// and dtype, other shape), retyped (same name, other dtype: quantization, fp16 export), renamed (same bytes
// under another name), added, removed; with byte totals per class and per dtype.
// Must never: read tensor bytes (values.ts does that, and only when asked), or pair tensors by position:
// a guess that two differently named tensors "are" the same would be reported as fact.

import { createHash } from 'node:crypto';
import type { Pointer, TensorPart } from '../codec/pointer.js';
import { partBytes, partContent, tensorParts } from '../model/source.js';
import { dtypeName } from '../onnx/dtypes.js';
import type { Payload } from '../onnx/skeleton.js';

export const TENSOR_CLASSES = ['changed', 'reshaped', 'retyped', 'renamed', 'added', 'removed', 'unchanged'] as const;
export type TensorClass = (typeof TENSOR_CLASSES)[number];

export interface TensorSide {
  name: string;
  dtype: string;
  dims: number[];
  bytes: number;
  /** chunk ids of the payload, '+'-joined when it has several pieces; sha256 of the bytes for small ones */
  content: string;
  /** a payload under the pointer's minimum tensor size, kept in the skeleton (seen when the skeleton is local) */
  inSkeleton?: true;
}

export interface ValueStats {
  elements: number;
  maxAbsDiff: number;
  meanAbsDiff: number;
  /** ||b - a|| / ||a||; null when a is all zeros */
  relL2: number | null;
  /** share of elements whose value differs (+0 and -0 count as equal) */
  changedShare: number;
  sparsityA: number;
  sparsityB: number;
  /** elements where either side is NaN or infinite (left out of the figures above) */
  nonFinite: number;
}

export interface TensorChange {
  class: TensorClass;
  /** the name in b (in a for removed tensors) */
  name: string;
  /** the name in a, when it differs (renamed) */
  oldName?: string;
  a?: TensorSide;
  b?: TensorSide;
  stats?: ValueStats;
  /** set when value statistics showed every difference within --tolerance (the class is then unchanged) */
  withinTolerance?: boolean;
  /** why no statistics were computed for a changed tensor */
  statsSkipped?: string;
}

export interface ClassTotals {
  count: number;
  /** bytes on the a side (0 for added) */
  bytesA: number;
  /** bytes on the b side (0 for removed) */
  bytesB: number;
}

export interface TensorDiff {
  changes: TensorChange[];
  summary: Record<TensorClass, ClassTotals>;
  /** payload bytes per dtype on each side */
  dtypes: Record<string, { a: number; b: number }>;
  /** the non-tensor bytes (graph, attributes, small tensors) */
  skeleton: { same: boolean; bytesA: number; bytesB: number };
}

/** One tensor payload of a model version: a pointer tensor part, or a small payload from the skeleton. */
export interface Keyed {
  /** unique within the version: the name, then `name#2`, `name#3`... for repeats (subgraph branches) */
  key: string;
  side: TensorSide;
  part?: TensorPart;
  /** the bytes of a small payload */
  inline?: Buffer;
}

function withKeys(list: Omit<Keyed, 'key'>[]): Keyed[] {
  const seen = new Map<string, number>();
  return list.map((t) => {
    const n = (seen.get(t.side.name) ?? 0) + 1;
    seen.set(t.side.name, n);
    return { ...t, key: n === 1 ? t.side.name : `${t.side.name}#${n}` };
  });
}

/** The tensors a pointer lists (what is known without any chunk). */
export function keyedTensors(p: Pointer): Keyed[] {
  return withKeys(
    tensorParts(p).map((part) => ({
      part,
      side: { name: part.name, dtype: part.dtype, dims: part.dims, bytes: partBytes(part), content: partContent(part) },
    })),
  );
}

/** Every payload of a model, large and small, in file order, from a skeleton walk. */
export function keyedPayloads(p: Pointer, payloads: Payload[]): Keyed[] {
  return withKeys(
    payloads.map((x) => {
      const part = x.part !== undefined ? (p.parts[x.part] as TensorPart) : undefined;
      if (part) return { part, side: { name: part.name, dtype: part.dtype, dims: part.dims, bytes: partBytes(part), content: partContent(part) } };
      const dtype = dtypeName(x.dtype) + (x.form === 'varint' ? ':varint' : '');
      const content = createHash('sha256').update(x.bytes ?? Buffer.alloc(0)).digest('hex');
      return { inline: x.bytes, side: { name: x.name, dtype, dims: x.dims, bytes: x.length, content, inSkeleton: true as const } };
    }),
  );
}

/** The tensors behind each change, for value statistics (kept out of the JSON). */
export const changeEntries = new WeakMap<TensorChange, { a?: Keyed; b?: Keyed }>();

const sameDims = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

export function classify(a: TensorSide, b: TensorSide): TensorClass {
  if (a.dtype !== b.dtype) return 'retyped';
  if (!sameDims(a.dims, b.dims)) return 'reshaped';
  return a.content === b.content ? 'unchanged' : 'changed';
}

export function emptyTotals(): Record<TensorClass, ClassTotals> {
  const out = {} as Record<TensorClass, ClassTotals>;
  for (const c of TENSOR_CLASSES) out[c] = { count: 0, bytesA: 0, bytesB: 0 };
  return out;
}

/** Recomputes summary totals from the change list (after tolerance moved some to unchanged). */
export function totals(changes: TensorChange[]): Record<TensorClass, ClassTotals> {
  const out = emptyTotals();
  for (const c of changes) {
    const t = out[c.class];
    t.count++;
    t.bytesA += c.a?.bytes ?? 0;
    t.bytesB += c.b?.bytes ?? 0;
  }
  return out;
}

/**
 * Diffs the tensors of two versions. Either may be absent (a model added or deleted). `as`/`bs` default to
 * the pointers' tensor lists; callers pass keyedPayloads lists to include the small tensors too.
 */
export function diffTensors(a: Pointer | undefined, b: Pointer | undefined, as: Keyed[] = a ? keyedTensors(a) : [], bs: Keyed[] = b ? keyedTensors(b) : []): TensorDiff {
  const changes: TensorChange[] = [];
  const push = (c: TensorChange, ta?: Keyed, tb?: Keyed) => {
    changes.push(c);
    changeEntries.set(c, { a: ta, b: tb });
  };
  const bByKey = new Map(bs.map((t) => [t.key, t]));
  const pairedB = new Set<Keyed>();
  const unpairedA: Keyed[] = [];
  // 1. by name
  for (const ta of as) {
    const tb = bByKey.get(ta.key);
    if (!tb) {
      unpairedA.push(ta);
      continue;
    }
    pairedB.add(tb);
    push({ class: classify(ta.side, tb.side), name: tb.side.name, a: ta.side, b: tb.side }, ta, tb);
  }
  // 2. by content: the same bytes under another name (exporters rename; relayouts reshape too)
  const freeB = new Map<string, Keyed[]>();
  for (const tb of bs) {
    if (pairedB.has(tb)) continue;
    const list = freeB.get(tb.side.content) ?? [];
    list.push(tb);
    freeB.set(tb.side.content, list);
  }
  for (const ta of unpairedA) {
    const list = freeB.get(ta.side.content);
    const tb = list?.shift();
    if (!tb) {
      push({ class: 'removed', name: ta.side.name, a: ta.side }, ta);
      continue;
    }
    pairedB.add(tb);
    push({ class: 'renamed', name: tb.side.name, oldName: ta.side.name, a: ta.side, b: tb.side }, ta, tb);
  }
  for (const tb of bs) if (!pairedB.has(tb)) push({ class: 'added', name: tb.side.name, b: tb.side }, undefined, tb);

  const dtypes: Record<string, { a: number; b: number }> = {};
  for (const t of as) (dtypes[t.side.dtype] ??= { a: 0, b: 0 }).a += t.side.bytes;
  for (const t of bs) (dtypes[t.side.dtype] ??= { a: 0, b: 0 }).b += t.side.bytes;
  const skelA = a ? a.skeleton.map((s) => s.chunk).join() : '';
  const skelB = b ? b.skeleton.map((s) => s.chunk).join() : '';
  const bytes = (p?: Pointer) => (p ? p.skeleton.reduce((x, s) => x + s.length, 0) : 0);
  return {
    changes,
    summary: totals(changes),
    dtypes,
    skeleton: { same: !!a && !!b && skelA === skelB, bytesA: bytes(a), bytesB: bytes(b) },
  };
}

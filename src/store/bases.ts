// Which existing chunks a new model's chunks should be predicted from (DESIGN §5). For each tensor:
// the same tensor (by name, else by position among tensors of equal dtype and shape) in the file's
// previous version, in its declared lineage parents, and in related models of the repository; for
// narrower dtypes (fp16, int8) the float32 tensor of the same shape they were likely made from. For
// skeleton pieces: the previous version's and the related model's pieces (as dictionaries).
// Pure planning over pointers: the caller finds the pointers, the encoder tries the candidates.

import type { Pointer, TensorPart } from '../codec/pointer.js';
import { PointerIndex, tensorBytes, tensorKey, tensorsOf } from './pointer-index.js';

export interface TensorDesc {
  name: string;
  dtype: string;
  dims: number[];
  /** payload bytes, when known (clean knows it; relayout candidates need it) */
  bytes?: number;
}

export interface BasePlan {
  tensor(t: TensorDesc, ordinal: number, piece: number): string[];
  skeleton(piece: number): string[];
}

/** How many same-named tensors of the repository to try per tensor (clean; repack tries more). */
const PER_SOURCE = 3;
const NARROW = new Set(['float16', 'bfloat16', 'int8', 'uint8']);
/** Repack looks for relayouts of tensors up to this size, among this many tensors of equal size. */
const RELAYOUT_MAX_BYTES = 4 * 1024 * 1024;
const RELAYOUT_CANDIDATES = 16;

/** The position of a tensor among the tensors of equal dtype and shape, for matching renamed tensors. */
function ordinals(ts: TensorDesc[]): number[] {
  const count = new Map<string, number>();
  return ts.map((t) => {
    const k = `${t.dtype}\0${t.dims.join(',')}`;
    const n = count.get(k) ?? 0;
    count.set(k, n + 1);
    return n;
  });
}

/** The tensor of `p` that corresponds to `t`: same name, dtype and dims; else the same ordinal. */
function match(p: Pointer, t: TensorDesc, ordinal: number): TensorPart | undefined {
  const ts = tensorsOf(p);
  const key = tensorKey(t);
  const byName = ts.find((x) => tensorKey(x) === key);
  if (byName) return byName;
  const same = ts.filter((x) => x.dtype === t.dtype && x.dims.join(',') === t.dims.join(','));
  return same[ordinal];
}

/** For a narrow-dtype tensor: the float32 tensor of equal shape it was likely made from. */
function wideSource(p: Pointer, t: TensorDesc): TensorPart | undefined {
  if (!NARROW.has(t.dtype)) return undefined;
  const cands = tensorsOf(p).filter((x) => x.dtype === 'float32' && x.dims.join(',') === t.dims.join(','));
  return cands.find((x) => x.name === t.name) ?? cands.find((x) => t.name.startsWith(x.name) || x.name.startsWith(t.name)) ?? (cands.length === 1 ? cands[0] : undefined);
}

function pieceOf(t: TensorPart | undefined, piece: number): string | undefined {
  return t?.pieces[piece]?.chunk;
}

export function planBases(tensors: TensorDesc[], sources: { previous?: Pointer; parents?: Pointer[]; index?: PointerIndex; perSource?: number }): BasePlan {
  const { previous, parents = [], index } = sources;
  const perSource = sources.perSource ?? PER_SOURCE;
  const related = relatedPointer(tensors, index, [previous, ...parents]);
  const direct = [previous, ...parents, related].filter((p): p is Pointer => !!p);
  return {
    tensor(t, ordinal, piece) {
      const out: string[] = [];
      const add = (c: string | undefined) => c && !out.includes(c) && out.push(c);
      for (const p of direct) add(pieceOf(match(p, t, ordinal), piece));
      for (const e of (index?.same(t) ?? []).slice(0, perSource)) add(pieceOf(e.tensor, piece));
      for (const p of direct) add(pieceOf(wideSource(p, t), piece));
      // Same name, other shape: rows or columns sliced out (structured pruning); tried as dictionaries.
      for (const p of direct) add(pieceOf(tensorsOf(p).find((x) => x.name === t.name && x.dims.join(',') !== t.dims.join(',')), piece));
      for (const e of (index?.sameName(t.name) ?? []).filter((x) => x.tensor.dims.join(',') !== t.dims.join(',')).slice(0, perSource)) add(pieceOf(e.tensor, piece));
      // The same weights laid out again under another name or shape (an exporter's relayout, such as
      // LSTM gates reordered): in repack, tensors of its dtype and size, for tensors small enough to
      // try many (the encoder keeps those whose bytes it finds in the new tensor, as dictionaries).
      // Not in clean: there they would only add XOR trials to every renamed tensor of a new model.
      if (index && perSource > PER_SOURCE && t.bytes !== undefined && t.bytes <= RELAYOUT_MAX_BYTES) {
        const fromDirect = direct.flatMap((p) => tensorsOf(p).filter((x) => x.dtype === t.dtype && x.name !== t.name && tensorBytes(x) === t.bytes));
        for (const x of fromDirect.slice(0, RELAYOUT_CANDIDATES)) add(pieceOf(x, piece));
        for (const e of index.sameSize(t.dtype, t.bytes).slice(0, RELAYOUT_CANDIDATES)) add(pieceOf(e.tensor, piece));
      }
      if (NARROW.has(t.dtype) && index) {
        // the float32 tensors it may be a cast or quantization of: those of its own name first (a model's
        // layers often share one shape, and the newest of them would crowd out the right one)
        const wide = index.sameDims(t.dims).filter((x) => x.tensor.dtype === 'float32');
        const ranked = [...wide.filter((x) => x.tensor.name === t.name), ...wide.filter((x) => x.tensor.name !== t.name)];
        for (const e of ranked.slice(0, perSource)) add(pieceOf(e.tensor, piece));
      }
      return out;
    },
    skeleton(piece) {
      const out: string[] = [];
      for (const p of direct) {
        const c = p.skeleton[piece]?.chunk;
        if (c && !out.includes(c)) out.push(c);
      }
      return out;
    },
  };
}

/** The indexed model sharing the most tensors (name, dtype, shape) with this one. */
function relatedPointer(tensors: TensorDesc[], index: PointerIndex | undefined, exclude: (Pointer | undefined)[]): Pointer | undefined {
  if (!index || tensors.length === 0) return undefined;
  const skip = new Set(exclude.filter(Boolean).map((p) => p!.sha256));
  const score = new Map<string, number>();
  for (const t of tensors) {
    for (const e of index.same(t)) if (!skip.has(e.sha)) score.set(e.sha, (score.get(e.sha) ?? 0) + 1);
  }
  let best: string | undefined;
  let bestScore = 0;
  for (const [sha, s] of score) {
    if (s > bestScore) {
      best = sha;
      bestScore = s;
    }
  }
  return best ? index.pointers.get(best) : undefined;
}

export { ordinals };

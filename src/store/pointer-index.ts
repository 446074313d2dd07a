// The pointers this repository has seen, by model version id (file sha256), with their tensors
// indexed by (name, dtype, dims): where clean and repack look for delta bases of models that have no
// previous version at their path (derived models usually live at a new path). Built from the clean
// cache (every pointer cleaned here) plus whatever a caller adds (repack adds history's pointers).

import type { Pointer, TensorPart } from '../codec/pointer.js';
import type { CleanCache } from './clean-cache.js';

export function tensorKey(t: { name: string; dtype: string; dims: number[] }): string {
  return `${t.name}\0${t.dtype}\0${t.dims.join(',')}`;
}

export function tensorsOf(p: Pointer): TensorPart[] {
  return p.parts.filter((x): x is TensorPart => x.kind === 'tensor');
}

type Entry = { sha: string; tensor: TensorPart };

export function tensorBytes(t: TensorPart): number {
  return t.pieces.reduce((a, p) => a + p.length, 0);
}

function sizeKey(dtype: string, bytes: number): string {
  return `${dtype}\0${bytes}`;
}

/** How many of the clean cache's models clean indexes as candidate delta bases. */
export const CLEAN_INDEX_MODELS = 256;

function append(m: Map<string, Entry[]>, key: string, e: Entry): void {
  const list = m.get(key);
  if (list) list.push(e);
  else m.set(key, [e]);
}

function newestFirst(list: Entry[] | undefined): Entry[] {
  return list ? list.slice().reverse() : [];
}

export class PointerIndex {
  readonly pointers = new Map<string, Pointer>();
  // oldest first (appending is O(1); prepending made indexing a repository's history quadratic)
  private readonly byKey = new Map<string, Entry[]>();
  private readonly byDims = new Map<string, Entry[]>();
  private readonly byName = new Map<string, Entry[]>();
  private readonly bySize = new Map<string, Entry[]>();

  add(p: Pointer): void {
    if (this.pointers.has(p.sha256)) return;
    this.pointers.set(p.sha256, p);
    for (const t of tensorsOf(p)) {
      const e = { sha: p.sha256, tensor: t };
      append(this.byKey, tensorKey(t), e);
      append(this.byName, t.name, e);
      append(this.byDims, t.dims.join(','), e);
      append(this.bySize, sizeKey(t.dtype, tensorBytes(t)), e);
    }
  }

  /**
   * Tensors of this dtype and byte length, any name or shape, most recently added first: the same
   * weights laid out again (reshaped, gates reordered as exporters convert LSTM and GRU layouts).
   */
  sameSize(dtype: string, bytes: number): Entry[] {
    return newestFirst(this.bySize.get(sizeKey(dtype, bytes)));
  }

  /** Tensors with this name, dtype and shape, most recently added first. */
  same(t: { name: string; dtype: string; dims: number[] }): Entry[] {
    return newestFirst(this.byKey.get(tensorKey(t)));
  }

  /** Tensors of this name, any dtype or shape (pruned, sliced), most recently added first. */
  sameName(name: string): Entry[] {
    return newestFirst(this.byName.get(name));
  }

  /** Tensors of this shape, any dtype, most recently added first. */
  sameDims(dims: number[]): Entry[] {
    return newestFirst(this.byDims.get(dims.join(',')));
  }

  /**
   * The pointers of the clean cache written or hit most recently, oldest first (so the newest rank
   * first). Clean builds this on every cache miss: reading every entry cost 1-3 ms each, seconds per
   * `git add` in a repository of a thousand models. Related models are mostly recent ones; repack
   * searches all of history, and clean reads a declared lineage parent by its id wherever it is.
   */
  static fromCache(cache: CleanCache, newest = CLEAN_INDEX_MODELS): PointerIndex {
    const idx = new PointerIndex();
    for (const e of cache.entries(newest)) idx.add(e.pointer);
    return idx;
  }
}

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

export class PointerIndex {
  readonly pointers = new Map<string, Pointer>();
  private readonly byKey = new Map<string, { sha: string; tensor: TensorPart }[]>();
  private readonly byDims = new Map<string, { sha: string; tensor: TensorPart }[]>();
  private readonly byName = new Map<string, { sha: string; tensor: TensorPart }[]>();

  add(p: Pointer): void {
    if (this.pointers.has(p.sha256)) return;
    this.pointers.set(p.sha256, p);
    for (const t of tensorsOf(p)) {
      const k = tensorKey(t);
      if (!this.byKey.has(k)) this.byKey.set(k, []);
      this.byKey.get(k)!.unshift({ sha: p.sha256, tensor: t });
      if (!this.byName.has(t.name)) this.byName.set(t.name, []);
      this.byName.get(t.name)!.unshift({ sha: p.sha256, tensor: t });
      const d = t.dims.join(',');
      if (!this.byDims.has(d)) this.byDims.set(d, []);
      this.byDims.get(d)!.unshift({ sha: p.sha256, tensor: t });
    }
  }

  /** Tensors with this name, dtype and shape, most recently added first. */
  same(t: { name: string; dtype: string; dims: number[] }): { sha: string; tensor: TensorPart }[] {
    return this.byKey.get(tensorKey(t)) ?? [];
  }

  /** Tensors of this name, any dtype or shape (pruned, sliced), most recently added first. */
  sameName(name: string): { sha: string; tensor: TensorPart }[] {
    return this.byName.get(name) ?? [];
  }

  /** Tensors of this shape, any dtype, most recently added first. */
  sameDims(dims: number[]): { sha: string; tensor: TensorPart }[] {
    return this.byDims.get(dims.join(',')) ?? [];
  }

  /** Every pointer in the clean cache, oldest first (so the newest rank first). */
  static fromCache(cache: CleanCache): PointerIndex {
    const idx = new PointerIndex();
    for (const e of cache.entries()) idx.add(e.pointer);
    return idx;
  }
}

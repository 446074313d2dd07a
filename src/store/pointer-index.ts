// The pointers this repository has seen, by model version id (file sha256), with their tensors
// indexed by (name, dtype, dims): where clean and repack look for delta bases of models that have no
// previous version at their path (derived models usually live at a new path). Built from the clean
// cache (every pointer cleaned here) plus whatever a caller adds (repack adds history's pointers).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parsePointer, type Pointer, type TensorPart } from '../codec/pointer.js';
import type { ChunkStore } from './store.js';

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

  /** Loads every pointer in the clean cache, oldest first (so the newest rank first). */
  static fromCache(store: ChunkStore): PointerIndex {
    const idx = new PointerIndex();
    const root = path.join(store.root, 'cache', 'clean');
    const files: { file: string; mtime: number }[] = [];
    let dirs: string[] = [];
    try {
      dirs = fs.readdirSync(root);
    } catch {
      return idx;
    }
    for (const d of dirs) {
      for (const f of fs.readdirSync(path.join(root, d))) {
        const file = path.join(root, d, f);
        try {
          files.push({ file, mtime: fs.statSync(file).mtimeMs });
        } catch {
          // raced with a writer or gc
        }
      }
    }
    files.sort((a, b) => a.mtime - b.mtime);
    for (const { file } of files) {
      try {
        idx.add(parsePointer(fs.readFileSync(file)));
      } catch {
        // a damaged cache entry is only a lost hint
      }
    }
    return idx;
  }
}

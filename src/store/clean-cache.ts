// file sha256 -> pointer, so that re-cleaning an unchanged file (git status after touch, editors
// running status with GIT_OPTIONAL_LOCKS=0) costs one hash instead of a parse and a chunking pass.
// A hit is only returned while every chunk the pointer names is still in the store, so a gc that
// removed chunks can never make clean hand git a pointer it cannot smudge.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parsePointer, pointerChunks } from '../codec/pointer.js';
import type { ChunkStore } from './store.js';

export class CleanCache {
  private readonly dir: string;

  constructor(private readonly store: ChunkStore) {
    this.dir = path.join(store.root, 'cache', 'clean');
  }

  private file(sha: string): string {
    return path.join(this.dir, sha.slice(0, 2), sha.slice(2));
  }

  get(sha: string): Buffer | undefined {
    let text: Buffer;
    try {
      text = fs.readFileSync(this.file(sha));
    } catch {
      return undefined;
    }
    try {
      const p = parsePointer(text);
      if (p.sha256 !== sha) return undefined;
      for (const c of pointerChunks(p)) if (!this.store.has(c.chunk)) return undefined;
      return text;
    } catch {
      return undefined;
    }
  }

  set(sha: string, pointer: Buffer): void {
    const dest = this.file(sha);
    const tmp = this.store.tempPath('cache');
    try {
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.writeFileSync(tmp, pointer);
      fs.renameSync(tmp, dest);
    } catch {
      fs.rmSync(tmp, { force: true }); // a cache that cannot be written only costs speed
    }
  }

  clear(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

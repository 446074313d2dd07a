// file sha256 -> pointer, so that re-cleaning an unchanged file (git status after touch, editors
// running status with GIT_OPTIONAL_LOCKS=0) costs one hash instead of a parse and a chunking pass.
// Also the index of every model this store has seen (delta bases for models at new paths).
// A hit costs one read and one touch, never a look at each chunk (git re-cleans every racily clean
// file at commit, and status after a touch re-cleans them all): gc owns the invariant instead. It
// keeps the chunks of entries touched within its grace period (a hit touches its entry before git
// gets the pointer), and removes every entry naming a chunk before it deletes that chunk, so no hit,
// even after a gc killed midway, hands git a pointer it cannot smudge (src/store/gc.ts). Entries are
// one flat folder of zstd-compressed pointers (a fan-out of folders cost more than the pointers in
// small stores).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAX_POINTER_BYTES, parsePointer, type Pointer } from '../codec/pointer.js';
import { zstdCompress, zstdDecompress, zstdFrameContentSize } from '../codec/zstd.js';
import type { ChunkStore } from './store.js';

const NAME = /^[0-9a-f]{64}$/;

export interface CacheEntry {
  sha: string;
  pointer: Pointer;
  /** when the entry was written or last returned by a hit (ms since the epoch) */
  mtime: number;
}

export class CleanCache {
  readonly dir: string;

  constructor(private readonly store: ChunkStore) {
    this.dir = path.join(store.root, 'cache', 'clean');
  }

  private file(sha: string): string {
    return path.join(this.dir, sha);
  }

  /** The pointer text of an entry, or undefined when absent or unreadable. */
  read(sha: string): Buffer | undefined {
    try {
      const z = fs.readFileSync(this.file(sha));
      const size = zstdFrameContentSize(z);
      if (size === undefined || size > MAX_POINTER_BYTES) return undefined;
      return zstdDecompress(z, size);
    } catch {
      return undefined;
    }
  }

  get(sha: string): Buffer | undefined {
    const entry = this.parsed(sha);
    if (!entry) return undefined;
    const now = new Date();
    try {
      fs.utimesSync(this.file(sha), now, now); // in use: gc keeps its chunks for its grace period
    } catch {
      return undefined;
    }
    return entry.text;
  }

  set(sha: string, pointer: Buffer): void {
    const tmp = this.store.tempPath('cache');
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      fs.writeFileSync(tmp, zstdCompress(pointer, 3));
      fs.renameSync(tmp, this.file(sha));
    } catch {
      fs.rmSync(tmp, { force: true }); // a cache that cannot be written only costs speed
    }
  }

  remove(sha: string): void {
    fs.rmSync(this.file(sha), { force: true });
  }

  /** An entry's pointer, parsed, without marking it in use; undefined when absent or unreadable. */
  pointer(sha: string): Pointer | undefined {
    return this.parsed(sha)?.pointer;
  }

  /** An entry that parses as the pointer of exactly this file. */
  private parsed(sha: string): { text: Buffer; pointer: Pointer } | undefined {
    const text = this.read(sha);
    if (!text) return undefined;
    try {
      const pointer = parsePointer(text);
      return pointer.sha256 === sha ? { text, pointer } : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Every readable entry (or the `newest` most recently written or hit), oldest first, with the time
   * it was last written or hit.
   */
  entries(newest = Infinity): CacheEntry[] {
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.dir).filter((n) => NAME.test(n));
    } catch {
      return [];
    }
    const withTime = names.map((sha) => {
      try {
        return { sha, mtime: fs.statSync(this.file(sha)).mtimeMs };
      } catch {
        return { sha, mtime: 0 };
      }
    });
    withTime.sort((a, b) => a.mtime - b.mtime);
    const out: CacheEntry[] = [];
    for (const { sha, mtime } of withTime.slice(Math.max(0, withTime.length - newest))) {
      const text = this.read(sha);
      if (!text) continue;
      try {
        out.push({ sha, pointer: parsePointer(text), mtime });
      } catch {
        // a damaged entry is only a lost hint
      }
    }
    return out;
  }

  clear(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// The chunk store: content-addressed chunks beside git's object store, in
// `$(git rev-parse --git-common-dir)/mgit` so that all worktrees share it (docs/store-format.md).
// Objects are loose files (what clean writes) or in packs (what repack writes). Writes are atomic
// (temp file + rename) and idempotent, so concurrent writers and a writer killed at any moment leave
// either a whole object or none. Every read is verified against the chunk's id, bases included.
// Never writes outside its own directory: ids are validated before they become paths.

import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ChunkCorruptError, ChunkMissingError, errorMessage } from '../errors.js';
import { decodeObject, readHeader } from './object.js';
import { PackIndexes, readFully, readPacked, type PackEntry } from './pack.js';
import { inReadRoom, noteGarbage, readMark, readRoom, releaseReads, reusedCopy } from './recycle.js';

const ID = /^[0-9a-f]{64}$/;
/** No chunk is larger than a tensor piece or skeleton piece; objects claiming more are corrupt. */
export const MAX_CHUNK_BYTES = 64 * 1024 * 1024;
/** Decoded chunks kept for reuse as delta bases (siblings share their parent's tensors). */
const CACHE_BYTES = 48 * 1024 * 1024;

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Throws when a chunk's bytes are not the ones its id names. */
export function verifyChunk(id: string, raw: Uint8Array): void {
  if (sha256(raw) !== id) throw new ChunkCorruptError(id, 'its bytes do not match its id');
}

export function assertChunkId(id: string): void {
  if (!ID.test(id)) throw new Error(`invalid chunk id ${JSON.stringify(id)}`);
}

export interface PutResult {
  id: string;
  /** false when the store already had the chunk (dedup) */
  written: boolean;
  /** bytes the stored object takes (0 when it was already there) */
  storedBytes: number;
}

export interface ObjectInfo {
  storedBytes: number;
  rawLength: number;
  depth: number;
  transform: number;
  standaloneBytes: number;
  bases: string[];
  packed: boolean;
}

export class ChunkStore {
  readonly root: string;
  readonly objects: string;
  readonly packs: string;
  readonly tmp: string;
  private packIndex?: PackIndexes;
  private readonly packFds = new Map<string, number>();
  private readonly cache = new Map<string, Buffer>();
  private cacheBytes = 0;

  constructor(root: string) {
    this.root = root;
    this.objects = path.join(root, 'objects');
    this.packs = path.join(root, 'packs');
    this.tmp = path.join(root, 'tmp');
  }

  /** Opens the store in a git common dir, creating its folders. */
  static forGitDir(commonDir: string): ChunkStore {
    const store = new ChunkStore(path.join(commonDir, 'mgit'));
    fs.mkdirSync(store.objects, { recursive: true });
    fs.mkdirSync(store.tmp, { recursive: true });
    return store;
  }

  objectPath(id: string): string {
    assertChunkId(id);
    return path.join(this.objects, id.slice(0, 2), id.slice(2));
  }

  private packed(): PackIndexes {
    if (!this.packIndex) {
      const m = new PackIndexes();
      let names: string[] = [];
      try {
        names = fs.readdirSync(this.packs);
      } catch {
        // no packs yet
      }
      for (const n of names.filter((x) => x.endsWith('.idx')).sort()) {
        const base = n.slice(0, -4);
        if (names.includes(`${base}.pack`)) m.add(path.join(this.packs, n), path.join(this.packs, `${base}.pack`));
      }
      this.packIndex = m;
    }
    return this.packIndex;
  }

  /** Forget what is known about packs (after a repack or gc in this process). */
  reloadPacks(): void {
    this.packIndex = undefined;
    this.close();
  }

  /** Closes the pack files kept open for reading (the store stays usable: they reopen on demand). */
  close(): void {
    for (const fd of this.packFds.values()) fs.closeSync(fd);
    this.packFds.clear();
  }

  has(id: string): boolean {
    return this.packed().has(id) || fs.existsSync(this.objectPath(id));
  }

  /**
   * An object's bytes from its pack. Packs are immutable, so their files stay open for the next read
   * (a checkout reads hundreds of small objects from one pack); a pack that gc deleted since it was
   * opened still reads correctly, and one deleted before is reported as undefined.
   */
  private readPack(e: PackEntry, alloc?: (n: number) => Buffer): Buffer | undefined {
    let fd = this.packFds.get(e.pack);
    if (fd === undefined) {
      try {
        fd = fs.openSync(e.pack, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      this.packFds.set(e.pack, fd);
    }
    return readPacked(e, fd, alloc);
  }

  /** A temp file path in the store (same file system as the objects, so rename is atomic). */
  tempPath(tag: string): string {
    return path.join(this.tmp, `${tag}-${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  /**
   * Marks an object as in use now: gc keeps objects touched within its grace period, so a pointer that
   * clean just handed to git (from the cache, or by dedup) never loses its chunks to a concurrent gc.
   */
  freshen(id: string): void {
    const now = new Date();
    try {
      fs.utimesSync(this.objectPath(id), now, now);
      return;
    } catch {
      // not loose
    }
    const e = this.packed().get(id);
    if (e) {
      try {
        fs.utimesSync(e.pack, now, now);
      } catch {
        // a pack removed under us: the next read will say so
      }
    }
  }

  /**
   * Stores an encoded object for chunk `id` after decoding it and checking it against the id (so no
   * encoding, ours or received, is ever kept unverified). Its bases must be in the store.
   */
  putEncoded(id: string, obj: Uint8Array, raw?: Uint8Array): PutResult {
    assertChunkId(id);
    if (this.has(id)) {
      this.freshen(id);
      return { id, written: false, storedBytes: 0 };
    }
    let back: Buffer;
    try {
      back = decodeObject(obj, MAX_CHUNK_BYTES, (b) => this.get(b));
    } catch (e) {
      throw new ChunkCorruptError(id, errorMessage(e));
    }
    if (raw ? !back.equals(raw) : sha256(back) !== id) {
      throw new ChunkCorruptError(id, 'its encoding does not decode to its bytes');
    }
    this.writeAtomic(this.objectPath(id), obj);
    return { id, written: true, storedBytes: obj.length };
  }

  private writeAtomic(dest: string, data: Uint8Array): void {
    const tmp = this.tempPath('obj');
    fs.writeFileSync(tmp, data, { mode: 0o444 });
    try {
      for (let attempt = 0; ; attempt++) {
        fs.mkdirSync(path.dirname(dest), { recursive: true });
        try {
          fs.renameSync(tmp, dest);
          return;
        } catch (e) {
          // gc may remove an empty fan-out folder between our mkdir and rename: make it again, once
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 0) throw e;
        }
      }
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
  }

  /** The stored object (header and encoded payload) as it is on disk, unverified. */
  getEncoded(id: string, alloc?: (n: number) => Buffer): Buffer {
    // Packed first: once a store is repacked nearly everything is, and a failed open costs more than
    // a lookup. A repack or gc running meanwhile may have moved the object: then look again.
    for (let attempt = 0; attempt < 2; attempt++) {
      const entry = this.packed().get(id);
      const packed = entry && this.readPack(entry, alloc);
      if (packed) return packed;
      try {
        return alloc ? readWhole(this.objectPath(id), alloc) : fs.readFileSync(this.objectPath(id));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      this.reloadPacks();
    }
    throw new ChunkMissingError(id);
  }

  /**
   * Reads, decodes (bases first) and verifies a chunk. Decoded chunks are kept for reuse as bases;
   * `cache: false` is for streaming reads that will not come back (bases are cached regardless).
   * `verify: false` leaves the check of this chunk's bytes against its id to the caller, who must do
   * it (its bases are checked all the same, and it is not cached): the checkout's worker thread hands
   * it to the main thread, which hashes on the other core (PrefetchReader).
   */
  get(id: string, opts: { cache?: boolean; verify?: boolean } = {}, seen: Set<string> = new Set()): Buffer {
    const hit = this.cache.get(id);
    if (hit) {
      this.cache.delete(id);
      this.cache.set(id, hit);
      return hit;
    }
    if (seen.has(id)) throw new ChunkCorruptError(id, 'its delta bases form a cycle');
    seen.add(id);
    // the object is read into the read stack (recycle.ts), which its bases' reads nest on
    const mark = readMark();
    let raw: Buffer;
    try {
      raw = decodeObject(this.getEncoded(id, readRoom), MAX_CHUNK_BYTES, (b) => this.get(b, {}, seen));
      if (inReadRoom(raw)) raw = reusedCopy(raw); // a chunk stored as it is: a view of its object, copied out
    } catch (e) {
      if (e instanceof ChunkMissingError || e instanceof ChunkCorruptError) {
        if (e.chunk !== id) throw new ChunkCorruptError(id, `its delta base ${e.chunk} is ${e instanceof ChunkMissingError ? 'missing' : 'corrupt'}`);
        throw e;
      }
      throw new ChunkCorruptError(id, errorMessage(e));
    } finally {
      releaseReads(mark);
    }
    if (opts.verify === false) return raw;
    verifyChunk(id, raw);
    if (opts.cache !== false) this.remember(id, raw);
    return raw;
  }

  /** Whether a decoded chunk is held for reuse (a caller must not hand such a buffer away). */
  isCached(id: string): boolean {
    return this.cache.has(id);
  }

  private remember(id: string, raw: Buffer): void {
    if (raw.length > CACHE_BYTES / 4) return;
    this.cache.set(id, raw);
    this.cacheBytes += raw.length;
    for (const [k, v] of this.cache) {
      if (this.cacheBytes <= CACHE_BYTES) break;
      this.cache.delete(k);
      this.cacheBytes -= v.length;
      noteGarbage(v.length);
    }
  }

  /** The chunks an object needs to decode (its delta bases). */
  basesOf(id: string): string[] {
    return readHeader(this.getEncoded(id)).bases;
  }

  /** What the store knows of an object without decoding it, or undefined when absent. */
  info(id: string): ObjectInfo | undefined {
    let obj: Buffer;
    let packed = false;
    try {
      obj = fs.readFileSync(this.objectPath(id));
    } catch {
      const e = this.packed().get(id);
      const got = e && this.readPack(e);
      if (!got) return undefined;
      obj = got;
      packed = true;
    }
    try {
      const h = readHeader(obj);
      return { storedBytes: obj.length, rawLength: h.rawLength, depth: h.depth, transform: h.transform, standaloneBytes: h.standaloneBytes || obj.length, bases: h.bases, packed };
    } catch {
      return undefined;
    }
  }

  /** Ids of loose objects. */
  *looseIds(): Generator<string> {
    let dirs: string[];
    try {
      dirs = fs.readdirSync(this.objects);
    } catch {
      return;
    }
    for (const d of dirs.sort()) {
      if (!/^[0-9a-f]{2}$/.test(d)) continue;
      for (const f of fs.readdirSync(path.join(this.objects, d)).sort()) {
        const id = d + f;
        if (ID.test(id)) yield id;
      }
    }
  }

  /** Every chunk id present in the store, loose or packed. */
  *ids(): Generator<string> {
    const seen = new Set<string>();
    for (const id of this.looseIds()) {
      seen.add(id);
      yield id;
    }
    for (const id of [...this.packed().keys()].sort()) if (!seen.has(id)) yield id;
  }

  /** Removes a loose chunk (gc, tests). */
  remove(id: string): void {
    fs.rmSync(this.objectPath(id), { force: true });
    this.cache.delete(id);
  }

  /** Removes empty fan-out folders of loose objects (each costs a directory entry on disk). */
  pruneEmptyDirs(): void {
    let dirs: string[] = [];
    try {
      dirs = fs.readdirSync(this.objects);
    } catch {
      return;
    }
    for (const d of dirs) {
      try {
        fs.rmdirSync(path.join(this.objects, d));
      } catch {
        // not empty, or raced with a writer (which recreates it with mkdir -p)
      }
    }
  }

  /** Pack file names (without extension). */
  packNames(): string[] {
    try {
      return fs
        .readdirSync(this.packs)
        .filter((n) => n.endsWith('.idx'))
        .map((n) => n.slice(0, -4))
        .sort();
    } catch {
      return [];
    }
  }
}

/** A file's bytes, into a buffer from `alloc`. */
function readWhole(file: string, alloc: (n: number) => Buffer): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    return readFully(fd, alloc(fs.fstatSync(fd).size), 0, () => `${path.basename(file)} shrank while read`);
  } finally {
    fs.closeSync(fd);
  }
}

// The chunk store: content-addressed chunks beside git's object store, in
// `$(git rev-parse --git-common-dir)/mgit` so that all worktrees share it (docs/store-format.md).
// Writes are atomic (temp file + rename) and idempotent, so concurrent writers and a writer killed at
// any moment leave either a whole object or none. Every read is verified against the chunk's id.
// Never writes outside its own directory: ids are validated before they become paths.

import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ChunkCorruptError, ChunkMissingError, errorMessage } from '../errors.js';
import { decodeObject, encodeStandalone, objectBases, readHeader } from './object.js';

const ID = /^[0-9a-f]{64}$/;
/** No chunk is larger than a tensor piece or skeleton piece; objects claiming more are corrupt. */
export const MAX_CHUNK_BYTES = 64 * 1024 * 1024;

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
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

export class ChunkStore {
  readonly root: string;
  readonly objects: string;
  readonly tmp: string;

  constructor(root: string) {
    this.root = root;
    this.objects = path.join(root, 'objects');
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

  has(id: string): boolean {
    return fs.existsSync(this.objectPath(id));
  }

  /** A temp file path in the store (same file system as the objects, so rename is atomic). */
  tempPath(tag: string): string {
    return path.join(this.tmp, `${tag}-${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  /**
   * Stores a chunk. `width` is the element byte width, used to split floating-point bytes into
   * planes. The encoding is decoded and checked before it is stored.
   */
  put(data: Uint8Array, width: number, knownId?: string): PutResult {
    const id = knownId ?? sha256(data);
    const dest = this.objectPath(id);
    if (fs.existsSync(dest)) return { id, written: false, storedBytes: 0 };
    const parts = encodeStandalone(data, width);
    const obj = Buffer.concat(parts);
    const back = decodeObject(obj, MAX_CHUNK_BYTES);
    if (sha256(back) !== id) throw new Error(`encoding of chunk ${id} did not round-trip (bug)`);
    this.writeAtomic(dest, obj);
    return { id, written: true, storedBytes: obj.length };
  }

  private writeAtomic(dest: string, data: Uint8Array): void {
    const tmp = this.tempPath('obj');
    fs.writeFileSync(tmp, data, { mode: 0o444 });
    try {
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.renameSync(tmp, dest);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
  }

  /** Reads and verifies a chunk. */
  get(id: string): Buffer {
    let obj: Buffer;
    try {
      obj = fs.readFileSync(this.objectPath(id));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ChunkMissingError(id);
      throw e;
    }
    let raw: Buffer;
    try {
      raw = decodeObject(obj, MAX_CHUNK_BYTES);
    } catch (e) {
      throw new ChunkCorruptError(id, errorMessage(e));
    }
    if (sha256(raw) !== id) throw new ChunkCorruptError(id, 'its bytes do not match its id');
    return raw;
  }

  /**
   * The stored object as it is on disk (header and encoded payload), for transfer to shared storage.
   * Not verified here: the receiving side verifies with putEncoded.
   */
  getEncoded(id: string): Buffer {
    try {
      return fs.readFileSync(this.objectPath(id));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ChunkMissingError(id);
      throw e;
    }
  }

  /**
   * Stores an object received from elsewhere, after decoding it and checking it against its id. Its
   * delta bases (basesOf) must already be in this store.
   */
  putEncoded(id: string, obj: Uint8Array): PutResult {
    assertChunkId(id);
    const dest = this.objectPath(id);
    if (fs.existsSync(dest)) return { id, written: false, storedBytes: 0 };
    let raw: Buffer;
    try {
      raw = decodeObject(obj, MAX_CHUNK_BYTES);
    } catch (e) {
      throw new ChunkCorruptError(id, errorMessage(e));
    }
    if (sha256(raw) !== id) throw new ChunkCorruptError(id, 'its bytes do not match its id');
    this.writeAtomic(dest, obj);
    return { id, written: true, storedBytes: obj.length };
  }

  /**
   * The chunks an object needs to decode (its delta bases), read from its header. Shared storage must
   * hold these too, so that every object there decodes on its own (DESIGN §7).
   */
  basesOf(id: string): string[] {
    return objectBases(this.getEncoded(id));
  }

  /** Size of the stored object and its raw length, without decoding. */
  stat(id: string): { storedBytes: number; rawLength: number } | undefined {
    try {
      const p = this.objectPath(id);
      const st = fs.statSync(p);
      const fd = fs.openSync(p, 'r');
      try {
        const head = Buffer.alloc(16);
        fs.readSync(fd, head, 0, 16, 0);
        return { storedBytes: st.size, rawLength: readHeader(head).rawLength };
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return undefined;
    }
  }

  /** Every chunk id present in the store. */
  *ids(): Generator<string> {
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

  /** Removes a chunk (used by tests and, later, gc). */
  remove(id: string): void {
    fs.rmSync(this.objectPath(id), { force: true });
  }
}

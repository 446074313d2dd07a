// Chunk storage in a directory: a local folder, an NFS or SMB mount, or (the default for a path or
// file:// remote) a folder inside the remote repository. Objects are written to tmp/ and renamed into
// place after fsync, so a reader (another clone, on another machine) never sees a partial object and a
// writer killed at any moment leaves only stray temp files. Never creates the directory's parent: a
// missing parent usually means a share that is not mounted, and writing to the local disk instead
// would lose the chunks for everyone else.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StorageError } from '../errors.js';
import { mapLimit } from './pool.js';
import { checkMarker, MAX_OBJECT_BYTES, objectKey, STORAGE_FORMAT, STORAGE_MARKER, type Storage } from './storage.js';

const CHECK_CONCURRENCY = 32;

export class DirectoryStorage implements Storage {
  readonly url: string;
  private checked = false;

  constructor(readonly root: string) {
    this.url = root;
  }

  private file(id: string): string {
    return path.join(this.root, ...objectKey(id).split('/'));
  }

  /** Reads need the directory: a missing one is a set-up problem, not "every chunk is missing". */
  private async requireRoot(): Promise<void> {
    if (this.checked) return;
    try {
      const st = await fs.promises.stat(this.root);
      if (!st.isDirectory()) throw new StorageError('ESTORAGECONFIG', `storage ${this.root} is not a directory`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new StorageError('ESTORAGEUNREACHABLE', `storage directory ${this.root} does not exist (not mounted, or nothing was pushed there yet)`);
      }
      throw wrapFsError(e, this.root);
    }
    try {
      checkMarker(await fs.promises.readFile(path.join(this.root, STORAGE_MARKER), 'utf8'), this.url);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    this.checked = true;
  }

  async prepareForWrite(): Promise<void> {
    const parent = path.dirname(this.root);
    if (!fs.existsSync(parent)) {
      throw new StorageError('ESTORAGEUNREACHABLE', `cannot create storage ${this.root}: its parent ${parent} does not exist (is the share mounted?)`);
    }
    try {
      await fs.promises.mkdir(path.join(this.root, 'tmp'), { recursive: true });
      await fs.promises.mkdir(path.join(this.root, 'objects'), { recursive: true });
    } catch (e) {
      throw wrapFsError(e, this.root);
    }
    const marker = path.join(this.root, STORAGE_MARKER);
    try {
      checkMarker(await fs.promises.readFile(marker, 'utf8'), this.url);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      await this.writeAtomic(marker, Buffer.from(STORAGE_FORMAT + '\n'));
    }
    this.checked = true;
  }

  async has(ids: string[]): Promise<Set<string>> {
    const present = new Set<string>();
    if (!fs.existsSync(this.root)) return present; // new storage (prepareForWrite creates it before uploads)
    await this.requireRoot();
    await mapLimit(ids, CHECK_CONCURRENCY, async (id) => {
      try {
        const st = await fs.promises.stat(this.file(id));
        // a zero-length object can only be damage (every object has a 16-byte header): upload again
        if (st.isFile() && st.size > 0) present.add(id);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw wrapFsError(e, this.root);
      }
    });
    return present;
  }

  async get(id: string): Promise<Buffer | undefined> {
    await this.requireRoot();
    let fh: fs.promises.FileHandle;
    try {
      fh = await fs.promises.open(this.file(id), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw wrapFsError(e, this.root);
    }
    try {
      const { size } = await fh.stat();
      if (size > MAX_OBJECT_BYTES) throw new StorageError('ESTORAGE', `object ${id} on storage ${this.url} is ${size} bytes, more than any chunk object can be`);
      const buf = Buffer.allocUnsafe(size);
      let off = 0;
      while (off < size) {
        const { bytesRead } = await fh.read(buf, off, size - off, off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      return buf.subarray(0, off);
    } finally {
      await fh.close();
    }
  }

  async put(id: string, obj: Buffer): Promise<void> {
    const dest = this.file(id);
    try {
      await fs.promises.mkdir(path.dirname(dest), { recursive: true });
      await this.writeAtomic(dest, obj);
    } catch (e) {
      throw e instanceof StorageError ? e : wrapFsError(e, this.root);
    }
  }

  private async writeAtomic(dest: string, data: Buffer): Promise<void> {
    const tmp = path.join(this.root, 'tmp', `${path.basename(dest)}-${process.pid}-${randomBytes(6).toString('hex')}`);
    const fh = await fs.promises.open(tmp, 'w', 0o444);
    try {
      await fh.writeFile(data);
      await fh.datasync(); // the rename must never publish a file whose bytes are not on disk yet
    } catch (e) {
      await fh.close();
      await fs.promises.rm(tmp, { force: true });
      throw e;
    }
    await fh.close();
    try {
      await fs.promises.rename(tmp, dest);
    } catch (e) {
      await fs.promises.rm(tmp, { force: true });
      throw e;
    }
  }

  async close(): Promise<void> {}
}

function wrapFsError(e: unknown, root: string): Error {
  const err = e as NodeJS.ErrnoException;
  if (err instanceof StorageError) return err;
  if (err.code === 'EACCES' || err.code === 'EPERM' || err.code === 'EROFS') {
    return new StorageError('ESTORAGEAUTH', `storage ${root}: ${err.code === 'EROFS' ? 'read-only file system' : 'permission denied'} (${err.message})`);
  }
  if (err.code === 'ENOSPC' || err.code === 'EDQUOT') return new StorageError('ESTORAGE', `storage ${root} is full (${err.message})`);
  if (err.code === 'EIO' || err.code === 'ESTALE' || err.code === 'ETIMEDOUT') return new StorageError('ESTORAGEUNREACHABLE', `storage ${root}: ${err.message}`);
  return new StorageError('ESTORAGE', `storage ${root}: ${err.message ?? String(e)}`);
}

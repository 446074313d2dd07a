// Turning what a user or git names (a blob id, `REV:path`, a file) into a ModelSource. Blobs that are
// mgit pointers read their tensors from the chunk store; anything else (a model committed before it was
// tracked, a file outside the repository, a work-tree pointer left by skip-smudge) is handled too.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parsePointer, pointerVersion, MAX_POINTER_BYTES } from '../codec/pointer.js';
import { MgitError } from '../errors.js';
import type { CatFile } from '../git/cat-file.js';
import { blobToFile, resolveBlob } from '../git/diff.js';
import type { ChunkStore } from '../store/store.js';
import { FileSource, PointerSource, type ModelSource } from './source.js';

/** A FileSource over a temporary copy, deleted on close. */
class TempFileSource extends FileSource {
  override close(): void {
    super.close();
    fs.rmSync(this.path, { force: true });
  }
}

export class Resolver {
  /** `cat` and `store` are absent outside a repository: then only plain files resolve. */
  constructor(
    private readonly cat: CatFile | undefined,
    private readonly store: ChunkStore | undefined,
    private readonly cwd: string,
  ) {}

  /** A blob by object id. Pointers are parsed; other content is copied to a temp file and described. */
  async blob(label: string, oid: string): Promise<ModelSource> {
    if (!this.cat || !this.store) throw new MgitError('ENOREPO', `${label}: blobs can only be read inside a git repository`);
    const obj = await this.cat.read(oid, MAX_POINTER_BYTES);
    if (obj.missing || obj.type !== 'blob') throw new MgitError('ENOBLOB', `${label}: object ${oid} is not a blob in this repository`);
    if (obj.data && pointerVersion(obj.data) !== undefined) return new PointerSource(label, parsePointer(obj.data), this.store);
    const tmp = this.store.tempPath('diff-blob');
    blobToFile(oid, tmp, this.cwd);
    try {
      return new TempFileSource(label, tmp);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
  }

  /** A file on disk; a file that holds a pointer (a checkout with smudge skipped) stands for its model. */
  file(label: string, file: string): ModelSource {
    const head = Buffer.alloc(32);
    const fd = fs.openSync(file, 'r');
    let n: number;
    let size: number;
    try {
      n = fs.readSync(fd, head, 0, 32, 0);
      size = fs.fstatSync(fd).size;
    } finally {
      fs.closeSync(fd);
    }
    if (pointerVersion(head.subarray(0, n)) !== undefined && size <= MAX_POINTER_BYTES) {
      if (!this.store) throw new MgitError('ENOREPO', `${label} is an mgit pointer: compare it inside the repository that holds its chunks`);
      try {
        return new PointerSource(label, parsePointer(fs.readFileSync(file)), this.store);
      } catch {
        // a damaged pointer is just bytes
      }
    }
    return new FileSource(label, file);
  }

  /** `REV:path`, `:path`, `:2:path` (via git), else a file path relative to the current directory. */
  async named(arg: string): Promise<ModelSource> {
    if (fs.existsSync(arg) && fs.statSync(arg).isFile()) return this.file(arg, arg);
    const oid = resolveBlob(arg, this.cwd);
    if (oid) return this.blob(arg, oid);
    throw new MgitError('ENOMODEL', `${arg}: no such file, and not a blob name such as HEAD:${path.basename(arg)}`);
  }

  /** True when `arg` names a model without being a revision: an existing file or a `REV:path` blob. */
  isModelName(arg: string): boolean {
    return (fs.existsSync(arg) && fs.statSync(arg).isFile()) || resolveBlob(arg, this.cwd) !== undefined;
  }
}

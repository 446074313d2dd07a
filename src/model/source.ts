// A model version as diff and merge see it: its pointer (the tensor manifest) plus a way to read tensor
// pieces and non-tensor ("skeleton") bytes. Two kinds: a pointer whose chunks are in the store (any
// committed or staged version), and a file on disk (a work-tree file, or any ONNX file), described by
// the exact pointer clean would give it, hashed but never stored.
//
// Must never: write to the chunk store (a diff changes nothing), or read a whole model into memory
// (tensors are read one piece at a time, the skeleton only when asked).

import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { type ChunkRef, type Pointer, type TensorPart } from '../codec/pointer.js';
import { buildPointer, hashSink, readFully } from '../filter/clean.js';
import { ChunkMissingError } from '../errors.js';
import { sha256, type ChunkStore } from '../store/store.js';

export interface ModelSource {
  /** what the user called it: `HEAD~1:models/a.onnx`, `index`, a file path */
  readonly label: string;
  readonly pointer: Pointer;
  /** bytes of piece `i` of a tensor part of this pointer */
  piece(part: TensorPart, i: number): Buffer;
  /** true when piece() can read every piece of these parts (chunks local, or a file) */
  canRead(parts: TensorPart[]): boolean;
  /** every skeleton byte (the bytes between tensor payloads), concatenated in file order */
  skeleton(): Buffer;
  close(): void;
}

/** A version stored as a pointer: pieces come from the chunk store, verified on read. */
export class PointerSource implements ModelSource {
  private skel?: Buffer;
  constructor(
    readonly label: string,
    readonly pointer: Pointer,
    private readonly store: ChunkStore,
  ) {}

  piece(part: TensorPart, i: number): Buffer {
    return this.store.get(part.pieces[i]!.chunk);
  }

  canRead(parts: TensorPart[]): boolean {
    return parts.every((p) => p.pieces.every((c) => this.store.has(c.chunk)));
  }

  skeleton(): Buffer {
    this.skel ??= Buffer.concat(this.pointer.skeleton.map((s) => this.store.get(s.chunk)));
    return this.skel;
  }

  /** The skeleton chunks that are not local (a graph diff needs them). */
  missingSkeleton(): string[] {
    return this.pointer.skeleton.filter((s) => !this.store.has(s.chunk)).map((s) => s.chunk);
  }

  close(): void {}
}

/** A file on disk, described by the pointer clean would give it (same cuts, same ids), without storing it. */
export class FileSource implements ModelSource {
  readonly pointer: Pointer;
  private readonly fd: number;
  private readonly offsets = new Map<TensorPart, number>();

  constructor(
    readonly label: string,
    readonly path: string,
  ) {
    this.fd = fs.openSync(path, 'r');
    try {
      const size = fs.fstatSync(this.fd).size;
      this.pointer = buildPointer(hashSink, this.fd, size, hashFd(this.fd, size));
    } catch (e) {
      fs.closeSync(this.fd);
      throw e;
    }
    let pos = 0;
    for (const part of this.pointer.parts) {
      if (part.kind === 'tensor') this.offsets.set(part, pos);
      pos += part.kind === 'gap' ? part.length : part.pieces.reduce((a, p) => a + p.length, 0);
    }
  }

  piece(part: TensorPart, i: number): Buffer {
    const start = this.offsets.get(part);
    if (start === undefined) throw new Error('tensor part is not from this file');
    let off = start;
    for (let k = 0; k < i; k++) off += part.pieces[k]!.length;
    const ref: ChunkRef = part.pieces[i]!;
    const buf = Buffer.allocUnsafe(ref.length);
    readFully(this.fd, buf, ref.length, off);
    if (sha256(buf) !== ref.chunk) throw new ChunkMissingError(ref.chunk, `${this.path} changed while it was being read`);
    return buf;
  }

  canRead(): boolean {
    return true;
  }

  skeleton(): Buffer {
    const out: Buffer[] = [];
    let pos = 0;
    for (const part of this.pointer.parts) {
      if (part.kind === 'gap') {
        const b = Buffer.allocUnsafe(part.length);
        readFully(this.fd, b, part.length, pos);
        out.push(b);
        pos += part.length;
      } else {
        pos += part.pieces.reduce((a, p) => a + p.length, 0);
      }
    }
    return Buffer.concat(out);
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

function hashFd(fd: number, size: number): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(Math.min(size, 4 << 20) || 1);
  for (let pos = 0; pos < size; ) {
    const n = Math.min(buf.length, size - pos);
    readFully(fd, buf, n, pos);
    h.update(buf.subarray(0, n));
    pos += n;
  }
  return h.digest('hex');
}

/** Tensor parts of a pointer, in file order. */
export function tensorParts(p: Pointer): TensorPart[] {
  return p.parts.filter((x): x is TensorPart => x.kind === 'tensor');
}

/** Payload length of a tensor part. */
export function partBytes(part: TensorPart): number {
  return part.pieces.reduce((a, p) => a + p.length, 0);
}

/** Identity of a tensor's content: its chunk ids in order (one id for tensors up to 16 MiB). */
export function partContent(part: TensorPart): string {
  return part.pieces.length === 1 ? part.pieces[0]!.chunk : part.pieces.map((p) => p.chunk).join('+');
}

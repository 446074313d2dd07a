// smudge: pointer -> the model's bytes, rebuilt by splicing tensor chunks into the skeleton. Every
// chunk is verified against its id as it is read (bases included) and the pointer's arithmetic was
// checked when it was parsed, so the bytes are exactly the ones the chunk ids name: a corrupt store can
// never silently produce a different model. (Hashing the whole file again would cost a third of the
// CPU of a checkout and prove nothing more; `git mgit fsck --full` does it.)

import type { Pointer } from '../codec/pointer.js';
import { MgitError } from '../errors.js';
import type { PrefetchReader } from '../store/prefetch.js';
import type { ChunkStore } from '../store/store.js';

/** The chunks a pointer's bytes come from, in the order the splicer consumes them. */
export function chunkOrder(p: Pointer): string[] {
  const order: string[] = [];
  let sk = 0;
  let skLeft = 0;
  for (const part of p.parts) {
    if (part.kind === 'tensor') {
      for (const piece of part.pieces) order.push(piece.chunk);
      continue;
    }
    for (let need = part.length; need > 0; ) {
      if (skLeft === 0) {
        order.push(p.skeleton[sk].chunk);
        skLeft = p.skeleton[sk++].length;
      }
      const n = Math.min(need, skLeft);
      need -= n;
      skLeft -= n;
    }
  }
  return order;
}

/**
 * Turns chunks, fed in chunkOrder, into the file's bytes: each feed returns the slices of the file that
 * chunk completes (a skeleton piece may serve several gaps, around tensors).
 */
export class Splicer {
  private part = 0;
  private piece = 0;
  private gapLeft: number;
  private skeleton: Buffer = Buffer.alloc(0);
  private skPos = 0;
  private total = 0;

  constructor(private readonly p: Pointer) {
    this.gapLeft = p.parts[0]?.kind === 'gap' ? p.parts[0].length : 0;
  }

  feed(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    const part = this.p.parts[this.part];
    if (part?.kind === 'tensor') {
      out.push(chunk);
      this.total += chunk.length;
      if (++this.piece === part.pieces.length) this.advance();
    } else {
      this.skeleton = chunk;
      this.skPos = 0;
    }
    // Serve gaps from the skeleton piece until a tensor or the next skeleton piece is needed.
    while (this.part < this.p.parts.length && this.p.parts[this.part].kind === 'gap' && this.skPos < this.skeleton.length) {
      const n = Math.min(this.gapLeft, this.skeleton.length - this.skPos);
      out.push(this.skeleton.subarray(this.skPos, this.skPos + n));
      this.total += n;
      this.skPos += n;
      this.gapLeft -= n;
      if (this.gapLeft === 0) this.advance();
    }
    return out;
  }

  private advance(): void {
    this.part++;
    this.piece = 0;
    const next = this.p.parts[this.part];
    this.gapLeft = next?.kind === 'gap' ? next.length : 0;
  }

  /** Checks that the whole file was produced. */
  finish(): void {
    if (this.total !== this.p.size || this.part !== this.p.parts.length) {
      throw new MgitError('EMISMATCH', `rebuilt file has ${this.total} bytes, its pointer says ${this.p.size}: run git mgit fsck`);
    }
  }
}

/** Yields the file's bytes in order. Throws (naming the chunk) on a missing or corrupt chunk. */
export function* reconstruct(store: ChunkStore, p: Pointer): Generator<Buffer> {
  const s = new Splicer(p);
  for (const id of chunkOrder(p)) yield* s.feed(store.get(id, { cache: false }));
  s.finish();
}

/**
 * The same bytes as `reconstruct`, with chunks decoded ahead by a worker thread: what the filter uses,
 * so decoding overlaps with git's own work.
 */
export async function* reconstructAhead(reader: PrefetchReader, p: Pointer): AsyncGenerator<Buffer> {
  const s = new Splicer(p);
  for await (const chunk of reader.read(chunkOrder(p))) yield* s.feed(chunk);
  s.finish();
}

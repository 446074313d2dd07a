// smudge: pointer -> the model's bytes, rebuilt by splicing tensor chunks into the skeleton. Every
// chunk is verified against its id as it is read (bases included) and the pointer's arithmetic was
// checked when it was parsed, so the bytes are exactly the ones the chunk ids name: a corrupt store can
// never silently produce a different model. (Hashing the whole file again would cost a third of the
// CPU of a checkout and prove nothing more; fsck --full does it.)

import type { Pointer } from '../codec/pointer.js';
import { MgitError } from '../errors.js';
import type { PrefetchReader } from '../store/prefetch.js';
import type { ChunkStore } from '../store/store.js';

/** Yields the file's bytes in order. Throws (naming the chunk) on a missing or corrupt chunk. */
export function* reconstruct(store: ChunkStore, p: Pointer): Generator<Buffer> {
  let total = 0;
  const emit = (b: Buffer): Buffer => {
    total += b.length;
    return b;
  };
  let skIndex = 0;
  let skBuf: Buffer = Buffer.alloc(0);
  let skPos = 0;
  for (const part of p.parts) {
    if (part.kind === 'gap') {
      let need = part.length;
      while (need > 0) {
        if (skPos === skBuf.length) {
          const ref = p.skeleton[skIndex++];
          skBuf = store.get(ref.chunk, { cache: false });
          skPos = 0;
        }
        const n = Math.min(need, skBuf.length - skPos);
        yield emit(skBuf.subarray(skPos, skPos + n));
        skPos += n;
        need -= n;
      }
    } else {
      for (const piece of part.pieces) yield emit(store.get(piece.chunk, { cache: false }));
    }
  }
  if (total !== p.size) {
    throw new MgitError('EMISMATCH', `rebuilt file has ${total} bytes, its pointer says ${p.size}: run git mgit fsck`);
  }
}

/**
 * The same bytes as `reconstruct`, with chunks decoded ahead by a worker thread: what the filter and
 * `git mgit checkout` use for large models.
 */
export async function* reconstructAhead(reader: PrefetchReader, p: Pointer): AsyncGenerator<Buffer> {
  const order: string[] = [];
  let sk = 0;
  let skLeft = 0;
  for (const part of p.parts) {
    if (part.kind === 'gap') {
      let need = part.length;
      while (need > 0) {
        if (skLeft === 0) {
          order.push(p.skeleton[sk].chunk);
          skLeft = p.skeleton[sk++].length;
        }
        const n = Math.min(need, skLeft);
        need -= n;
        skLeft -= n;
      }
    } else {
      for (const piece of part.pieces) order.push(piece.chunk);
    }
  }
  const chunks = reader.read(order);
  const next = async (): Promise<Buffer> => {
    const r = await chunks.next();
    if (r.done) throw new MgitError('EMISMATCH', 'pointer parts and chunks disagree (bug)');
    return r.value;
  };
  let total = 0;
  let skBuf: Buffer = Buffer.alloc(0);
  let skPos = 0;
  for (const part of p.parts) {
    if (part.kind === 'gap') {
      let need = part.length;
      while (need > 0) {
        if (skPos === skBuf.length) {
          skBuf = await next();
          skPos = 0;
        }
        const n = Math.min(need, skBuf.length - skPos);
        yield skBuf.subarray(skPos, skPos + n);
        total += n;
        skPos += n;
        need -= n;
      }
    } else {
      for (let i = 0; i < part.pieces.length; i++) {
        const b = await next();
        total += b.length;
        yield b;
      }
    }
  }
  if (total !== p.size) throw new MgitError('EMISMATCH', `rebuilt file has ${total} bytes, its pointer says ${p.size}: run git mgit fsck`);
}

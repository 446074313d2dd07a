// smudge: pointer -> the model's bytes, rebuilt by splicing tensor chunks into the skeleton. Every
// chunk is verified as it is read, and the whole file is checked against the pointer's size and sha256,
// so a corrupt store can never silently produce a different model.

import { createHash } from 'node:crypto';
import type { Pointer } from '../codec/pointer.js';
import { MgitError } from '../errors.js';
import type { ChunkStore } from '../store/store.js';

/** Yields the file's bytes in order. Throws (naming the chunk) on a missing or corrupt chunk. */
export function* reconstruct(store: ChunkStore, p: Pointer): Generator<Buffer> {
  const hash = createHash('sha256');
  let total = 0;
  const emit = (b: Buffer): Buffer => {
    hash.update(b);
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
          skBuf = store.get(ref.chunk);
          skPos = 0;
        }
        const n = Math.min(need, skBuf.length - skPos);
        yield emit(skBuf.subarray(skPos, skPos + n));
        skPos += n;
        need -= n;
      }
    } else {
      for (const piece of part.pieces) yield emit(store.get(piece.chunk));
    }
  }
  if (total !== p.size || hash.digest('hex') !== p.sha256) {
    throw new MgitError('EMISMATCH', `rebuilt file does not match its pointer (size ${total}, expected ${p.size}): the store is inconsistent, run git mgit fsck`);
  }
}

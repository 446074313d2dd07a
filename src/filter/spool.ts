// Collects a stream of content into a temp file inside the store while hashing it, so clean can scan
// the model with positional reads (memory stays flat whatever the model's size) and look up the clean
// cache by hash before doing any work.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

export interface Spooled {
  path: string;
  size: number;
  sha256: string;
  /** the first bytes, for recognising pointers */
  head: Buffer;
}

const HEAD_BYTES = 64;

export async function spool(content: AsyncIterable<Uint8Array>, dest: string): Promise<Spooled> {
  const hash = createHash('sha256');
  const fd = fs.openSync(dest, 'w', 0o600);
  let size = 0;
  let head = Buffer.alloc(0);
  try {
    for await (const piece of content) {
      hash.update(piece);
      if (head.length < HEAD_BYTES) head = Buffer.concat([head, piece.subarray(0, HEAD_BYTES - head.length)]);
      let off = 0;
      while (off < piece.length) off += fs.writeSync(fd, piece, off, piece.length - off);
      size += piece.length;
    }
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(dest, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  return { path: dest, size, sha256: hash.digest('hex'), head };
}

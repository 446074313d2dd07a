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

export interface Collected {
  /** the content, when it fit in memory */
  data?: Buffer;
  /** the temp file holding it, when it did not (the caller removes it) */
  path?: string;
  head: Buffer;
}

/**
 * Reads content into memory up to `limit` bytes, spilling to a temp file beyond: smudge input is
 * almost always a small pointer, and a temp file per request cost more than the request itself.
 */
export async function collect(content: AsyncIterable<Uint8Array>, tempPath: () => string, limit: number): Promise<Collected> {
  const parts: Buffer[] = [];
  let size = 0;
  let fd: number | undefined;
  let file: string | undefined;
  try {
    for await (const piece of content) {
      if (fd === undefined && size + piece.length > limit) {
        file = tempPath();
        fd = fs.openSync(file, 'w', 0o600);
        for (const p of parts) writeAll(fd, p);
        parts.length = 0;
      }
      if (fd !== undefined) writeAll(fd, piece);
      else parts.push(Buffer.from(piece));
      size += piece.length;
    }
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    if (file) fs.rmSync(file, { force: true });
    throw e;
  }
  if (fd === undefined) {
    const data = Buffer.concat(parts, size);
    return { data, head: data.subarray(0, HEAD_BYTES) };
  }
  fs.closeSync(fd);
  const head = Buffer.alloc(Math.min(HEAD_BYTES, size));
  const rfd = fs.openSync(file!, 'r');
  fs.readSync(rfd, head, 0, head.length, 0);
  fs.closeSync(rfd);
  return { path: file, head };
}

function writeAll(fd: number, b: Uint8Array): void {
  let off = 0;
  while (off < b.length) off += fs.writeSync(fd, b, off, b.length - off);
}

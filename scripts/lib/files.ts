// Shared by demo and bench. Owns: file measurements (apparent sizes of folders, sha256 of files) and
// putting a source file into a work tree.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Apparent size of everything under `dir`: the sum of file sizes (st_size), each inode once, like
 * `du -sb` except that directory entries themselves are not counted (their 4 KiB per folder is a
 * file-system artifact that would swamp small stores with fan-out folders). 0 when `dir` is missing.
 */
export function apparentSize(dir: string): number {
  const seen = new Set<string>();
  let total = 0;
  const walk = (p: string): void => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(p)) walk(path.join(p, name));
      return;
    }
    const id = `${st.dev}:${st.ino}`;
    if (seen.has(id)) return;
    seen.add(id);
    total += st.size;
  };
  walk(dir);
  return total;
}

/** sha256 of a file, read in pieces so that a 1 GB model does not sit in memory. */
export function sha256File(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(8 * 1024 * 1024);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * Puts `src` at `dest` as a user would have it: a fresh, writable file. With `link`, a hard link is
 * tried first (only for sources the script owns: git never writes into a work-tree file in place,
 * it replaces it, so the source cannot change); otherwise, or across file systems, a copy.
 */
export function placeFile(src: string, dest: string, link = false): void {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.rmSync(dest, { force: true });
  if (link) {
    try {
      fs.linkSync(src, dest);
      return;
    } catch {
      // other file system: copy
    }
  }
  fs.copyFileSync(src, dest);
  fs.chmodSync(dest, 0o644); // corpus files are read-only; a user's model is not
}

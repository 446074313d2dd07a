// Pack files: many objects in one file with a sorted index, so models with thousands of tensors do not
// mean thousands of files, and transfers can move them in bulk. Written whole to a temp file and
// renamed into place (index last), so a reader sees a complete pack or none.
//
//   pack-<sha256>.pack   "MGP\x01", then objects back to back
//   pack-<sha256>.idx    "MGI\x01", u32 count, then count x (32-byte id, u64 offset, u32 length), by id

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

const PACK_MAGIC = Buffer.from('MGP\x01', 'latin1');
const IDX_MAGIC = Buffer.from('MGI\x01', 'latin1');
const ENTRY = 44;

export interface PackEntry {
  pack: string;
  offset: number;
  length: number;
}

/** Every entry of one pack's index, into `into` (an id already there keeps its entry). */
export function readPackIndex(idxFile: string, packFile: string, into: Map<string, PackEntry>): void {
  const one = new PackIndexes();
  one.add(idxFile, packFile);
  for (const [id, e] of one.entries()) if (!into.has(id)) into.set(id, e);
}

/**
 * The indexes of a store's packs, searched in place (binary search over each sorted index): a filter
 * that reads a few hundred objects should not first parse every entry of every pack.
 */
export class PackIndexes {
  private readonly idx: { buf: Buffer; n: number; pack: string }[] = [];

  add(idxFile: string, packFile: string): void {
    const b = fs.readFileSync(idxFile);
    if (b.length < 8 || !b.subarray(0, 4).equals(IDX_MAGIC)) throw new Error(`bad pack index ${path.basename(idxFile)}`);
    const n = b.readUInt32LE(4);
    if (b.length !== 8 + n * ENTRY) throw new Error(`truncated pack index ${path.basename(idxFile)}`);
    this.idx.push({ buf: b, n, pack: packFile });
  }

  /** The entry of the first pack (in name order) that holds the object. */
  get(id: string): PackEntry | undefined {
    if (this.idx.length === 0 || id.length !== 64) return undefined;
    const key = Buffer.from(id, 'hex');
    for (const { buf, n, pack } of this.idx) {
      let lo = 0;
      let hi = n - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const p = 8 + mid * ENTRY;
        const c = buf.compare(key, 0, 32, p, p + 32);
        if (c === 0) return entryAt(buf, p, pack);
        if (c > 0) hi = mid - 1;
        else lo = mid + 1;
      }
    }
    return undefined;
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  /** Every object in the packs, with its entry (an id in two packs once, from the first). */
  *entries(): Generator<[string, PackEntry]> {
    const seen = new Set<string>();
    for (const { buf, n, pack } of this.idx) {
      for (let i = 0; i < n; i++) {
        const p = 8 + i * ENTRY;
        const id = buf.toString('hex', p, p + 32);
        if (!seen.has(id)) {
          seen.add(id);
          yield [id, entryAt(buf, p, pack)];
        }
      }
    }
  }

  /** Every id in the packs (an id in two packs once). */
  *keys(): Generator<string> {
    for (const [id] of this.entries()) yield id;
  }
}

function entryAt(idx: Buffer, p: number, pack: string): PackEntry {
  return { pack, offset: Number(idx.readBigUInt64LE(p + 32)), length: idx.readUInt32LE(p + 40) };
}

/** An object's bytes from its pack, through an open file of the pack (or one opened for this read). */

export function readPacked(e: PackEntry, openFd?: number, alloc: (n: number) => Buffer = Buffer.allocUnsafe): Buffer {
  const fd = openFd ?? fs.openSync(e.pack, 'r');
  try {
    return readFully(fd, alloc(e.length), e.offset, () => `pack ${path.basename(e.pack)} is truncated`);
  } finally {
    if (openFd === undefined) fs.closeSync(fd);
  }
}

/** Fills `buf` from `fd` at `position`; `short` names the file when it ends first. */
export function readFully(fd: number, buf: Buffer, position: number, short: () => string): Buffer {
  for (let got = 0; got < buf.length; ) {
    const n = fs.readSync(fd, buf, got, buf.length - got, position + got);
    if (n === 0) throw new Error(short());
    got += n;
  }
  return buf;
}

/** Appends objects to a new pack in the store's temp folder; `finish` moves it into place, index last. */
export class PackWriter {
  private readonly fd: number;
  private readonly tmpPack: string;
  private readonly entries: [string, number, number][] = [];
  private readonly hash = createHash('sha256');
  private offset = 0;

  constructor(
    private readonly dir: string,
    private readonly tmpPath: (tag: string) => string,
  ) {
    this.tmpPack = tmpPath('pack');
    this.fd = fs.openSync(this.tmpPack, 'w', 0o444);
    this.write(PACK_MAGIC);
  }

  private write(b: Buffer): void {
    this.hash.update(b);
    let o = 0;
    while (o < b.length) o += fs.writeSync(this.fd, b, o, b.length - o);
    this.offset += b.length;
  }

  add(id: string, obj: Buffer): void {
    this.entries.push([id, this.offset, obj.length]);
    this.write(obj);
  }

  get count(): number {
    return this.entries.length;
  }

  /** Renames the pack and then its index into place; returns the pack's name, or undefined when empty. */
  finish(): string | undefined {
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    if (this.entries.length === 0) {
      fs.rmSync(this.tmpPack, { force: true });
      return undefined;
    }
    const entries = [...this.entries].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const idx = Buffer.alloc(8 + entries.length * ENTRY);
    IDX_MAGIC.copy(idx, 0);
    idx.writeUInt32LE(entries.length, 4);
    entries.forEach(([id, off, len], i) => {
      const p = 8 + i * ENTRY;
      Buffer.from(id, 'hex').copy(idx, p);
      idx.writeBigUInt64LE(BigInt(off), p + 32);
      idx.writeUInt32LE(len, p + 40);
    });
    const name = `pack-${this.hash.digest('hex')}`;
    fs.mkdirSync(this.dir, { recursive: true });
    fs.renameSync(this.tmpPack, path.join(this.dir, `${name}.pack`));
    const tmpIdx = this.tmpPath('idx');
    fs.writeFileSync(tmpIdx, idx, { mode: 0o444 });
    fs.renameSync(tmpIdx, path.join(this.dir, `${name}.idx`));
    return name;
  }

  /** Drops the unfinished pack (on failure). */
  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
    fs.rmSync(this.tmpPack, { force: true });
  }
}

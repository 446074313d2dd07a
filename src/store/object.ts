// The stored form of one chunk (docs/store-format.md). A chunk's id is the sha256 of its raw bytes;
// how those bytes are kept is private to the store and recorded in the object, so a repack may
// re-encode a chunk (pick another base, another transform) without any pointer changing.
// Pure: no disk, no git. Decoding takes a callback that supplies base chunks.
//
//   0   magic "MGC" + object format version 1
//   4   u8  transform (transforms.ts)
//   5   u8  element width (byte planes)
//   6   u8  delta depth: 0 standalone, else 1 + the deepest base's depth
//   7   u8  number of bases
//   8   u64 raw length
//   16  u64 standalone bytes: what the chunk would take standalone (for stats)
//   24  32 bytes per base: base chunk ids
//   ..  u16 params length, params
//   ..  u8  streams; per stream: u8 coding (0 raw, 1 zstd, 2 zstd with the bases as dictionary),
//           u32 stored length, u32 raw length
//   ..  stream bytes

import { zstdCompress, zstdCompressWithDict, zstdDecompress } from '../codec/zstd.js';
import { forward, inverse, Transform, type Forward } from './transforms.js';

export const OBJECT_MAGIC = Buffer.from('MGC\x01', 'latin1');
const FIXED = 24;
export const MAX_DEPTH = 50;

const enum Coding {
  Raw = 0,
  Zstd = 1,
  ZstdDict = 2,
}

export interface ObjectHeader {
  transform: number;
  width: number;
  depth: number;
  rawLength: number;
  standaloneBytes: number;
  bases: string[];
}

export function readHeader(obj: Uint8Array): ObjectHeader {
  const b = Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength);
  if (b.length < FIXED || !b.subarray(0, 4).equals(OBJECT_MAGIC)) throw new Error('not an mgit chunk object (bad magic)');
  const nb = b[7];
  if (b.length < FIXED + nb * 32) throw new Error('truncated object header');
  const rawLength = Number(b.readBigUInt64LE(8));
  const standaloneBytes = Number(b.readBigUInt64LE(16));
  if (!Number.isSafeInteger(rawLength) || !Number.isSafeInteger(standaloneBytes)) throw new Error('length out of range');
  const bases: string[] = [];
  for (let i = 0; i < nb; i++) bases.push(b.toString('hex', FIXED + i * 32, FIXED + (i + 1) * 32));
  return { transform: b[4], width: b[5], depth: b[6], rawLength, standaloneBytes, bases };
}

/** Chunk ids an object refers to (delta bases); standalone encodings have none. */
export function objectBases(obj: Uint8Array): string[] {
  return readHeader(obj).bases;
}

export interface Base {
  id: string;
  bytes: Uint8Array;
  depth: number;
}

export interface EncodeOptions {
  transform: Transform;
  width: number;
  bases?: Base[];
  /** transform argument (quantization rows, cast kind) */
  arg?: number;
  /** zstd level for the streams (1 in clean: fast and, on weights, as good as higher levels) */
  level?: number;
  /** recorded for stats; defaults to this encoding's size when standalone */
  standaloneBytes?: number;
}

/** Encodes a chunk, or returns undefined when the transform does not apply to these inputs. */
export function encodeObject(raw: Uint8Array, opts: EncodeOptions): Buffer | undefined {
  const bases = opts.bases ?? [];
  const level = opts.level ?? 1;
  const fwd: Forward | undefined = forward(opts.transform, { raw, width: opts.width, bases: bases.map((b) => b.bytes), arg: opts.arg });
  if (!fwd) return undefined;
  const streams: { coding: Coding; data: Buffer; rawLength: number }[] = [];
  if (opts.transform === Transform.Dict) {
    const dict = Buffer.concat(bases.map((b) => b.bytes));
    if (dict.length < 8 || dict.readUInt32LE(0) === 0xec30a437) return undefined; // a dictionary header would change its meaning
    // level 1's small hash table misses most matches in a large dictionary; level 3 finds them
    streams.push({ coding: Coding.ZstdDict, data: zstdCompressWithDict(raw, dict, Math.max(level, 3)), rawLength: raw.length });
  } else {
    for (const s of fwd.streams) {
      const z = s.length >= 64 ? zstdCompress(s, level) : undefined;
      if (z && z.length < s.length - (s.length >> 6)) streams.push({ coding: Coding.Zstd, data: z, rawLength: s.length });
      else streams.push({ coding: Coding.Raw, data: s, rawLength: s.length });
    }
  }
  const depth = bases.length ? 1 + Math.max(...bases.map((b) => b.depth)) : 0;
  if (depth > MAX_DEPTH) return undefined;
  const head = Buffer.alloc(FIXED + bases.length * 32 + 2 + fwd.params.length + 1 + streams.length * 9);
  OBJECT_MAGIC.copy(head, 0);
  head[4] = opts.transform;
  head[5] = opts.width;
  head[6] = depth;
  head[7] = bases.length;
  head.writeBigUInt64LE(BigInt(raw.length), 8);
  let p = FIXED;
  for (const b of bases) p += Buffer.from(b.id, 'hex').copy(head, p);
  head.writeUInt16LE(fwd.params.length, p);
  p += 2;
  p += fwd.params.copy(head, p);
  head[p++] = streams.length;
  for (const s of streams) {
    head[p] = s.coding;
    head.writeUInt32LE(s.data.length, p + 1);
    head.writeUInt32LE(s.rawLength, p + 5);
    p += 9;
  }
  const total = head.length + streams.reduce((a, s) => a + s.data.length, 0);
  head.writeBigUInt64LE(BigInt(opts.standaloneBytes ?? (bases.length ? 0 : total)), 16);
  return Buffer.concat([head, ...streams.map((s) => s.data)], total);
}

/** The standalone encoding: byte planes, each zstd-compressed or raw, whichever is smaller. */
export function encodeStandalone(raw: Uint8Array, width: number, level = 1): Buffer {
  return encodeObject(raw, { transform: width > 1 ? Transform.Planes : Transform.Identity, width, level })!;
}

/**
 * Decodes an object to the chunk's raw bytes. `getBase` supplies (verified) base chunks. The caller
 * verifies the result against the chunk id.
 */
export function decodeObject(obj: Uint8Array, maxLength: number, getBase: (id: string) => Buffer = noBase): Buffer {
  const h = readHeader(obj);
  if (h.rawLength > maxLength) throw new Error(`object claims ${h.rawLength} bytes, over the ${maxLength} limit`);
  if (h.width < 1 || h.width > 16) throw new Error(`bad element width ${h.width}`);
  const b = Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength);
  let p = FIXED + h.bases.length * 32;
  const plen = b.readUInt16LE(p);
  const params = b.subarray(p + 2, p + 2 + plen);
  p += 2 + plen;
  const n = b[p++];
  const table: { coding: number; stored: number; raw: number }[] = [];
  let total = 0;
  for (let i = 0; i < n; i++) {
    const raw = b.readUInt32LE(p + 5);
    table.push({ coding: b[p], stored: b.readUInt32LE(p + 1), raw });
    total += raw;
    p += 9;
  }
  if (total > 4 * maxLength + 64) throw new Error('streams larger than the chunk allows');
  const bases = h.bases.map(getBase);
  let dict: Buffer | undefined;
  const streams = table.map((s) => {
    const data = b.subarray(p, p + s.stored);
    if (data.length !== s.stored) throw new Error('truncated object');
    p += s.stored;
    if (s.coding === Coding.Raw) {
      if (s.stored !== s.raw) throw new Error('raw stream length mismatch');
      return data;
    }
    if (s.coding === Coding.Zstd) return zstdDecompress(data, s.raw);
    if (s.coding === Coding.ZstdDict) return zstdDecompress(data, s.raw, (dict ??= Buffer.concat(bases)));
    throw new Error(`unknown stream coding ${s.coding}`);
  });
  if (p !== b.length) throw new Error('trailing bytes after the last stream');
  const out = inverse(h.transform, streams, params, h.width, bases, h.rawLength);
  if (out.length !== h.rawLength) throw new Error(`decoded ${out.length} bytes, header says ${h.rawLength}`);
  return out;
}

function noBase(id: string): Buffer {
  throw new Error(`base ${id} needed but no base source given`);
}

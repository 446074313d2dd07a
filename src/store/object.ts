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
//   8   varint raw length
//   ..  varint standalone bytes: what the chunk would take standalone (0: this object itself)
//   ..  32 bytes per base: base chunk ids
//   ..  varint params length, params
//   ..  varint streams; per stream: u8 coding (0 raw, 1 zstd, 2 zstd with the bases as dictionary),
//       varint stored length, varint raw length
//   ..  stream bytes
// Varints are unsigned LEB128 (7 bits a byte, low first), at most 8 bytes: small chunks (biases, norms)
// are common, and a fixed-width header cost them a quarter of their size.

import { zstdCompress, zstdCompressWithDict, zstdDecompress } from '../codec/zstd.js';
import { forward, inverse, Transform, type Forward } from './transforms.js';

export const OBJECT_MAGIC = Buffer.from('MGC\x01', 'latin1');
const FIXED = 8;
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

function putVarint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/** Reads a varint at `pos.p`, advancing it; bounded to 8 bytes (2^56). */
function getVarint(b: Buffer, pos: { p: number }): number {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 8; i++) {
    if (pos.p >= b.length) throw new Error('truncated object header');
    const byte = b[pos.p++];
    v += (byte & 0x7f) * mul;
    if (byte < 0x80) return v;
    mul *= 0x80;
  }
  throw new Error('varint too long in object header');
}

interface ParsedHeader extends ObjectHeader {
  params: Buffer;
  streams: { coding: number; stored: number; raw: number }[];
  /** where the stream bytes begin */
  dataStart: number;
}

function parseHeader(obj: Uint8Array): ParsedHeader {
  const b = Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength);
  if (b.length < FIXED || !b.subarray(0, 4).equals(OBJECT_MAGIC)) throw new Error('not an mgit chunk object (bad magic)');
  const pos = { p: FIXED };
  const rawLength = getVarint(b, pos);
  const standalone = getVarint(b, pos);
  const nb = b[7];
  if (pos.p + nb * 32 > b.length) throw new Error('truncated object header');
  const bases: string[] = [];
  for (let i = 0; i < nb; i++) bases.push(b.toString('hex', pos.p + i * 32, pos.p + (i + 1) * 32));
  pos.p += nb * 32;
  const plen = getVarint(b, pos);
  if (pos.p + plen > b.length) throw new Error('truncated object header');
  const params = b.subarray(pos.p, pos.p + plen);
  pos.p += plen;
  const n = getVarint(b, pos);
  if (n > 64) throw new Error(`object claims ${n} streams`);
  const streams: ParsedHeader['streams'] = [];
  for (let i = 0; i < n; i++) {
    if (pos.p >= b.length) throw new Error('truncated object header');
    const coding = b[pos.p++];
    const stored = getVarint(b, pos);
    const raw = getVarint(b, pos);
    streams.push({ coding, stored, raw });
  }
  return {
    transform: b[4],
    width: b[5],
    depth: b[6],
    rawLength,
    standaloneBytes: standalone || b.length,
    bases,
    params,
    streams,
    dataStart: pos.p,
  };
}

export function readHeader(obj: Uint8Array): ObjectHeader {
  const h = parseHeader(obj);
  return { transform: h.transform, width: h.width, depth: h.depth, rawLength: h.rawLength, standaloneBytes: h.standaloneBytes, bases: h.bases };
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
  const head: number[] = [...OBJECT_MAGIC, opts.transform, opts.width, depth, bases.length];
  putVarint(head, raw.length);
  putVarint(head, bases.length ? (opts.standaloneBytes ?? 0) : 0);
  for (const base of bases) head.push(...Buffer.from(base.id, 'hex'));
  putVarint(head, fwd.params.length);
  head.push(...fwd.params);
  putVarint(head, streams.length);
  for (const st of streams) {
    head.push(st.coding);
    putVarint(head, st.data.length);
    putVarint(head, st.rawLength);
  }
  const header = Buffer.from(head);
  return Buffer.concat([header, ...streams.map((st) => st.data)], header.length + streams.reduce((x, st) => x + st.data.length, 0));
}

/**
 * The standalone encoding: byte planes, each zstd-compressed or raw, whichever is smaller. Small
 * chunks also try one stream: below a few KB, a zstd frame per plane costs more than planes save.
 */
export function encodeStandalone(raw: Uint8Array, width: number, level = 1): Buffer {
  const usePlanes = width > 1 && (!process.env.MGIT_TRANSFORMS || process.env.MGIT_TRANSFORMS.split(',').includes('planes'));
  const planes = encodeObject(raw, { transform: usePlanes ? Transform.Planes : Transform.Identity, width, level })!;
  if (width === 1 || raw.length > 8192) return planes;
  const one = encodeObject(raw, { transform: Transform.Identity, width, level })!;
  return one.length < planes.length ? one : planes;
}

/**
 * Decodes an object to the chunk's raw bytes. `getBase` supplies (verified) base chunks. The caller
 * verifies the result against the chunk id.
 */
export function decodeObject(obj: Uint8Array, maxLength: number, getBase: (id: string) => Buffer = noBase): Buffer {
  const h = parseHeader(obj);
  if (h.rawLength > maxLength) throw new Error(`object claims ${h.rawLength} bytes, over the ${maxLength} limit`);
  if (h.width < 1 || h.width > 16) throw new Error(`bad element width ${h.width}`);
  const total = h.streams.reduce((a, st) => a + st.raw, 0);
  if (total > 4 * maxLength + 64) throw new Error('streams larger than the chunk allows');
  const b = Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength);
  const bases = h.bases.map(getBase);
  let dict: Buffer | undefined;
  let p = h.dataStart;
  const streams = h.streams.map((st) => {
    const data = b.subarray(p, p + st.stored);
    if (data.length !== st.stored) throw new Error('truncated object');
    p += st.stored;
    if (st.coding === Coding.Raw) {
      if (st.stored !== st.raw) throw new Error('raw stream length mismatch');
      return data;
    }
    if (st.coding === Coding.Zstd) return zstdDecompress(data, st.raw);
    if (st.coding === Coding.ZstdDict) return zstdDecompress(data, st.raw, (dict ??= Buffer.concat(bases)));
    throw new Error(`unknown stream coding ${st.coding}`);
  });
  if (p !== b.length) throw new Error('trailing bytes after the last stream');
  const out = inverse(h.transform, streams, h.params, h.width, bases, h.rawLength);
  if (out.length !== h.rawLength) throw new Error(`decoded ${out.length} bytes, header says ${h.rawLength}`);
  return out;
}

function noBase(id: string): Buffer {
  throw new Error(`base ${id} needed but no base source given`);
}

/**
 * Encodes and decodes generated data with every transform and element width, so that V8 has compiled
 * their loops before a checkout needs them (a prestarted filter runs this while it waits): over the
 * first models a process rebuilds, cold decoding kernels took 170 ms more on digits.
 */
export function exerciseTransforms(): void {
  const count = 1 << 15;
  const f = new Float32Array(count);
  for (let i = 0; i < count; i++) f[i] = Math.sin(i) * 0.05;
  const fp32 = Buffer.from(f.buffer);
  const child = Buffer.from(fp32);
  for (let i = 0; i < child.length; i += 52) child[i] ^= 1;
  const pruned = Buffer.from(child);
  for (let i = 0; i < pruned.length; i += 12) pruned.writeUInt32LE(i % 24 ? 0 : 0x80000000, i);
  const base = (bytes: Buffer): Base => ({ id: '00'.repeat(32), bytes, depth: 0 });
  const half = child.subarray(0, count * 2);
  const trials: [Buffer, EncodeOptions][] = [
    [child, { transform: Transform.Planes, width: 4 }],
    [child, { transform: Transform.XorPlanes, width: 4, bases: [base(fp32)] }],
    [half, { transform: Transform.XorPlanes, width: 2, bases: [base(fp32.subarray(0, count * 2))] }],
    [pruned, { transform: Transform.MaskedXor, width: 4, bases: [base(fp32)] }],
    [half, { transform: Transform.MaskedXor, width: 2, bases: [base(child.subarray(0, count * 2))] }],
    [child.subarray(0, count * 2), { transform: Transform.CastPredict, width: 2, bases: [base(fp32)], arg: 1 }],
    [child.subarray(0, count), { transform: Transform.QuantPredict, width: 1, bases: [base(fp32)], arg: 64 }],
    [child.subarray(count), { transform: Transform.Dict, width: 4, bases: [base(fp32)] }],
  ];
  for (const [raw, opts] of trials) {
    const obj = encodeObject(raw, opts);
    if (obj) decodeObject(obj, raw.length, () => Buffer.from(opts.bases![0].bytes));
  }
}

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

import { align16, kernels } from '../codec/kernels.js';
import { zstdCompress, zstdCompressWithDict, zstdDecompress, zstdDecompressInto } from '../codec/zstd.js';
import { reuse, reusedCopy } from './recycle.js';
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
  let p = h.dataStart;
  const stored = h.streams.map((st) => {
    const data = b.subarray(p, p + st.stored);
    if (data.length !== st.stored) throw new Error('truncated object');
    p += st.stored;
    if (st.coding === Coding.Raw && st.stored !== st.raw) throw new Error('raw stream length mismatch');
    if (st.coding !== Coding.Raw && st.coding !== Coding.Zstd && st.coding !== Coding.ZstdDict) throw new Error(`unknown stream coding ${st.coding}`);
    return { coding: st.coding, data, raw: st.raw };
  });
  if (p !== b.length) throw new Error('trailing bytes after the last stream');
  const fast = decodeInScratch(h, stored, bases);
  if (fast) return fast;
  let dict: Buffer | undefined;
  const streams = stored.map((st) => {
    if (st.coding === Coding.Raw) return st.data;
    if (st.coding === Coding.Zstd) return zstdDecompress(st.data, st.raw);
    // the dictionary's bytes are the bases', referenced, and the chunk is decoded straight into its buffer
    const out = Buffer.allocUnsafeSlow(st.raw);
    zstdDecompressInto(st.data, out, (dict ??= bases.length === 1 ? bases[0] : Buffer.concat(bases)));
    return out;
  });
  const out = inverse(h.transform, streams, h.params, h.width, bases, h.rawLength);
  if (out.length !== h.rawLength) throw new Error(`decoded ${out.length} bytes, header says ${h.rawLength}`);
  return out;
}

interface StoredStream {
  coding: number;
  data: Buffer;
  raw: number;
}

/** Puts a stream's raw bytes at `at` in the scratch memory. */
/** Dictionaries of several bases up to this size are joined in the scratch memory. */
const SCRATCH_MAX_DICT = 16 * 1024 * 1024;

function fill(mem: Uint8Array, at: number, st: StoredStream): void {
  if (st.coding === Coding.Raw) mem.set(st.data, at);
  else zstdDecompressInto(st.data, mem.subarray(at, at + st.raw));
}

/**
 * Decodes the encodings that carry nearly all the bytes of a store (byte planes, XOR, masked XOR,
 * float16 and int8 prediction, dictionaries, widths 2 and 4) with the WebAssembly kernels, in their scratch memory: the streams
 * are decompressed into it, the base copied in, and the chunk copied out into its own buffer. Returns
 * undefined for anything else, which the reference path (inverse) decodes; the same checks apply, and
 * the caller verifies the bytes against the chunk id either way.
 */
function decodeInScratch(h: ParsedHeader, streams: StoredStream[], bases: Buffer[]): Buffer | undefined {
  const t = h.transform;
  const length = h.rawLength;
  let k: ReturnType<typeof kernels>;
  if (t === Transform.Dict && streams.length === 1 && streams[0].coding === Coding.ZstdDict && streams[0].raw === length && bases.length) {
    // several bases make one dictionary: joined in the scratch memory, not in a buffer of their own
    let dict: Uint8Array = bases[0];
    if (bases.length > 1) {
      if (bases.reduce((a, x) => a + x.length, 0) > SCRATCH_MAX_DICT || !(k = kernels())) return undefined;
      const mem = k.reserve(bases.reduce((a, x) => a + x.length, 0));
      let at = 0;
      for (const x of bases) {
        mem.set(x, at);
        at += x.length;
      }
      dict = mem.subarray(0, at);
    }
    const out = reuse(length);
    zstdDecompressInto(streams[0].data, out, dict);
    return out;
  }
  if (streams.some((st) => st.coding === Coding.ZstdDict)) return undefined;
  if (t === Transform.Planes || t === Transform.XorPlanes) {
    const w = h.width;
    const xor = t === Transform.XorPlanes;
    if ((w !== 2 && w !== 4) || streams.length !== w || (xor && (bases.length !== 1 || bases[0].length !== length))) return undefined;
    const n = streams[0].raw;
    const total = streams.reduce((a, st) => a + st.raw, 0);
    if (n < 16 || total !== length || streams.some((st, i) => (i < w - 1 ? st.raw !== n : st.raw < n)) || !(k = kernels())) return undefined;
    // with a base, the chunk is written over the base where it lies (each byte reads its own place first)
    const O = align16(total);
    const mem = k.reserve(O + total);
    for (let i = 0; i < w; i++) fill(mem, i * n, streams[i]);
    const g = n >> 4;
    if (xor) {
      mem.set(bases[0], O);
      (w === 4 ? k.k.join4x : k.k.join2x)(0, n, g, O, O);
      for (let e = g * 16; e < n; e++) for (let i = 0; i < w; i++) mem[O + e * w + i] ^= mem[i * n + e];
      for (let i = n * w; i < total; i++) mem[O + i] ^= mem[i]; // trailing bytes that fill no element
    } else {
      (w === 4 ? k.k.join4 : k.k.join2)(0, n, g, O);
      for (let e = g * 16; e < n; e++) for (let i = 0; i < w; i++) mem[O + e * w + i] = mem[i * n + e];
      mem.copyWithin(O + n * w, n * w, total);
    }
    return reusedCopy(mem.subarray(O, O + total));
  }
  if (t === Transform.MaskedXor) {
    const w = h.params[0];
    if ((w !== 2 && w !== 4) || streams.length !== w + 1 || bases.length !== 1 || bases[0].length !== length || length % w !== 0) return undefined;
    const count = length / w;
    const m = streams[1].raw;
    if (streams[0].raw !== count || m < 16 || streams.some((st, i) => i > 0 && st.raw !== m) || m > count || !(k = kernels())) return undefined;
    const R = align16(count);
    const J = R + align16(m * w);
    const B = J + align16(m * w) + 16; // unmask may read one residual past the last
    const O = B; // written over the base, each element after reading its own
    const mem = k.reserve(B + length);
    fill(mem, 0, streams[0]);
    for (let i = 0; i < w; i++) fill(mem, R + i * m, streams[i + 1]);
    const g = m >> 4;
    (w === 4 ? k.k.join4 : k.k.join2)(R, m, g, J);
    for (let e = g * 16; e < m; e++) for (let i = 0; i < w; i++) mem[J + e * w + i] = mem[R + i * m + e];
    mem.set(bases[0], B);
    if ((w === 4 ? k.k.unmask4 : k.k.unmask2)(0, count, J, B, O) !== m) throw new Error('masked-xor residual length mismatch');
    return reusedCopy(mem.subarray(O, O + length));
  }
  if (t === Transform.CastPredict) {
    const kind = h.params[0];
    const n = length / 2;
    if ((kind !== 1 && kind !== 2) || length % 2 !== 0 || streams.length !== 2 || bases.length !== 1 || bases[0].length !== length * 2) return undefined;
    if (n < 16 || streams[0].raw !== n || streams[1].raw !== n || !(k = kernels())) return undefined;
    const B = align16(length);
    const O = B + align16(length * 2); // the prediction, then the chunk written over it
    const mem = k.reserve(O + length);
    fill(mem, 0, streams[0]);
    fill(mem, n, streams[1]);
    mem.set(bases[0], B);
    k.k.cast(B, n, kind, O);
    const g = n >> 4;
    k.k.join2x(0, n, g, O, O);
    for (let e = g * 16; e < n; e++) {
      mem[O + 2 * e] ^= mem[e];
      mem[O + 2 * e + 1] ^= mem[n + e];
    }
    return reusedCopy(mem.subarray(O, O + length));
  }
  if (t === Transform.QuantPredict) {
    if (streams.length !== 1 || streams[0].raw !== length || bases.length !== 1 || bases[0].length !== length * 4 || h.params.length !== 4) return undefined;
    const rows = h.params.readUInt32LE(0);
    if (rows < 1 || length % rows !== 0 || !(k = kernels())) return undefined;
    const B = align16(length);
    const mem = k.reserve(B + length * 4);
    fill(mem, 0, streams[0]);
    mem.set(bases[0], B);
    k.k.quant(B, length, rows, 0, 1, 0); // the chunk written over its residual stream
    return reusedCopy(mem.subarray(0, 0 + length));
  }
  return undefined;
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

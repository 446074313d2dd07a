// Transforms: how a chunk's raw bytes become byte streams to compress, optionally predicted from base
// chunks (DESIGN §3). Pure functions: no disk, no git. Each transform is lossless on its own: whatever
// the base, `inverse(forward(raw, bases), bases) == raw`; a poor base only costs bytes. The store
// decodes every encoding and checks it against the chunk id before keeping it.

import { f32BitsToBf16Bits, f32BitsToF16Bits } from '../codec/floats.js';
import { aligned, fromPlaneList, toPlanes } from '../codec/planes.js';

export const enum Transform {
  /** the raw bytes, one stream */
  Identity = 0,
  /** byte planes of the element width, one stream per plane */
  Planes = 1,
  /** XOR with a base of the same length, then byte planes */
  XorPlanes = 2,
  /** zstd with the bases' bytes as a raw-content dictionary (finds slices and moved rows) */
  Dict = 3,
  /** float16/bfloat16 predicted by rounding a float32 base, residual XOR, byte planes */
  CastPredict = 4,
  /** int8 predicted from a float32 base by symmetric per-row (or per-tensor) scaling, residual XOR */
  QuantPredict = 5,
  /** pruning-aware XOR: a class stream (+0, -0, or delta) and XOR residuals of the other elements */
  MaskedXor = 6,
}

export const TRANSFORM_NAMES: Record<number, string> = {
  0: 'raw',
  1: 'planes',
  2: 'xor',
  3: 'dict',
  4: 'cast',
  5: 'quant',
  6: 'masked-xor',
};

export interface Forward {
  streams: Buffer[];
  /** transform parameters stored in the object (e.g. the cast kind, the quantization layout) */
  params: Buffer;
}

/** XOR of two equal-length buffers, a word at a time (misaligned inputs are copied once). */
export function xorBytes(a: Uint8Array, b: Uint8Array): Buffer {
  const n = a.length;
  const out = Buffer.allocUnsafeSlow(n);
  const w = n >>> 2;
  const a32 = u32(aligned(a), w);
  const b32 = u32(aligned(b), w);
  const o32 = u32(out, w);
  for (let k = 0; k < w; k++) o32[k] = a32[k] ^ b32[k];
  for (let i = w * 4; i < n; i++) out[i] = a[i] ^ b[i];
  return out;
}

function u32(b: Uint8Array, words: number): Uint32Array {
  return new Uint32Array(b.buffer, b.byteOffset, words);
}

function planeStreams(data: Uint8Array, width: number): Buffer[] {
  if (width <= 1) return [Buffer.from(data.buffer, data.byteOffset, data.byteLength)];
  const p = toPlanes(data, width);
  const n = Math.floor(data.length / width);
  const streams: Buffer[] = [];
  for (let k = 0; k < width; k++) streams.push(p.subarray(k * n, (k + 1) * n));
  streams[width - 1] = p.subarray((width - 1) * n); // the last plane carries any trailing bytes
  return streams;
}

/** The bytes byte planes came from, XORed with `xor` when given (in the same pass). */
function joinPlanes(streams: Buffer[], width: number, xor?: Uint8Array): Buffer {
  if (width <= 1 && !xor) return streams[0];
  return fromPlaneList(streams, width, xor);
}

// ---------------------------------------------------------------------------------------------
// Cast prediction: child = round(base) in a narrower float type.

export const enum CastKind {
  F16 = 1,
  BF16 = 2,
}

function castPredict(base: Uint8Array, kind: CastKind, count: number): Buffer {
  const out = Buffer.allocUnsafeSlow(count * 2);
  const src = u32(aligned(base), count);
  const dst = new Uint16Array(out.buffer, out.byteOffset, count);
  if (kind === CastKind.F16) for (let i = 0; i < count; i++) dst[i] = f32BitsToF16Bits(src[i]);
  else for (let i = 0; i < count; i++) dst[i] = f32BitsToBf16Bits(src[i]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Quantization prediction: int8 q = clip(rint(w / s), -127, 127), s = fround(max|w| / 127) per row
// (rows = `rows` equal slices of the tensor, e.g. output channels) or for the whole tensor.

function quantPredict(base: Uint8Array, rows: number): Buffer {
  const count = base.length / 4;
  const perRow = count / rows;
  const b = aligned(base);
  const f = new Float32Array(b.buffer, b.byteOffset, count);
  const out = Buffer.allocUnsafeSlow(count);
  const q8 = new Int8Array(out.buffer, out.byteOffset, count);
  for (let r = 0; r < rows; r++) {
    const start = r * perRow;
    const end = start + perRow;
    let amax = 0;
    for (let i = start; i < end; i++) {
      const v = Math.abs(f[i]);
      if (v > amax) amax = v;
      else if (v !== v) {
        amax = NaN; // a NaN weight: the row's scale is 1
        break;
      }
    }
    const s = amax > 0 && Number.isFinite(amax) ? Math.fround(amax / 127) : 1;
    for (let i = start; i < end; i++) {
      const q = Math.fround(f[i] / s);
      // Clipped, then rounded half to even by the 1.5 * 2^52 trick (what numpy.rint does, exact for
      // |q| <= 127). A NaN passes both comparisons and the Int8Array stores it as 0.
      q8[i] = (q > 127 ? 127 : q < -127 ? -127 : q) + ROUND_MAGIC - ROUND_MAGIC;
    }
  }
  return out;
}

/** 1.5 * 2^52: adding and subtracting it rounds a double below 2^51 in magnitude to an integer, ties to even. */
const ROUND_MAGIC = 6755399441055744;

/** Row counts worth trying for a quantized tensor of `count` elements: per output channel, per tensor. */
export function quantRowChoices(dims: number[], count: number): number[] {
  const out = new Set<number>();
  if (dims.length >= 2 && dims[0] > 0 && count % dims[0] === 0) out.add(dims[0]);
  out.add(1);
  return [...out];
}

// ---------------------------------------------------------------------------------------------
// Masked XOR: pruning zeroes elements (+0.0 and -0.0 both occur); the survivors are the base's values
// or close to them.

function elems(b: Uint8Array, width: 2 | 4): Uint32Array | Uint16Array {
  const a = aligned(b);
  return width === 4 ? new Uint32Array(a.buffer, a.byteOffset, a.length >>> 2) : new Uint16Array(a.buffer, a.byteOffset, a.length >>> 1);
}

function maskedForward(raw: Uint8Array, base: Uint8Array, width: 2 | 4): Forward {
  const r = elems(raw, width);
  const b = elems(base, width);
  const count = r.length;
  const classes = Buffer.alloc(count);
  const residual = width === 4 ? new Uint32Array(count) : new Uint16Array(count);
  const sign = width === 4 ? 0x80000000 : 0x8000;
  const magnitude = width === 4 ? 0x7fffffff : 0x7fff;
  let m = 0;
  for (let i = 0; i < count; i++) {
    const c = r[i];
    if ((c & magnitude) === 0) classes[i] = c & sign ? 2 : 1;
    else residual[m++] = c ^ b[i];
  }
  const res = Buffer.from(residual.buffer, 0, m * width);
  return { streams: [classes, ...planeStreams(res, width)], params: Buffer.from([width]) };
}

function maskedInverse(streams: Buffer[], base: Uint8Array, width: number, length: number): Buffer {
  if (width !== 2 && width !== 4) throw new Error(`bad masked-xor width ${width}`);
  const classes = streams[0];
  const residual = elems(joinPlanes(streams.slice(1), width), width);
  const b = elems(base, width);
  const out = Buffer.allocUnsafeSlow(length);
  const o = width === 4 ? new Uint32Array(out.buffer, 0, length >>> 2) : new Uint16Array(out.buffer, 0, length >>> 1);
  if (classes.length !== o.length || b.length !== o.length) throw new Error('masked-xor length mismatch');
  // one loop per width: a loop over either kind of typed array runs several times slower
  const m = width === 4 ? unmask4(classes, residual as Uint32Array, b as Uint32Array, o as Uint32Array) : unmask2(classes, residual as Uint16Array, b as Uint16Array, o as Uint16Array);
  if (m !== residual.length) throw new Error('masked-xor residual length mismatch');
  return out;
}

/** Writes the elements back from their classes; returns how many residuals were used. */
function unmask4(classes: Uint8Array, residual: Uint32Array, b: Uint32Array, o: Uint32Array): number {
  let m = 0;
  for (let i = 0; i < classes.length; i++) {
    const cls = classes[i];
    if (cls === 0) o[i] = residual[m++] ^ b[i];
    else o[i] = cls === 2 ? 0x80000000 : 0;
  }
  return m;
}

function unmask2(classes: Uint8Array, residual: Uint16Array, b: Uint16Array, o: Uint16Array): number {
  let m = 0;
  for (let i = 0; i < classes.length; i++) {
    const cls = classes[i];
    if (cls === 0) o[i] = residual[m++] ^ b[i];
    else o[i] = cls === 2 ? 0x8000 : 0;
  }
  return m;
}

// ---------------------------------------------------------------------------------------------

export interface TransformInput {
  raw: Uint8Array;
  width: number;
  bases: Uint8Array[];
  /** for QuantPredict: rows of the scaling; for CastPredict: the cast kind */
  arg?: number;
}

/**
 * Applies a transform, or returns undefined when it does not apply to these inputs (wrong lengths,
 * no base). Dict is not a stream transform (the codec needs the dictionary): it yields the raw stream.
 */
export function forward(t: Transform, input: TransformInput): Forward | undefined {
  const { raw, width, bases } = input;
  const none = Buffer.alloc(0);
  switch (t) {
    case Transform.Identity:
      return { streams: [Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)], params: none };
    case Transform.Planes:
      return { streams: planeStreams(raw, width), params: none };
    case Transform.XorPlanes:
      if (bases.length !== 1 || bases[0].length !== raw.length) return undefined;
      return { streams: planeStreams(xorBytes(raw, bases[0]), width), params: none };
    case Transform.Dict:
      if (bases.length === 0) return undefined;
      return { streams: [Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)], params: none };
    case Transform.CastPredict: {
      const kind = (input.arg ?? CastKind.F16) as CastKind;
      if (bases.length !== 1 || raw.length % 2 !== 0 || bases[0].length !== raw.length * 2) return undefined;
      const pred = castPredict(bases[0], kind, raw.length / 2);
      return { streams: planeStreams(xorBytes(raw, pred), 2), params: Buffer.from([kind]) };
    }
    case Transform.QuantPredict: {
      const rows = input.arg ?? 1;
      if (bases.length !== 1 || bases[0].length !== raw.length * 4 || rows < 1 || raw.length % rows !== 0) return undefined;
      const params = Buffer.alloc(4);
      params.writeUInt32LE(rows);
      return { streams: [xorBytes(raw, quantPredict(bases[0], rows))], params };
    }
    case Transform.MaskedXor:
      if (bases.length !== 1 || bases[0].length !== raw.length || (width !== 2 && width !== 4) || raw.length % width !== 0) return undefined;
      return maskedForward(raw, bases[0], width as 2 | 4);
    default:
      return undefined;
  }
}

/** Rebuilds the raw bytes from a transform's streams. `length` is the chunk's raw length. */
export function inverse(t: number, streams: Buffer[], params: Buffer, width: number, bases: Buffer[], length: number): Buffer {
  switch (t) {
    case Transform.Identity:
    case Transform.Dict:
      return streams[0];
    case Transform.Planes:
      return joinPlanes(streams, width);
    case Transform.XorPlanes:
      needBases(bases, 1);
      if (bases[0].length !== length) throw new Error('xor base length mismatch');
      return joinPlanes(streams, width, bases[0]);
    case Transform.CastPredict: {
      needBases(bases, 1);
      if (bases[0].length !== length * 2) throw new Error('cast base length mismatch');
      return joinPlanes(streams, 2, castPredict(bases[0], params[0] as CastKind, length / 2));
    }
    case Transform.QuantPredict: {
      needBases(bases, 1);
      if (bases[0].length !== length * 4 || params.length !== 4) throw new Error('quant base length mismatch');
      return xorBytes(streams[0], quantPredict(bases[0], params.readUInt32LE(0)));
    }
    case Transform.MaskedXor:
      needBases(bases, 1);
      return maskedInverse(streams, bases[0], params[0], length);
    default:
      throw new Error(`unknown transform ${t} (written by a newer mgit?)`);
  }
}

function needBases(bases: Buffer[], n: number): void {
  if (bases.length !== n) throw new Error(`expected ${n} base(s), got ${bases.length}`);
}


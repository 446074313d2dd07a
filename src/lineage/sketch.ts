// Tensor sketches for the autopilot: a few values of a tensor, sampled at positions that depend only
// on its element count, scaled to int16. Two tensors of the same size compare by the correlation of
// their samples, an estimate of the elementwise correlation of their values: near 1 when one was derived from the other (fine-tuned, pruned, quantized, cast to
// fp16), near 0 for independently trained weights, whatever their names or shapes say.
// Pure: bytes in, numbers out; no git, no store. Deterministic on every machine (integer PRNG, values
// decoded with DataView).

export const SKETCH_SIZE = 128;

/** Bytes per element of the dtypes a sketch can read (pointer dtype names). */
const ELEMENT: Record<string, number> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  uint64: 8,
  bool: 1,
};

export function elementBytes(dtype: string): number | undefined {
  return ELEMENT[dtype];
}

/**
 * Sampled element positions for a tensor of n elements: one per stratum of n/SKETCH_SIZE elements, at
 * an offset drawn from a PRNG seeded by n, so every tensor of n elements samples the same positions.
 */
export function samplePositions(n: number): number[] {
  if (n <= SKETCH_SIZE) return Array.from({ length: n }, (_, i) => i);
  let a = (Math.imul(n >>> 0, 0x9e3779b1) ^ Math.floor(n / 4294967296) ^ 0x6d2b79f5) >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out: number[] = [];
  for (let k = 0; k < SKETCH_SIZE; k++) {
    const lo = Math.floor((k * n) / SKETCH_SIZE);
    const hi = Math.floor(((k + 1) * n) / SKETCH_SIZE);
    out.push(lo + Math.floor(rand() * (hi - lo)));
  }
  return out;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Reads element i of a little-endian tensor payload. */
export function readElement(view: DataView, offset: number, dtype: string): number {
  switch (dtype) {
    case 'float32':
      return view.getFloat32(offset, true);
    case 'float16':
      return halfToFloat(view.getUint16(offset, true));
    case 'bfloat16': {
      const b = new DataView(new ArrayBuffer(4));
      b.setUint32(0, view.getUint16(offset, true) << 16, true);
      return b.getFloat32(0, true);
    }
    case 'float64':
      return view.getFloat64(offset, true);
    case 'int8':
      return view.getInt8(offset);
    case 'uint8':
    case 'bool':
      return view.getUint8(offset);
    case 'int16':
      return view.getInt16(offset, true);
    case 'uint16':
      return view.getUint16(offset, true);
    case 'int32':
      return view.getInt32(offset, true);
    case 'uint32':
      return view.getUint32(offset, true);
    case 'int64':
      return Number(view.getBigInt64(offset, true));
    case 'uint64':
      return Number(view.getBigUint64(offset, true));
    default:
      return NaN;
  }
}

export interface Sketch {
  /**
   * the sampled values scaled by their largest magnitude to int16, with zero kept exactly zero and any
   * other value at least 1 in magnitude (so the zero pattern of a pruned tensor survives)
   */
  q: Int16Array;
  /** fraction of sampled values that are zero */
  zeros: number;
}

/**
 * Sketches a tensor of `n` elements of `dtype`, reading elements through `at(byteOffset)` (which
 * returns a view and the offset within it, so a tensor split across chunks reads without copying).
 * Undefined for dtypes without fixed-width numbers (strings, varint forms).
 */
export function sketchTensor(n: number, dtype: string, at: (byteOffset: number) => { view: DataView; offset: number }): Sketch | undefined {
  const size = ELEMENT[dtype];
  if (!size || n <= 0) return undefined;
  const pos = samplePositions(n);
  const vals = new Float64Array(pos.length);
  let zeros = 0;
  let max = 0;
  for (let k = 0; k < pos.length; k++) {
    const { view, offset } = at(pos[k] * size);
    const v = readElement(view, offset, dtype);
    vals[k] = Number.isFinite(v) ? v : 0;
    if (vals[k] === 0) zeros++;
    max = Math.max(max, Math.abs(vals[k]));
  }
  const q = new Int16Array(vals.length);
  for (let k = 0; k < vals.length; k++) {
    if (vals[k] === 0) continue;
    const r = Math.round((vals[k] / max) * 32767);
    q[k] = r === 0 ? Math.sign(vals[k]) : r;
  }
  return { q, zeros: zeros / pos.length };
}

/** Below this many usable samples a correlation says nothing. */
const MIN_SAMPLES = 8;

/**
 * Estimated correlation of the values of two tensors with the same element count, in [-1, 1]. When
 * `a` (the newer tensor) is mostly zeros, only the positions it kept count: a pruned tensor equals its
 * parent there, while its correlation over all positions is dominated by the zeros.
 */
export function similarity(a: Sketch, b: Sketch): number {
  const n = Math.min(a.q.length, b.q.length);
  if (a.q.length !== b.q.length || n === 0) return 0;
  const masked = a.zeros > 0.3 && n - Math.round(a.zeros * n) >= MIN_SAMPLES;
  let cnt = 0;
  let sa = 0;
  let sb = 0;
  for (let k = 0; k < n; k++) {
    if (masked && a.q[k] === 0) continue;
    cnt++;
    sa += a.q[k];
    sb += b.q[k];
  }
  if (cnt < Math.min(MIN_SAMPLES, n)) return 0;
  const ma = sa / cnt;
  const mb = sb / cnt;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let k = 0; k < n; k++) {
    if (masked && a.q[k] === 0) continue;
    const x = a.q[k] - ma;
    const y = b.q[k] - mb;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  if (na === 0 && nb === 0) return sameValues(a, b) ? 1 : 0; // both constant
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

/** True when every sampled value is the same (zeros, ones, a fill value): such tensors prove nothing. */
export function isConstant(s: Sketch): boolean {
  for (let k = 1; k < s.q.length; k++) if (s.q[k] !== s.q[0]) return false;
  return true;
}

function sameValues(a: Sketch, b: Sketch): boolean {
  for (let k = 0; k < a.q.length; k++) if (a.q[k] !== b.q[k]) return false;
  return true;
}

export function encodeSketch(s: Sketch | undefined): string | undefined {
  if (!s) return undefined;
  const le = Buffer.alloc(s.q.length * 2);
  for (let k = 0; k < s.q.length; k++) le.writeInt16LE(s.q[k], k * 2);
  return `${le.toString('base64')}:${s.zeros}`;
}

export function decodeSketch(text: string | undefined): Sketch | undefined {
  if (!text) return undefined;
  const colon = text.lastIndexOf(':');
  const b = Buffer.from(text.slice(0, colon), 'base64');
  const q = new Int16Array(b.length >> 1);
  for (let k = 0; k < q.length; k++) q[k] = b.readInt16LE(k * 2);
  return { q, zeros: Number(text.slice(colon + 1)) };
}

// ---------------------------------------------------------------------------------------------
// Skeleton sketches: how alike two models' graphs are (node names, ops, attributes: all bytes outside
// tensor payloads), as the MinHash estimate of the Jaccard similarity of their 8-byte shingles. Used
// to tell apart candidates whose tensors are equally close (a model and its re-export): a child keeps
// the graph of the file it was made from.

export const SKELETON_SKETCH_SIZE = 64;

function shingleHash(b: Buffer, i: number): number {
  let h = Math.imul(b.readUInt32LE(i) ^ Math.imul(b.readUInt32LE(i + 4), 0x9e3779b1), 0x85ebca77);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae3d);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The SKELETON_SKETCH_SIZE smallest distinct shingle hashes of the bytes, ascending. */
export function skeletonSketch(bytes: Buffer): Uint32Array {
  const n = bytes.length - 7;
  if (n <= 0) return new Uint32Array(0);
  // Keep only hashes under a cut-off expected to leave a few times the sketch size, widening the
  // cut-off if too few survive: linear time, no sort of every shingle.
  for (let cut = Math.min(2 ** 32, (2 ** 32 * 8 * SKELETON_SKETCH_SIZE) / n); ; cut = Math.min(2 ** 32, cut * 8)) {
    const keep: number[] = [];
    for (let i = 0; i < n; i++) {
      const h = shingleHash(bytes, i);
      if (h < cut) keep.push(h);
    }
    const uniq = [...new Set(keep)].sort((a, b) => a - b);
    if (uniq.length >= SKELETON_SKETCH_SIZE || cut >= 2 ** 32) return Uint32Array.from(uniq.slice(0, SKELETON_SKETCH_SIZE));
  }
}

/** Estimated Jaccard similarity of two skeleton sketches, in [0, 1]. */
export function jaccard(a: Uint32Array, b: Uint32Array): number {
  if (a.length === 0 || b.length === 0) return 0;
  const k = Math.min(SKELETON_SKETCH_SIZE, Math.max(a.length, b.length));
  let i = 0;
  let j = 0;
  let both = 0;
  let taken = 0;
  while (taken < k && (i < a.length || j < b.length)) {
    if (j >= b.length || (i < a.length && a[i] < b[j])) i++;
    else if (i >= a.length || b[j] < a[i]) j++;
    else {
      both++;
      i++;
      j++;
    }
    taken++;
  }
  return both / taken;
}

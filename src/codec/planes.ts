// Byte-plane transposition: element i's byte k goes to plane k. Floating-point weights put their
// sign and exponent in the high byte, which is nearly constant across a tensor, so splitting the
// planes lets zstd see long runs instead of interleaved noise. Pure functions, no I/O.
// Widths 2 and 4 (fp16/bf16 and fp32, nearly all weights) run as 32-bit word kernels, several times
// faster than byte loops; other widths and odd lengths take the byte loop.

/** A view of `b` whose byte offset is a multiple of 4 (a copy when it is not). */
export function aligned(b: Uint8Array): Uint8Array {
  return b.byteOffset % 4 === 0 ? b : new Uint8Array(b);
}

/** Splits `src` into `width` byte planes (trailing bytes that do not fill an element stay last, in order). */
export function toPlanes(src: Uint8Array, width: number): Buffer {
  return transpose(src, width, true);
}

/** Inverse of toPlanes. */
export function fromPlanes(src: Uint8Array, width: number): Buffer {
  return transpose(src, width, false);
}

/**
 * Inverse of toPlanes from the planes as separate buffers (plane k is planes[k]; the last one also
 * carries the trailing bytes), XORed with `xor` when given: the planes are never joined first, which
 * saves a pass and a buffer the size of the chunk.
 */
export function fromPlaneList(planes: Uint8Array[], width: number, xor?: Uint8Array): Buffer {
  const n = planes[0]?.length ?? 0;
  const total = planes.reduce((a, p) => a + p.length, 0);
  const even = planes.length === width && planes.every((p, k) => p.length === n || (k === width - 1 && p.length >= n));
  if (!even || (width !== 4 && width !== 2) || n < 4 || (xor && xor.length < total)) {
    const out = width <= 1 ? Buffer.concat(planes, total) : fromPlanes(Buffer.concat(planes, total), width);
    if (xor) xorInPlace(out, xor);
    return out;
  }
  // Groups of four elements in 32-bit words; the last n % 4 elements and the trailing bytes byte by byte.
  const out = Buffer.allocUnsafeSlow(total);
  const q = n >> 2;
  const views = planes.map((b) => {
    const a = aligned(b);
    return new Uint32Array(a.buffer, a.byteOffset, q);
  });
  const dst = new Uint32Array(out.buffer, 0, q * width);
  if (xor) {
    // the XOR in the same pass: one read of the base and one write of the chunk
    const x = aligned(xor);
    (width === 4 ? interleave4Xor : interleave2Xor)(views, dst, q, new Uint32Array(x.buffer, x.byteOffset, q * width));
  } else {
    (width === 4 ? interleave4 : interleave2)(views, dst, q);
  }
  for (let e = q * 4; e < n; e++) for (let k = 0; k < width; k++) out[e * width + k] = planes[k][e];
  out.set(planes[width - 1].subarray(n), n * width);
  if (xor) for (let i = q * 4 * width; i < total; i++) out[i] ^= xor[i];
  return out;
}

/** dst ^= src (equal lengths; dst starts at a multiple of 4, as fresh buffers do), a word at a time. */
function xorInPlace(dst: Buffer, src: Uint8Array): void {
  const n = Math.min(dst.length, src.length);
  const w = dst.byteOffset % 4 === 0 ? n >>> 2 : 0;
  const s = aligned(src);
  const d32 = new Uint32Array(dst.buffer, dst.byteOffset, w);
  const s32 = new Uint32Array(s.buffer, s.byteOffset, w);
  for (let k = 0; k < w; k++) d32[k] ^= s32[k];
  for (let i = w * 4; i < n; i++) dst[i] ^= src[i];
}

function transpose(src: Uint8Array, width: number, forward: boolean): Buffer {
  const out = Buffer.allocUnsafeSlow(src.length);
  if (width <= 1) {
    out.set(src);
    return out;
  }
  const n = Math.floor(src.length / width);
  if ((width === 4 || width === 2) && n % 4 === 0 && n > 0) {
    const s = aligned(src);
    const words = width === 4 ? n : n >> 1;
    const q = n >> 2;
    const whole = new Uint32Array(s.buffer, s.byteOffset, words);
    const dst = new Uint32Array(out.buffer, out.byteOffset, words);
    if (forward) (width === 4 ? deinterleave4 : deinterleave2)(whole, dst, q);
    else (width === 4 ? interleave4 : interleave2)(Array.from({ length: width }, (_, k) => whole.subarray(k * q, (k + 1) * q)), dst, q);
  } else {
    for (let k = 0; k < width; k++) {
      const base = k * n;
      if (forward) for (let i = 0, j = k; i < n; i++, j += width) out[base + i] = src[j];
      else for (let i = 0, j = k; i < n; i++, j += width) out[j] = src[base + i];
    }
  }
  out.set(src.subarray(n * width), n * width);
  return out;
}

// 4x4 byte transposes over q groups of four 4-byte elements: elements -> planes (plane k occupies
// words [k*q, (k+1)*q) of dst) and back (word i of each plane holds byte k of elements 4i..4i+3).
// The same shuffle serves both; only where the words are read from and written to differs.

function deinterleave4(src: Uint32Array, dst: Uint32Array, q: number): void {
  for (let i = 0; i < q; i++) {
    const a = src[4 * i];
    const b = src[4 * i + 1];
    const c = src[4 * i + 2];
    const d = src[4 * i + 3];
    dst[i] = (a & 0xff) | ((b & 0xff) << 8) | ((c & 0xff) << 16) | ((d & 0xff) << 24);
    dst[q + i] = ((a >>> 8) & 0xff) | (b & 0xff00) | ((c & 0xff00) << 8) | ((d & 0xff00) << 16);
    dst[2 * q + i] = ((a >>> 16) & 0xff) | ((b >>> 8) & 0xff00) | (c & 0xff0000) | ((d & 0xff0000) << 8);
    dst[3 * q + i] = (a >>> 24) | ((b >>> 16) & 0xff00) | ((c >>> 8) & 0xff0000) | (d & 0xff000000);
  }
}

function interleave4(planes: Uint32Array[], dst: Uint32Array, q: number): void {
  const [p0, p1, p2, p3] = planes;
  for (let i = 0; i < q; i++) {
    const a = p0[i];
    const b = p1[i];
    const c = p2[i];
    const d = p3[i];
    dst[4 * i] = (a & 0xff) | ((b & 0xff) << 8) | ((c & 0xff) << 16) | ((d & 0xff) << 24);
    dst[4 * i + 1] = ((a >>> 8) & 0xff) | (b & 0xff00) | ((c & 0xff00) << 8) | ((d & 0xff00) << 16);
    dst[4 * i + 2] = ((a >>> 16) & 0xff) | ((b >>> 8) & 0xff00) | (c & 0xff0000) | ((d & 0xff0000) << 8);
    dst[4 * i + 3] = (a >>> 24) | ((b >>> 16) & 0xff00) | ((c >>> 8) & 0xff0000) | (d & 0xff000000);
  }
}

// The same shuffles XORed with a base as they write (one pass over the base instead of two): kernels of
// their own, so that neither loop tests for a base at every word.
function interleave4Xor(planes: Uint32Array[], dst: Uint32Array, q: number, x: Uint32Array): void {
  const [p0, p1, p2, p3] = planes;
  for (let i = 0; i < q; i++) {
    const a = p0[i];
    const b = p1[i];
    const c = p2[i];
    const d = p3[i];
    dst[4 * i] = ((a & 0xff) | ((b & 0xff) << 8) | ((c & 0xff) << 16) | ((d & 0xff) << 24)) ^ x[4 * i];
    dst[4 * i + 1] = (((a >>> 8) & 0xff) | (b & 0xff00) | ((c & 0xff00) << 8) | ((d & 0xff00) << 16)) ^ x[4 * i + 1];
    dst[4 * i + 2] = (((a >>> 16) & 0xff) | ((b >>> 8) & 0xff00) | (c & 0xff0000) | ((d & 0xff0000) << 8)) ^ x[4 * i + 2];
    dst[4 * i + 3] = ((a >>> 24) | ((b >>> 16) & 0xff00) | ((c >>> 8) & 0xff0000) | (d & 0xff000000)) ^ x[4 * i + 3];
  }
}

// 2-byte elements: q groups of four elements (two words) <-> one word in each of the two planes.

function deinterleave2(src: Uint32Array, dst: Uint32Array, q: number): void {
  for (let i = 0; i < q; i++) {
    const a = src[2 * i];
    const b = src[2 * i + 1];
    dst[i] = (a & 0xff) | ((a >>> 8) & 0xff00) | ((b & 0xff) << 16) | ((b << 8) & 0xff000000);
    dst[q + i] = ((a >>> 8) & 0xff) | ((a >>> 16) & 0xff00) | ((b & 0xff00) << 8) | (b & 0xff000000);
  }
}

function interleave2(planes: Uint32Array[], dst: Uint32Array, q: number): void {
  const [lo, hi] = planes;
  for (let i = 0; i < q; i++) {
    const l = lo[i];
    const h = hi[i];
    dst[2 * i] = (l & 0xff) | ((h & 0xff) << 8) | ((l & 0xff00) << 8) | ((h & 0xff00) << 16);
    dst[2 * i + 1] = ((l >>> 16) & 0xff) | ((h >>> 8) & 0xff00) | ((l >>> 8) & 0xff0000) | (h & 0xff000000);
  }
}

function interleave2Xor(planes: Uint32Array[], dst: Uint32Array, q: number, x: Uint32Array): void {
  const [lo, hi] = planes;
  for (let i = 0; i < q; i++) {
    const l = lo[i];
    const h = hi[i];
    dst[2 * i] = ((l & 0xff) | ((h & 0xff) << 8) | ((l & 0xff00) << 8) | ((h & 0xff00) << 16)) ^ x[2 * i];
    dst[2 * i + 1] = (((l >>> 16) & 0xff) | ((h >>> 8) & 0xff00) | ((l >>> 8) & 0xff0000) | (h & 0xff000000)) ^ x[2 * i + 1];
  }
}

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
  const out = Buffer.allocUnsafeSlow(src.length);
  if (width <= 1) {
    out.set(src);
    return out;
  }
  const n = Math.floor(src.length / width);
  if ((width === 4 || width === 2) && n % 4 === 0 && n > 0) {
    const s = aligned(src);
    if (width === 4) transpose4(new Uint32Array(s.buffer, s.byteOffset, n), new Uint32Array(out.buffer, out.byteOffset, n), n >> 2, true);
    else planes2(new Uint32Array(s.buffer, s.byteOffset, n >> 1), new Uint32Array(out.buffer, out.byteOffset, n >> 1), n >> 2, true);
  } else {
    for (let k = 0; k < width; k++) {
      const base = k * n;
      for (let i = 0, j = k; i < n; i++, j += width) out[base + i] = src[j];
    }
  }
  out.set(src.subarray(n * width), n * width);
  return out;
}

/** Inverse of toPlanes. */
export function fromPlanes(src: Uint8Array, width: number): Buffer {
  const out = Buffer.allocUnsafeSlow(src.length);
  if (width <= 1) {
    out.set(src);
    return out;
  }
  const n = Math.floor(src.length / width);
  if ((width === 4 || width === 2) && n % 4 === 0 && n > 0) {
    const s = aligned(src);
    if (width === 4) transpose4(new Uint32Array(s.buffer, s.byteOffset, n), new Uint32Array(out.buffer, out.byteOffset, n), n >> 2, false);
    else planes2(new Uint32Array(s.buffer, s.byteOffset, n >> 1), new Uint32Array(out.buffer, out.byteOffset, n >> 1), n >> 2, false);
  } else {
    for (let k = 0; k < width; k++) {
      const base = k * n;
      for (let i = 0, j = k; i < n; i++, j += width) out[j] = src[base + i];
    }
  }
  out.set(src.subarray(n * width), n * width);
  return out;
}

/**
 * 4x4 byte transpose over q groups of four 4-byte elements. Forward: elements -> planes (plane k
 * occupies words [k*q, (k+1)*q)); backward: planes -> elements. The kernel is its own inverse up to
 * where the words are read from and written to.
 */
function transpose4(src: Uint32Array, dst: Uint32Array, q: number, forward: boolean): void {
  for (let i = 0; i < q; i++) {
    let a: number, b: number, c: number, d: number;
    if (forward) {
      a = src[4 * i];
      b = src[4 * i + 1];
      c = src[4 * i + 2];
      d = src[4 * i + 3];
    } else {
      a = src[i];
      b = src[q + i];
      c = src[2 * q + i];
      d = src[3 * q + i];
    }
    const w0 = (a & 0xff) | ((b & 0xff) << 8) | ((c & 0xff) << 16) | ((d & 0xff) << 24);
    const w1 = ((a >>> 8) & 0xff) | (b & 0xff00) | ((c & 0xff00) << 8) | ((d & 0xff00) << 16);
    const w2 = ((a >>> 16) & 0xff) | ((b >>> 8) & 0xff00) | (c & 0xff0000) | ((d & 0xff0000) << 8);
    const w3 = (a >>> 24) | ((b >>> 16) & 0xff00) | ((c >>> 8) & 0xff0000) | (d & 0xff000000);
    if (forward) {
      dst[i] = w0;
      dst[q + i] = w1;
      dst[2 * q + i] = w2;
      dst[3 * q + i] = w3;
    } else {
      dst[4 * i] = w0;
      dst[4 * i + 1] = w1;
      dst[4 * i + 2] = w2;
      dst[4 * i + 3] = w3;
    }
  }
}

/** 2-byte elements: q groups of four elements (two words) <-> one word in each of the two planes. */
function planes2(src: Uint32Array, dst: Uint32Array, q: number, forward: boolean): void {
  for (let i = 0; i < q; i++) {
    if (forward) {
      const a = src[2 * i];
      const b = src[2 * i + 1];
      dst[i] = (a & 0xff) | ((a >>> 8) & 0xff00) | ((b & 0xff) << 16) | ((b << 8) & 0xff000000);
      dst[q + i] = ((a >>> 8) & 0xff) | ((a >>> 16) & 0xff00) | ((b & 0xff00) << 8) | (b & 0xff000000);
    } else {
      const lo = src[i];
      const hi = src[q + i];
      dst[2 * i] = (lo & 0xff) | ((hi & 0xff) << 8) | ((lo & 0xff00) << 8) | ((hi & 0xff00) << 16);
      dst[2 * i + 1] = ((lo >>> 16) & 0xff) | ((hi >>> 8) & 0xff00) | ((lo >>> 8) & 0xff0000) | (hi & 0xff000000);
    }
  }
}

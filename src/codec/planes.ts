// Byte-plane transposition: element i's byte k goes to plane k. Floating-point weights put their
// sign and exponent in the high byte, which is nearly constant across a tensor, so splitting the
// planes lets zstd see long runs instead of interleaved noise. Pure functions, no I/O.

/** Splits `src` into `width` byte planes (trailing bytes that do not fill an element stay last, in order). */
export function toPlanes(src: Uint8Array, width: number): Buffer {
  const out = Buffer.allocUnsafe(src.length);
  if (width <= 1) {
    out.set(src);
    return out;
  }
  const n = Math.floor(src.length / width);
  for (let k = 0; k < width; k++) {
    const base = k * n;
    for (let i = 0, j = k; i < n; i++, j += width) out[base + i] = src[j];
  }
  out.set(src.subarray(n * width), n * width);
  return out;
}

/** Inverse of toPlanes. */
export function fromPlanes(src: Uint8Array, width: number): Buffer {
  const out = Buffer.allocUnsafe(src.length);
  if (width <= 1) {
    out.set(src);
    return out;
  }
  const n = Math.floor(src.length / width);
  for (let k = 0; k < width; k++) {
    const base = k * n;
    for (let i = 0, j = k; i < n; i++, j += width) out[j] = src[base + i];
  }
  out.set(src.subarray(n * width), n * width);
  return out;
}

// Memory that is already there (docs/store-format.md, "Reading"). A fresh buffer costs the kernel a
// zeroed page per 4 KiB on first write, and V8 frees it only when it collects. Two reuses, per thread:
// - decoded chunks: once git has a file's bytes, the main thread hands their buffers back and the
//   worker decodes the next chunks of the same size into them (a family's models share their tensors'
//   shapes; digits: 24 MB of its 78 MB checkout); bounded, emptied at the end of each job;
// - objects read from disk: a stack over one buffer, which the reads of their bases nest on.

/** Buffers waiting for reuse, at most this many bytes in all. */
const KEEP_BYTES = 64 * 1024 * 1024;
/** Smaller buffers are not worth the bookkeeping (V8's own pool serves them). */
const MIN_BYTES = 64 * 1024;

const free = new Map<number, ArrayBuffer[]>();
let freeBytes = 0;
let reused = 0;
let garbage = 0;

/** A buffer of `length` bytes, uninitialized: a recycled one of that size when there is one. */
export function reuse(length: number): Buffer {
  const list = length >= MIN_BYTES ? free.get(length) : undefined;
  const ab = list?.pop();
  if (!ab) return Buffer.allocUnsafeSlow(length);
  if (!list!.length) free.delete(length);
  freeBytes -= length;
  reused += length;
  return Buffer.from(ab);
}

/** A copy of `src` in a buffer from `reuse`. */
export function reusedCopy(src: Uint8Array): Buffer {
  const copy = reuse(src.length);
  copy.set(src);
  return copy;
}

/** Keeps a buffer nothing refers to any more for the next `reuse` of its size. */
export function recycle(ab: ArrayBuffer): void {
  const n = ab.byteLength;
  if (n < MIN_BYTES || freeBytes + n > KEEP_BYTES) {
    garbage += n;
    return;
  }
  let list = free.get(n);
  if (!list) free.set(n, (list = []));
  list.push(ab);
  freeBytes += n;
}

/** Bytes handed out again since the last call (a job's figure, for the trace). */
export function takeReusedBytes(): number {
  const n = reused;
  reused = 0;
  return n;
}

/** Counts bytes this thread let go of (a decoded chunk a cache dropped): garbage, for release.ts. */
export function noteGarbage(bytes: number): void {
  garbage += bytes;
}

/**
 * Bytes that became garbage in this thread since the last call: buffers handed back and not kept, and
 * what `noteGarbage` counted. Nothing else a worker allocates while decoding is garbage there: its
 * chunks go to the main thread, its scratch and read stack are reused.
 */
export function takeGarbageBytes(): number {
  const n = garbage;
  garbage = 0;
  return n;
}

/** Drops every kept buffer (a job ended: the next may be another repository, or none for hours). */
export function clearRecycled(): void {
  free.clear();
  freeBytes = 0;
  if (top === 0) stack = Buffer.alloc(0);
  wanted = 0;
}

/** The read stack grows to at most this (deeper reads get buffers of their own). */
const STACK_MAX = 8 * 1024 * 1024;
let stack = Buffer.alloc(0);
let top = 0;
let wanted = 0;

/**
 * Room for an object read from disk while it decodes. Reads nest (a chunk's object stays in use while
 * its bases are read and decoded), so they take their room from a stack over one buffer, released by
 * `releaseReads(mark)`; the buffer grows between reads to the deepest stack seen. Nothing that
 * outlives the decode may point into it.
 */
export function readRoom(length: number): Buffer {
  const at = (top + 15) & ~15;
  if (at + length <= stack.length) {
    top = at + length;
    return stack.subarray(at, at + length);
  }
  wanted = Math.min(STACK_MAX, Math.max(wanted, at + length));
  return Buffer.allocUnsafeSlow(length);
}

export function readMark(): number {
  return top;
}

export function releaseReads(mark: number): void {
  top = mark;
  if (top === 0 && wanted > stack.length) stack = Buffer.allocUnsafeSlow(wanted);
}

/** Whether `b` points into the read stack (then it must be copied to outlive its decode). */
export function inReadRoom(b: Uint8Array): boolean {
  return b.buffer === stack.buffer && stack.length > 0;
}

// Decoded chunks live in ArrayBuffers outside V8's heap, and V8 frees those only when it collects
// that heap, which outside allocations trigger only every 64 MiB or so of growth. Streaming a large
// model in 16 MiB pieces (decoded in a worker, handed to the main thread, written to git) would let
// each of the two threads hold that much garbage: most of the filter's peak memory. Both threads ask
// for a collection after every 16 MiB of large pieces instead. Where the collector cannot be reached, nothing changes but the peak.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A collection after every this many bytes of large pieces done with (one per 16 MiB model piece). */
const RELEASE_EVERY = 16 * 1024 * 1024;
/** Pieces smaller than this are left to V8's own collections. */
const RELEASE_FROM = 1024 * 1024;

let doneBytes = 0;

/**
 * Counts a piece this thread is done with (written, or handed over), and collects once enough bytes
 * have passed: after each 16 MiB piece of a large model, after every few pieces of 4 MiB (a collection
 * costs 5-10 ms with a worker's cache of delta bases to trace; one per 4 MiB piece cost a checkout
 * of digits 200 ms).
 */
export function doneWith(bytes: number): void {
  if (bytes < RELEASE_FROM) return;
  doneBytes += bytes;
  if (doneBytes < RELEASE_EVERY) return;
  doneBytes = 0;
  releaseGarbage();
}

let collect: (() => void) | null | undefined;

/** Collects now (between jobs of a prestarted process and of its kept worker). */
export function releaseGarbage(): void {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    } catch {
      collect = null;
    }
  }
  collect?.();
}

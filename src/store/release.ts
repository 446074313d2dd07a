// Decoded chunks live in ArrayBuffers outside V8's heap, and V8 frees those only when it collects
// that heap, which outside allocations trigger only every 64 MiB or so of growth. Streaming a large
// model in 16 MiB pieces (decoded in a worker, handed to the main thread, written to git) would let
// each of the two threads hold that much garbage: most of the filter's peak memory. Both threads ask
// for a collection after each large piece instead; with a heap of a few MiB it takes about a
// millisecond. Where the collector cannot be reached, nothing changes but the peak.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Pieces at least this large are worth a collection once they are done with. */
export const RELEASE_FROM = 4 * 1024 * 1024;

let collect: (() => void) | null | undefined;

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

// Worker thread of PrefetchReader: reads, decodes and verifies chunks off the main thread, so a
// checkout decodes the next pieces while the main thread streams the current one to git.
// Owns nothing but its own ChunkStore instance (with its own cache of decoded delta bases).

import { parentPort, workerData } from 'node:worker_threads';
import { releaseGarbage, RELEASE_FROM } from './release.js';
import { ChunkStore } from './store.js';

const store = new ChunkStore((workerData as { root: string }).root);

parentPort!.on('message', (msg: { seq: number; id: string }) => {
  try {
    const b = store.get(msg.id, { cache: false });
    // A transferred buffer is detached (empty) on this side: copy it when this store's cache of delta
    // bases holds it, or when it is a view into a larger buffer; otherwise hand it over as it is.
    const whole = b.byteOffset === 0 && b.length === b.buffer.byteLength;
    const ab = (whole && !store.isCached(msg.id) ? b.buffer : b.buffer.slice(b.byteOffset, b.byteOffset + b.length)) as ArrayBuffer;
    parentPort!.postMessage({ seq: msg.seq, ok: true, buf: ab }, [ab]);
    if (b.length >= RELEASE_FROM) releaseGarbage(); // what decoding it took (object, streams, bases) is garbage now
  } catch (e) {
    const err = e as Error & { code?: string; chunk?: string };
    parentPort!.postMessage({ seq: msg.seq, ok: false, code: err.code, message: err.message, chunk: err.chunk });
  }
});

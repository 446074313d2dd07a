// Worker thread of PrefetchReader: reads, decodes and verifies chunks off the main thread, so a
// checkout decodes the next pieces while the main thread streams the current one to git.
// Owns nothing but its own ChunkStore instance (with its own cache of decoded delta bases), one
// store at a time: a prestarted filter keeps its worker from one job to the next, opening the store
// of each job's repository and closing it (and its cache) at the job's end.

import { parentPort, workerData } from 'node:worker_threads';
import { dropKernels } from '../codec/kernels.js';
import { exerciseTransforms } from './object.js';
import { clearRecycled, recycle, reusedCopy, takeGarbageBytes, takeReusedBytes } from './recycle.js';
import { doneWith, releaseGarbage } from './release.js';
import { ChunkStore } from './store.js';

type Message = { seq: number; id: string } | { open: string | null } | { warm: true } | { recycle: ArrayBuffer[] };

const root = (workerData as { root?: string }).root;
let store = root ? new ChunkStore(root) : undefined;

parentPort!.on('message', (msg: Message) => {
  if ('open' in msg) {
    store?.close();
    store = msg.open ? new ChunkStore(msg.open) : undefined;
    if (!store) {
      // a job ended: its cache of delta bases, its buffers and a large scratch memory go now
      clearRecycled();
      dropKernels();
      releaseGarbage();
    }
    return;
  }
  if ('recycle' in msg) {
    for (const ab of msg.recycle) recycle(ab); // git has these chunks' bytes: decode the next into them
    return;
  }
  if ('warm' in msg) {
    for (let i = 0; i < 3; i++) exerciseTransforms();
    releaseGarbage(); // not held while the process waits
    return;
  }
  try {
    if (!store) throw new Error('no store open');
    // the main thread checks the bytes against the id, on the other core
    const b = store.get(msg.id, { cache: false, verify: false });
    // A transferred buffer is detached (empty) on this side: copy it when this store's cache of delta
    // bases holds it (it was decoded as a base, and checked then), or when it is a view into a larger
    // buffer; otherwise hand it over as it is.
    const verified = store.isCached(msg.id);
    const whole = b.byteOffset === 0 && b.length === b.buffer.byteLength;
    const ab = (whole && !verified ? b : reusedCopy(b)).buffer as ArrayBuffer;
    parentPort!.postMessage({ seq: msg.seq, ok: true, buf: ab, verified, reused: takeReusedBytes() }, [ab]);
    // A forced collection costs the worker 8-12 ms, with its cache to trace (digits: four of them, 40 ms
    // of a 250 ms checkout): only for garbage of its own, not for the chunks it hands over.
    doneWith(takeGarbageBytes());
  } catch (e) {
    const err = e as Error & { code?: string; chunk?: string };
    parentPort!.postMessage({ seq: msg.seq, ok: false, code: err.code, message: err.message, chunk: err.chunk });
  }
});

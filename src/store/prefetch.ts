// Reads a known sequence of chunks with a worker thread decoding ahead, in order. On a 2-core machine
// this overlaps decoding (zstd, byte planes, sha256 verification) with writing to git. Falls back to
// reading on the calling thread when a worker cannot start.

import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { ChunkCorruptError, ChunkMissingError, MgitError } from '../errors.js';
import { doneWith } from './release.js';
import { verifyChunk, type ChunkStore } from './store.js';

const AHEAD = 2;
/**
 * Requests for chunks of 64 KiB or more the worker holds at most: the rest wait here, so that buffers
 * handed back (recycle) reach the worker before it decodes the next chunks, not after every request
 * of a checkout. Smaller chunks are not recycled and go at once, without a round trip to this thread
 * each (linzaer: 816 chunks of about 20 KB for 11 models; held to eight at a time, its checkout took
 * 179 ms instead of 135 ms).
 */
const WINDOW = 8;
const SMALL = 64 * 1024;

interface Reply {
  seq: number;
  ok: boolean;
  buf?: ArrayBuffer;
  /** the worker checked these bytes against the id (a delta base it had decoded) */
  verified?: boolean;
  /** bytes the worker decoded into recycled buffers for this reply */
  reused?: number;
  code?: string;
  message?: string;
  chunk?: string;
}

export class PrefetchReader {
  private worker?: Worker;
  private readonly waiting = new Map<number, { resolve(r: Reply): void; reject(e: Error): void }>();
  private nextSeq = 0;
  private failed?: Error;
  /** requests not yet posted to the worker (WINDOW) */
  private readonly queued: { seq: number; id: string; size: number }[] = [];
  /** large requests the worker holds (WINDOW), and which requests are large */
  private posted = 0;
  private readonly large = new Set<number>();
  /** bytes decoded into buffers handed back (recycle), since the store was opened */
  reusedBytes = 0;

  /** `store`: the store to read; none for a worker started ahead of its first job (see keepWarm). */
  constructor(private store?: ChunkStore) {
    try {
      this.worker = new Worker(new URL('./read-worker.js', import.meta.url), { workerData: { root: store?.root } });
      this.worker.unref();
      this.worker.on('message', (r: Reply) => {
        const w = this.waiting.get(r.seq);
        this.waiting.delete(r.seq);
        if (this.large.delete(r.seq)) this.posted--;
        this.reusedBytes += r.reused ?? 0;
        this.post();
        w?.resolve(r);
      });
      this.worker.on('error', (e) => this.fail(e));
      this.worker.on('exit', (code) => code !== 0 && this.fail(new Error(`chunk reader exited with ${code}`)));
    } catch {
      this.worker = undefined;
    }
  }

  private fail(e: Error): void {
    this.failed ??= e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
    this.queued.length = 0;
    this.large.clear();
    this.posted = 0;
  }

  /** Yields the chunks in order, decoding up to AHEAD of them in advance. */
  async *read(ids: string[]): AsyncGenerator<Buffer> {
    const pending: Promise<Buffer>[] = [];
    let next = 0;
    const fill = () => {
      while (next < ids.length && pending.length < AHEAD) pending.push(this.fetch(ids[next++]));
    };
    fill();
    while (pending.length) {
      const chunk = await pending.shift()!;
      fill();
      yield chunk;
      doneWith(chunk.length); // the pieces before this one are written: free them
    }
  }

  /**
   * One chunk, decoded by the worker after the ones asked for before it, and checked here against its
   * id (the worker checks its delta bases and leaves this to the main thread, on the other core; a
   * chunk it had decoded and checked as a base comes checked).
   */
  fetch(id: string, size = SMALL): Promise<Buffer> {
    let p: Promise<Buffer>;
    if (!this.worker) p = Promise.resolve().then(() => this.store!.get(id, { cache: false }));
    else if (this.failed) p = Promise.reject(this.failed);
    else {
      const seq = this.nextSeq++;
      const reply = new Promise<Reply>((resolve, reject) => this.waiting.set(seq, { resolve, reject }));
      this.queued.push({ seq, id, size });
      this.post();
      p = reply.then(async (r) => {
        if (!r.ok) throw rebuild(r);
        const chunk = Buffer.from(r.buf!);
        if (!r.verified) await verifyInSlices(id, chunk);
        return chunk;
      });
    }
    p.catch(() => undefined); // its reader sees the error; a chunk asked for ahead may never be awaited
    return p;
  }

  private post(): void {
    while (this.queued.length && (this.posted < WINDOW || this.queued[0].size < SMALL)) {
      const { seq, id, size } = this.queued.shift()!;
      this.worker!.postMessage({ seq, id });
      if (size >= SMALL) {
        this.posted++;
        this.large.add(seq);
      }
    }
  }

  /**
   * Hands buffers of chunks back to the worker, to decode later chunks into (recycle.ts): the caller
   * guarantees nothing refers to them any more. False when there is no worker to take them.
   */
  recycle(buffers: ArrayBuffer[]): boolean {
    if (!this.worker || this.failed) return false;
    if (buffers.length) this.worker.postMessage({ recycle: buffers }, buffers);
    return true;
  }

  /** Reads from this store from now on; false when the worker is gone. */
  reopen(store: ChunkStore | undefined): boolean {
    if (!this.worker || this.failed) return false;
    this.store = store;
    this.reusedBytes = 0;
    this.worker.postMessage({ open: store?.root ?? null });
    return true;
  }

  warm(): void {
    this.worker?.postMessage({ warm: true });
  }

  async close(): Promise<void> {
    if (this === kept && this.reopen(undefined)) return; // kept for the next job, without this one's store and cache
    await this.worker?.terminate();
    this.worker = undefined;
  }
}

/**
 * Hashing a 4.7 MB chunk takes the main thread 3 ms, while git, reading what the main thread writes
 * to it through a 64 KiB pipe, waits. In slices, the writes go on in between.
 */
const HASH_SLICE = 512 * 1024;

async function verifyInSlices(id: string, chunk: Buffer): Promise<void> {
  if (chunk.length <= HASH_SLICE) return verifyChunk(id, chunk);
  const h = createHash('sha256');
  for (let off = 0; off < chunk.length; off += HASH_SLICE) {
    h.update(chunk.subarray(off, off + HASH_SLICE));
    await new Promise(setImmediate);
  }
  if (h.digest('hex') !== id) throw new ChunkCorruptError(id, 'its bytes do not match its id');
}

/** The reader a prestarted filter keeps between jobs, its worker started and warmed ahead. */
let kept: PrefetchReader | undefined;

/**
 * Starts the worker thread now and has it run its decoding kernels a few times, so that the first
 * checkout that needs it finds it started and compiled (a prestarted filter calls this while it waits).
 * A cold worker rebuilt digits' first model in 220 ms; warm, decoding overlaps git's writes.
 */
export function keepWarm(): void {
  kept ??= new PrefetchReader();
  kept.warm();
}

/** A reader of `store`: the kept one when there is one, else a new worker. */
export function readerFor(store: ChunkStore): PrefetchReader {
  return kept?.reopen(store) ? kept : new PrefetchReader(store);
}
/** The worker's error, as the same class the main thread would have thrown. */
function rebuild(r: Reply): Error {
  if (r.code === 'ECHUNKMISSING' && r.chunk) return new ChunkMissingError(r.chunk);
  if (r.code === 'ECHUNKCORRUPT' && r.chunk) {
    const e = new ChunkCorruptError(r.chunk, '');
    e.message = r.message ?? e.message;
    return e;
  }
  return new MgitError(r.code ?? 'EREAD', r.message ?? 'chunk read failed');
}

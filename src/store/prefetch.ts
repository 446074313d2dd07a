// Reads a known sequence of chunks with a worker thread decoding ahead, in order. On a 2-core machine
// this overlaps decoding (zstd, byte planes, sha256 verification) with writing to git. Falls back to
// reading on the calling thread when a worker cannot start.

import { Worker } from 'node:worker_threads';
import { ChunkCorruptError, ChunkMissingError, MgitError } from '../errors.js';
import { releaseGarbage, RELEASE_FROM } from './release.js';
import type { ChunkStore } from './store.js';

const AHEAD = 2;

interface Reply {
  seq: number;
  ok: boolean;
  buf?: ArrayBuffer;
  code?: string;
  message?: string;
  chunk?: string;
}

export class PrefetchReader {
  private worker?: Worker;
  private readonly waiting = new Map<number, { resolve(r: Reply): void; reject(e: Error): void }>();
  private readonly done = new Map<number, Reply>();
  private nextSeq = 0;
  private failed?: Error;

  constructor(private readonly store: ChunkStore) {
    try {
      this.worker = new Worker(new URL('./read-worker.js', import.meta.url), { workerData: { root: store.root } });
      this.worker.unref();
      this.worker.on('message', (r: Reply) => {
        const w = this.waiting.get(r.seq);
        if (w) {
          this.waiting.delete(r.seq);
          w.resolve(r);
        } else this.done.set(r.seq, r);
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
  }

  /** Yields the chunks in order, decoding up to AHEAD of them in advance. */
  async *read(ids: string[]): AsyncGenerator<Buffer> {
    if (!this.worker) {
      for (const id of ids) yield this.store.get(id, { cache: false });
      return;
    }
    const seqs: number[] = [];
    const request = (i: number) => {
      const seq = this.nextSeq++;
      seqs[i] = seq;
      this.worker!.postMessage({ seq, id: ids[i] });
    };
    for (let i = 0; i < Math.min(AHEAD, ids.length); i++) request(i);
    for (let i = 0; i < ids.length; i++) {
      if (i + AHEAD < ids.length) request(i + AHEAD);
      const r = await this.reply(seqs[i]);
      if (!r.ok) throw rebuild(r);
      const size = r.buf!.byteLength;
      yield Buffer.from(r.buf!);
      if (size >= RELEASE_FROM) releaseGarbage(); // the pieces before this one are written: free them
    }
  }

  private reply(seq: number): Promise<Reply> {
    if (this.failed) return Promise.reject(this.failed);
    const r = this.done.get(seq);
    if (r) {
      this.done.delete(seq);
      return Promise.resolve(r);
    }
    return new Promise((resolve, reject) => this.waiting.set(seq, { resolve, reject }));
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = undefined;
  }
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

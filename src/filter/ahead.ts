// Rebuilding ahead during a checkout, through git's `delay` capability. git asks for files one at a
// time and writes each before it asks for the next, so a filter that rebuilds a file only when asked
// leaves git idle while it decodes and itself idle while git writes. With `can-delay=1` the filter
// answers "delayed" at once and git goes on sending the rest of its requests: mgit then knows every
// file of the checkout, rebuilds them in order in its worker thread (one thread, so delta chains that
// several models share are decoded once, in one cache), and hands each to git when git comes back for
// it, while the worker goes on with the next. The two cores work at the same time: one decodes, the
// other copies to git and git writes files. Rebuilt files wait in memory up to a budget.

import { pointerChunks, type Pointer } from '../codec/pointer.js';
import type { PrefetchReader } from '../store/prefetch.js';
import { chunkOrder, Splicer } from './smudge.js';

/**
 * Files from this size are rebuilt ahead. Smaller ones are rebuilt when git asks: a delayed file costs
 * git a second request and a round trip to the worker, more than decoding 300 KB (yunet's models:
 * 85 ms answering in turn, 112 ms all delayed; linzaer's of 1.1-2.8 MB: 172 ms in turn, 140 ms ahead).
 */
export const AHEAD_MIN_FILE = 1024 * 1024;
/** Files larger than this are streamed when git asks for them, never held whole. */
export const AHEAD_MAX_FILE = 64 * 1024 * 1024;
/** Rebuilt files waiting for git are held up to this many bytes (one file more may be on its way). */
const AHEAD_BUDGET = 128 * 1024 * 1024;

export interface AheadFile {
  pathname: string;
  size: number;
  state: 'queued' | 'ready' | 'listed';
  /** the distinct chunks it is made of, once asked for */
  ids?: string[];
  /** the file's bytes, once rebuilt */
  pieces?: Buffer[];
  /** why it could not be rebuilt: git is told when it asks for the file again */
  error?: unknown;
}

/** A chunk of files asked for: its bytes once decoded, and how many of the waiting files use it. */
interface SharedChunk {
  p: Promise<Buffer>;
  buf?: Buffer;
  files: number;
}

export class DecodeAhead {
  private readonly files = new Map<string, AheadFile>();
  private readonly queue: { f: AheadFile; p: Pointer }[] = [];
  /** bytes of files being rebuilt, and of rebuilt files git has not taken yet */
  private inflight = 0;
  private held = 0;
  /** wakes whoever waits for a file to be rebuilt (list_available_blobs) */
  private wake?: () => void;
  /**
   * Chunks of the files asked for and not yet written by git, with how many of those files use each:
   * a chunk that several models share (dedup) is decoded and verified once, and its buffer goes back
   * to the worker when the last of them is written.
   */
  private readonly chunks = new Map<string, SharedChunk>();
  /** for the trace: files and bytes rebuilt, chunks asked of the worker, and those another file had asked for */
  readonly stats = { files: 0, bytes: 0, fetched: 0, shared: 0 };

  /** `budget`: bytes of files rebuilt or being rebuilt that may wait for git (one file more when none does) */
  constructor(
    private readonly reader: PrefetchReader,
    private readonly budget = AHEAD_BUDGET,
  ) {}

  /** Queues a file to rebuild; git will ask for it again once it is listed as available. */
  delay(pathname: string, pointer: Pointer): void {
    const f: AheadFile = { pathname, size: pointer.size, state: 'queued' };
    this.files.set(pathname, f);
    this.queue.push({ f, p: pointer });
    this.issue();
  }

  /**
   * Asks the worker for every chunk of the queued files that fit in the budget: it decodes them in
   * order, one after the other, never waiting for this thread between files.
   */
  private issue(): void {
    while (this.queue.length) {
      const { f, p } = this.queue[0];
      const busy = this.inflight + this.held;
      if (busy > 0 && busy + f.size > this.budget) return;
      this.queue.shift();
      this.inflight += f.size;
      const order = chunkOrder(p);
      f.ids = [...new Set(order)];
      const sizes = new Map(pointerChunks(p).map((c) => [c.chunk, c.length])); // for the worker's window
      this.stats.files++;
      this.stats.bytes += f.size;
      for (const id of f.ids) {
        let c = this.chunks.get(id);
        if (c) this.stats.shared++;
        else {
          this.stats.fetched++;
          const entry: SharedChunk = { p: this.reader.fetch(id, sizes.get(id)), files: 0 };
          entry.p.then((b) => (entry.buf = b), () => undefined);
          this.chunks.set(id, (c = entry));
        }
        c.files++;
      }
      void this.assemble(f, p, order.map((id) => this.chunks.get(id)!.p));
    }
  }

  /**
   * git has written a file's bytes (or was told it failed): its chunks that no other waiting file
   * uses go back to the worker to be decoded into again. Returns the bytes that did not (garbage).
   */
  done(f: AheadFile): number {
    const back: ArrayBuffer[] = [];
    let garbage = 0;
    for (const id of f.ids ?? []) {
      const c = this.chunks.get(id);
      if (!c || --c.files > 0) continue;
      this.chunks.delete(id);
      const b = c.buf;
      if (!b) continue;
      if (b.byteOffset === 0 && b.length === b.buffer.byteLength) back.push(b.buffer as ArrayBuffer);
      else garbage += b.length;
    }
    f.ids = undefined;
    if (!this.reader.recycle(back)) for (const ab of back) garbage += ab.byteLength;
    return garbage;
  }

  private async assemble(f: AheadFile, p: Pointer, chunks: Promise<Buffer>[]): Promise<void> {
    try {
      const s = new Splicer(p);
      const pieces: Buffer[] = [];
      for (const c of chunks) pieces.push(...s.feed(await c));
      s.finish();
      f.pieces = pieces;
      this.held += f.size;
    } catch (e) {
      f.error = e;
    }
    this.inflight -= f.size;
    f.state = 'ready';
    this.notify();
  }

  /** Resolves when a file was rebuilt. */
  next(): Promise<void> {
    return new Promise((resolve) => {
      const before = this.wake;
      this.wake = () => {
        before?.();
        resolve();
      };
    });
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Files rebuilt (or failed) since the last call, now listed to git. */
  readyNow(): string[] {
    const out: string[] = [];
    for (const f of this.files.values()) {
      if (f.state !== 'ready') continue;
      f.state = 'listed';
      out.push(f.pathname);
    }
    return out;
  }

  /** Whether files are still to be rebuilt. */
  get pending(): boolean {
    for (const f of this.files.values()) if (f.state === 'queued') return true;
    return false;
  }

  /** A listed file git asks for again: its bytes (or its error) leave the budget. */
  take(pathname: string): AheadFile | undefined {
    const f = this.files.get(pathname);
    if (!f || f.state !== 'listed') return undefined;
    this.files.delete(pathname);
    if (f.pieces) this.held -= f.size;
    this.issue();
    return f;
  }
}


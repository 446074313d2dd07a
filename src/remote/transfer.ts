// Moves stored objects between the local chunk store and shared storage, as the store keeps them
// (getEncoded / putEncoded): no re-encoding, and deltas stay deltas. Storage must stay self-sufficient,
// so an upload takes each object's delta bases along (recursively) and sends a base before any object
// that needs it; a download fetches bases first. Every object is verified: before upload (decoded and
// checked against its id, so a damaged local object never reaches storage), and after download
// (putEncoded verifies). Never uploads an object whose base it could not upload. Verification before
// upload runs in a worker thread (the store's PrefetchReader), so decoding overlaps the transfers.

import { ChunkCorruptError, errorMessage, isMgitError, StorageChunkError, StorageError } from '../errors.js';
import { objectBases } from '../store/object.js';
import { PrefetchReader } from '../store/prefetch.js';
import type { ChunkStore } from '../store/store.js';
import { trace } from '../trace.js';
import { Semaphore } from './pool.js';
import { Progress } from './progress.js';
import type { Storage } from './storage.js';

export const DEFAULT_JOBS = 8;

export interface UploadResult {
  /** objects needed on storage, delta bases included */
  needed: number;
  /** of those, already on storage */
  present: number;
  uploaded: number;
  bytes: number;
  /** objects that cannot go up because they are not (intact) in the local store: id -> why */
  missing: Map<string, string>;
  /** objects that did not reach storage: id -> why */
  failed: Map<string, string>;
  /** a failure of storage as a whole, which stopped the upload */
  fatal?: Error;
  seconds: number;
}

export interface UploadOptions {
  jobs?: number;
  progress?: boolean;
  dryRun?: boolean;
}

export async function uploadObjects(store: ChunkStore, storage: Storage, ids: Iterable<string>, opts: UploadOptions = {}): Promise<UploadResult> {
  const t0 = performance.now();
  const missing = new Map<string, string>();
  const failed = new Map<string, string>();
  const bases = new Map<string, string[]>();

  // 1. The closure over delta bases, from the local store.
  const stack = [...new Set(ids)];
  while (stack.length) {
    const id = stack.pop()!;
    if (bases.has(id) || missing.has(id)) continue;
    if (!store.has(id)) {
      missing.set(id, 'it is not in the local store');
      continue;
    }
    let b: string[];
    try {
      b = store.basesOf(id);
    } catch (e) {
      missing.set(id, `it cannot be read from the local store (${errorMessage(e)})`);
      continue;
    }
    bases.set(id, b);
    stack.push(...b);
  }
  // An object whose base (at any depth) is missing cannot be stored self-sufficiently.
  const blocked = (id: string, seen = new Set<string>()): string | undefined => {
    for (const b of bases.get(id) ?? []) {
      if (missing.has(b)) return b;
      if (seen.has(b)) continue;
      seen.add(b);
      const deeper = blocked(b, seen);
      if (deeper) return deeper;
    }
    return undefined;
  };
  for (const id of [...bases.keys()]) {
    const b = blocked(id);
    if (b) {
      missing.set(id, `its delta base ${b} is missing`);
      bases.delete(id);
    }
  }
  const needed = [...bases.keys()];
  const result: UploadResult = { needed: needed.length, present: 0, uploaded: 0, bytes: 0, missing, failed, seconds: 0 };
  const done = () => ((result.seconds = (performance.now() - t0) / 1000), result);
  if (needed.length === 0) return done();

  // 2. One existence query for all of them.
  let present: Set<string>;
  try {
    if (!opts.dryRun) await storage.prepareForWrite();
    present = await storage.has(needed);
  } catch (e) {
    result.fatal = e as Error;
    for (const id of needed) failed.set(id, errorMessage(e));
    return done();
  }
  result.present = present.size;
  const toSend = needed.filter((id) => !present.has(id));
  trace(`upload: ${needed.length} needed, ${present.size} present, ${toSend.length} to send, ${missing.size} missing`);
  if (opts.dryRun) {
    for (const id of toSend) result.bytes += store.info(id)?.storedBytes ?? 0;
    result.uploaded = toSend.length;
    return done();
  }

  // 3. Verified in a worker, bases first; N transfers in flight; each object after its bases.
  const sem = new Semaphore(Math.max(1, opts.jobs ?? DEFAULT_JOBS));
  const progress = new Progress('uploading chunks', toSend.length, 'objects', opts.progress !== false);
  const sending = new Set(toSend);
  const tasks = new Map<string, Promise<void>>();
  const killAfter = Number(process.env.MGIT_TEST_KILL_AFTER_UPLOADS) || 0; // fault injection for tests only
  const upload = async (id: string): Promise<void> => {
    for (const b of bases.get(id) ?? []) {
      if (!sending.has(b)) continue;
      await tasks.get(b);
      if (failed.has(b) || !tasks.has(b)) {
        failed.set(id, `its delta base ${b} did not reach storage`);
        return;
      }
    }
    await sem.run(async () => {
      if (result.fatal) {
        failed.set(id, `not uploaded: ${errorMessage(result.fatal)}`);
        return;
      }
      let obj: Buffer;
      try {
        obj = store.getEncoded(id);
      } catch (e) {
        missing.set(id, errorMessage(e));
        failed.set(id, 'not uploaded: ' + missing.get(id));
        return;
      }
      try {
        await storage.put(id, obj);
      } catch (e) {
        failed.set(id, errorMessage(e));
        if (e instanceof StorageError || !isMgitError(e)) result.fatal ??= e as Error;
        return;
      }
      result.uploaded++;
      result.bytes += obj.length;
      progress.add(1, obj.length);
      if (killAfter && result.uploaded >= killAfter) process.kill(process.pid, 'SIGKILL');
    });
  };
  // Decode and check each object against its id before it may go: damage must not spread to storage.
  const order = basesFirst(toSend, bases);
  const verifier = new PrefetchReader(store);
  try {
    let next = 0;
    while (next < order.length && !result.fatal) {
      try {
        for await (const _raw of verifier.read(order.slice(next))) {
          const id = order[next++];
          tasks.set(id, upload(id));
          if (result.fatal) break;
        }
      } catch (e) {
        const id = order[next++]; // the object that failed its check (the reader yields in order)
        missing.set(id, e instanceof ChunkCorruptError ? `it is corrupt in the local store (${errorMessage(e).replace(/^chunk \S+ is corrupt: /, '')})` : errorMessage(e));
        failed.set(id, 'not uploaded: ' + missing.get(id));
      }
    }
    for (const id of order.slice(next)) if (!failed.has(id)) failed.set(id, `not uploaded: ${errorMessage(result.fatal)}`);
  } finally {
    await verifier.close();
  }
  await Promise.all(tasks.values());
  progress.finish();
  return done();
}

/** Objects ordered so that every base comes before the objects that need it. */
function basesFirst(ids: string[], bases: Map<string, string[]>): string[] {
  const want = new Set(ids);
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    for (const b of bases.get(id) ?? []) if (want.has(b)) visit(b);
    out.push(id);
  };
  for (const id of ids) visit(id);
  return out;
}

export interface DownloadStats {
  objects: number;
  bytes: number;
}

/**
 * Brings objects from storage into the local store, on demand and in parallel; concurrent requests for
 * the same object share one transfer. Errors name the chunk and the storage.
 */
export class Downloader {
  private readonly sem: Semaphore;
  private readonly memo = new Map<string, Promise<void>>();
  readonly stats: DownloadStats = { objects: 0, bytes: 0 };

  constructor(
    private readonly store: ChunkStore,
    readonly storage: Storage,
    jobs = DEFAULT_JOBS,
    private readonly onObject?: (bytes: number) => void,
  ) {
    this.sem = new Semaphore(Math.max(1, jobs));
  }

  /** Makes one chunk local (with its delta bases). */
  ensure(id: string): Promise<void> {
    if (this.store.has(id)) return Promise.resolve();
    let p = this.memo.get(id);
    if (!p) {
      p = this.fetch(id);
      this.memo.set(id, p);
      p.catch(() => {}); // a failure is reported to every caller that awaits it, never as unhandled
    }
    return p;
  }

  /** Makes all of them local; resolves with the first failure's error, or undefined. */
  async ensureAll(ids: Iterable<string>): Promise<Error | undefined> {
    const results = await Promise.allSettled([...new Set(ids)].map((id) => this.ensure(id)));
    const bad = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    return bad ? (bad.reason as Error) : undefined;
  }

  private async fetch(id: string): Promise<void> {
    const obj = await this.sem.run(() => this.storage.get(id));
    if (!obj) throw new StorageChunkError('ECHUNKMISSING', id, `chunk ${id} is not on storage ${this.storage.url} (was it pushed with mgit?)`);
    let bases: string[];
    try {
      bases = objectBases(obj);
    } catch (e) {
      throw new StorageChunkError('ECHUNKCORRUPT', id, `chunk ${id} on storage ${this.storage.url} is corrupt: ${errorMessage(e)}`);
    }
    for (const b of bases) await this.ensure(b);
    try {
      this.store.putEncoded(id, obj);
    } catch (e) {
      if (e instanceof ChunkCorruptError) {
        throw new StorageChunkError('ECHUNKCORRUPT', id, `chunk ${id} on storage ${this.storage.url} is corrupt: ${errorMessage(e).replace(/^chunk \S+ is corrupt: /, '')}`);
      }
      throw e;
    }
    this.stats.objects++;
    this.stats.bytes += obj.length;
    this.onObject?.(obj.length);
  }
}

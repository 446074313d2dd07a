// On-demand chunk download for the filter process: when a checkout needs chunks the local store lacks,
// they come from the shared storage of the remote the checkout follows (docs/remote.md). With git's
// delay capability the filter answers "delayed", downloads in the background (in parallel, across
// files, each chunk once) while git goes on with other files, and lists files as they become ready; a
// file whose chunks are missing or corrupt on storage is reported (naming the chunk) and never listed,
// so git leaves it out and completes the rest of the checkout. Without delay (git archive) the same
// download runs synchronously. Never writes to stdout (the filter's protocol).

import type { Pointer } from '../codec/pointer.js';
import { errorMessage, isMgitError, StorageError } from '../errors.js';
import type { Repo } from '../repo.js';
import { trace } from '../trace.js';
import { checkoutRemote, chooseStorage } from './locate.js';
import { Progress } from './progress.js';
import { transferJobs } from './share.js';
import { openStorage, type Storage } from './storage.js';
import { Downloader } from './transfer.js';

interface DelayedFile {
  pathname: string;
  /** the pointer blob's id, to re-read the pointer when git asks for the file again */
  blob?: string;
  /** kept only when git did not say which blob it was */
  pointer?: Pointer;
  state: 'pending' | 'ready' | 'failed' | 'listed';
  done: Promise<void>;
}

export interface RequestMeta {
  ref?: string;
  treeish?: string;
}

export class OnDemand {
  private downloader?: Downloader;
  private storage?: Storage;
  /** why no storage can be used (remembered, so each file does not retry the set-up) */
  private unavailable?: Error;
  private readonly delayed = new Map<string, DelayedFile>();
  private progress?: Progress;
  private readonly reported = new Map<string, number>();

  constructor(private readonly repo: Repo) {}

  /** The downloader for this git command's checkout, set up on first need; undefined when no storage is configured. */
  async prepare(meta: RequestMeta): Promise<Downloader | undefined> {
    if (this.downloader || this.unavailable) return this.downloader;
    try {
      const remote = checkoutRemote(meta.ref);
      const choice = chooseStorage({ remote, rev: meta.treeish ?? meta.ref ?? 'HEAD' });
      trace(`on-demand download from ${choice.url} (${choice.source})`);
      this.storage = await openStorage(choice.spec, choice.s3);
      this.downloader = new Downloader(this.repo.store, this.storage, transferJobs(), (bytes) => this.progress?.add(0, bytes));
    } catch (e) {
      this.unavailable = e as Error;
      trace(`no storage for on-demand download: ${errorMessage(e)}`);
    }
    return this.downloader;
  }

  /** Why chunks cannot be downloaded, for the missing-chunk message. */
  get unavailableReason(): string | undefined {
    return this.unavailable ? errorMessage(this.unavailable) : undefined;
  }

  /** Downloads now (git allows no delay, e.g. git archive); resolves with the error, if any. */
  async fetchNow(ids: string[]): Promise<Error | undefined> {
    if (!this.downloader) return this.unavailable;
    return this.downloader.ensureAll(ids);
  }

  /** Starts downloading a file's chunks in the background; git will ask for it again when it is listed. */
  delay(pathname: string, blob: string | undefined, pointer: Pointer, ids: string[]): void {
    const dl = this.downloader!;
    this.progress ??= new Progress('downloading models', 0, 'files');
    this.progress.total++;
    const file: DelayedFile = { pathname, blob, pointer: blob ? undefined : pointer, state: 'pending', done: Promise.resolve() };
    file.done = dl.ensureAll(ids).then((err) => {
      if (err) {
        file.state = 'failed';
        this.report(pathname, err, true);
      } else {
        file.state = 'ready';
        this.progress?.add(1, 0);
      }
    });
    this.delayed.set(pathname, file);
  }

  /** A file git asks for again (empty content) after it was listed as available. */
  takeDelayed(pathname: string): DelayedFile | undefined {
    const f = this.delayed.get(pathname);
    if (!f || f.state !== 'listed') return undefined;
    this.delayed.delete(pathname);
    return f;
  }

  /** Delayed files downloaded since the last call, now listed to git (list_available_blobs). */
  readyNow(): string[] {
    const ready = [...this.delayed.values()].filter((f) => f.state === 'ready');
    for (const f of ready) f.state = 'listed';
    return ready.map((f) => f.pathname);
  }

  /**
   * Resolves when one more delayed file is downloaded or has failed; undefined when none is pending
   * (failed files stay unlisted: git reports them).
   */
  next(): Promise<void> | undefined {
    const pending = [...this.delayed.values()].filter((f) => f.state === 'pending');
    if (pending.length) return Promise.race(pending.map((f) => f.done));
    this.progress?.finish();
    this.progress = undefined;
    return undefined;
  }

  /** One line per failed file; a storage-wide failure is said once, with a count at the end. */
  report(pathname: string, e: unknown, leftOut: boolean): void {
    const msg = isMgitError(e) ? e.message : (e as Error)?.stack ?? String(e);
    const key = e instanceof StorageError ? msg : `${pathname}\0${msg}`;
    const n = (this.reported.get(key) ?? 0) + 1;
    this.reported.set(key, n);
    if (n > 1) return;
    const tail = leftOut ? '; the file is left out of this checkout' : '';
    if (this.progress) process.stderr.write('\n');
    process.stderr.write(`mgit: ${pathname}: ${msg}${tail}\n`);
  }

  async close(): Promise<void> {
    this.progress?.finish();
    for (const [key, n] of this.reported) {
      if (n > 1) process.stderr.write(`mgit: (the error "${key.slice(0, 80)}..." hit ${n} files)\n`);
    }
    await this.storage?.close();
  }
}

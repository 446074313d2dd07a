// The long-running filter (`filter.mgit.process`, git's long-running-process protocol, version 2).
// One process serves every file of one git command. Never write to stdout except through the
// protocol writer, and never let one file's failure end the process: each request answers
// success or error for that file alone. Chunks missing locally are downloaded from shared storage
// (src/remote/ondemand.ts): with git's `delay` capability in the background while git goes on, so that
// a file whose chunks cannot be had is left out and the rest of the checkout completes.

import * as fs from 'node:fs';
import { PktReader, PktWriter } from '../codec/pktline.js';
import { MAX_POINTER_BYTES, parsePointer, pointerChunks, pointerVersion, type Pointer } from '../codec/pointer.js';
import { CatFile } from '../git/cat-file.js';
import { errorMessage, isMgitError } from '../errors.js';
import type { OnDemand } from '../remote/ondemand.js';
import { parseBool } from '../git/git.js';
import { Repo } from '../repo.js';
import { trace } from '../trace.js';
import { cleanStream, type CleanStats } from './clean.js';
import type { PrefetchReader } from '../store/prefetch.js';
import { AHEAD_MAX_FILE, AHEAD_MIN_FILE, DecodeAhead, type AheadFile } from './ahead.js';
import { reconstruct, reconstructAhead } from './smudge.js';
import { doneWith } from '../store/release.js';
import { clearRecycled } from '../store/recycle.js';
import { dropKernels } from '../codec/kernels.js';
import { collect, type Collected } from './spool.js';

export interface FilterOptions {
  /** called once after the handshake, e.g. to install missing hooks */
  onStart?: (repo: Repo) => void;
}

export async function runFilterProcess(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, opts: FilterOptions = {}): Promise<void> {
  const reader = new PktReader(input as never);
  const writer = new PktWriter(output as never);
  const found = Repo.requireAsync();
  found.catch(() => undefined); // awaited below, after the handshake
  await handshake(reader, writer);
  const repo = await found;
  const skipSmudge = skipSmudgeWanted(repo);
  try {
    opts.onStart?.(repo);
  } catch (e) {
    trace(`start hook failed: ${errorMessage(e)}`);
  }
  const ctx: SmudgeContext = { repo, skip: skipSmudge };
  for (;;) {
    const req = await reader.readKeyValues();
    if (!req) {
      // git closed the pipe and waits for us to exit: nothing may keep the event loop alive
      if (ctx.ahead) {
        const st = ctx.ahead.stats;
        trace(`ahead: ${st.files} files, ${st.bytes} bytes; ${st.fetched} chunks decoded, ${st.shared} more shared between files; ${prefetch?.reusedBytes ?? 0} bytes decoded into recycled buffers`);
      }
      await ctx.ondemand?.close();
      await catFile?.close();
      await prefetch?.close();
      dropKernels(); // a prestarted process waits for its next job without this job's scratch
      clearRecycled();
      catFile = undefined;
      prefetch = undefined;
      repo.close();
      return;
    }
    const command = req.get('command');
    const pathname = req.get('pathname') ?? '';
    trace(`${command} ${pathname}${req.has('can-delay') ? ' can-delay' : ''}`);
    if (command === 'clean') await clean(repo, reader, writer, pathname);
    else if (command === 'smudge') await smudge(ctx, reader, writer, req);
    else if (command === 'list_available_blobs') {
      // no content follows this command: answer with the delayed files that are ready
      for (const p of await availableDelayed(ctx)) await writer.text(`pathname=${p}`);
      await writer.flush();
      await writer.text('status=success');
      await writer.flush();
    } else {
      for await (const _ of reader.readContent()) void _;
      await writer.text('status=error');
      await writer.flush();
    }
  }
}

interface SmudgeContext {
  repo: Repo;
  skip: boolean;
  /** set up when a checkout first needs chunks the store lacks (most never do: keep its modules unloaded) */
  ondemand?: OnDemand;
  /** files rebuilt ahead of git's asking (src/filter/ahead.ts), set up by the first delayable smudge */
  ahead?: DecodeAhead;
}

/**
 * For list_available_blobs: waits until at least one delayed file is ready (rebuilt ahead, or its
 * chunks downloaded) and lists those that are; an empty list tells git that nothing more will come.
 */
async function availableDelayed(ctx: SmudgeContext): Promise<string[]> {
  for (;;) {
    const ready = [...(ctx.ahead?.readyNow() ?? []), ...(ctx.ondemand?.readyNow() ?? [])];
    if (ready.length) return ready;
    const waits = [ctx.ahead?.pending ? ctx.ahead.next() : undefined, ctx.ondemand?.next()].filter((w) => w !== undefined);
    if (!waits.length) return [];
    await Promise.race(waits);
  }
}

async function onDemand(ctx: SmudgeContext): Promise<OnDemand> {
  return (ctx.ondemand ??= new (await import('../remote/ondemand.js')).OnDemand(ctx.repo));
}

/** Chunks of a pointer that are not in the local store. */
function missingChunks(repo: Repo, p: Pointer): string[] {
  return [...new Set(pointerChunks(p).map((c) => c.chunk))].filter((id) => !repo.store.has(id));
}

async function handshake(reader: PktReader, writer: PktWriter): Promise<void> {
  const hello = await reader.readText();
  if (hello !== 'git-filter-client') throw new Error(`unexpected filter handshake: ${JSON.stringify(hello)}`);
  const versions: string[] = [];
  for (let l = await reader.readText(); l; l = await reader.readText()) versions.push(l);
  if (!versions.includes('version=2')) throw new Error('git does not offer filter protocol version 2');
  // Write and flush the version before reading capabilities: git waits for it (a buffered reply deadlocks).
  await writer.text('git-filter-server');
  await writer.text('version=2');
  await writer.flush();
  const offered = new Set<string>();
  for (let l = await reader.readText(); l; l = await reader.readText()) offered.add(l);
  for (const cap of ['capability=clean', 'capability=smudge', 'capability=delay']) if (offered.has(cap)) await writer.text(cap);
  await writer.flush();
}

function skipSmudgeWanted(repo: Repo): boolean {
  const env = process.env.GIT_MGIT_SKIP_SMUDGE;
  if (env !== undefined && env !== '' && env !== '0' && env !== 'false') return true;
  return repo.configBool('mgit.skipSmudge', false);
}

function report(pathname: string, e: unknown): void {
  // git shows the filter's stderr to the user; an expected failure gets one clear line, a bug its stack.
  const msg = isMgitError(e) ? e.message : (e as Error)?.stack ?? String(e);
  process.stderr.write(`mgit: ${pathname}: ${msg}\n`);
}

async function clean(repo: Repo, reader: PktReader, writer: PktWriter, pathname: string): Promise<void> {
  const stats: CleanStats = { cacheHit: false, passthrough: false, chunksWritten: 0, bytesWritten: 0 };
  let pointer: Buffer;
  const content = new Content(reader);
  try {
    pointer = await cleanStream(repo.store, repo.cleanCache, content.packets(), stats, {
      previous: () => previousPointer(repo, pathname),
      index: () => repo.pointerIndex,
      // loaded on a cache miss only: the filter starts on every git add and status
      parents: async (v) => (await import('../lineage/parents.js')).parentVersions(repo, v),
    });
  } catch (e) {
    await content.drain(); // git waits for our answer only after it has sent everything
    report(pathname, e);
    await writer.text('status=error');
    await writer.flush();
    return;
  }
  trace(`clean ${pathname}: hit=${stats.cacheHit} passthrough=${stats.passthrough} chunks=${stats.chunksWritten} bytes=${stats.bytesWritten}`);
  await writer.text('status=success');
  await writer.flush();
  await writer.packet(pointer);
  await writer.flush();
  await writer.flush(); // empty trailing status list: keep "success"
}

async function smudge(ctx: SmudgeContext, reader: PktReader, writer: PktWriter, req: Map<string, string>): Promise<void> {
  const { repo } = ctx;
  const pathname = req.get('pathname') ?? '';
  // Pointers are small; anything else (a file committed before mgit tracked it) passes through unchanged.
  // Pointers are small: the content stays in memory unless it is large (a file committed before mgit).
  const input = await collect(reader.readContent(), () => repo.store.tempPath('smudge'), 1 << 20);
  try {
    // git asks again, with empty content, for a delayed file we listed as available
    const rebuilt = input.data?.length === 0 ? ctx.ahead?.take(pathname) : undefined;
    if (rebuilt) {
      await sendRebuilt(ctx, writer, rebuilt);
      return;
    }
    const again = input.data?.length === 0 ? ctx.ondemand?.takeDelayed(pathname) : undefined;
    if (again) {
      let pointer: Pointer;
      try {
        pointer = again.pointer ?? (await readPointerBlob(repo, again.blob!));
      } catch (e) {
        report(pathname, e);
        await writer.text('status=error');
        await writer.flush();
        return;
      }
      await sendModel(ctx, writer, pathname, pointer);
      return;
    }
    const version = pointerVersion(input.head);
    if (version === undefined || ctx.skip) {
      await sendContent(writer, input);
      return;
    }
    let pointer;
    try {
      pointer = parsePointer(input.data ?? fs.readFileSync(input.path!));
    } catch (e) {
      report(pathname, e);
      await writer.text('status=error');
      await writer.flush();
      return;
    }
    const missing = missingChunks(repo, pointer);
    const ondemand = missing.length ? await onDemand(ctx) : undefined;
    if (ondemand && (await ondemand.prepare({ ref: req.get('ref'), treeish: req.get('treeish') }))) {
      if (req.get('can-delay') === '1') {
        ondemand.delay(pathname, req.get('blob'), pointer, missing);
        await writer.text('status=delayed');
        await writer.flush();
        return;
      }
      const err = await ondemand.fetchNow(missing);
      if (err) {
        ondemand.report(pathname, err, false);
        await writer.text('status=error');
        await writer.flush();
        return;
      }
    }
    if (req.get('can-delay') === '1' && pointer.size >= AHEAD_MIN_FILE && pointer.size <= AHEAD_MAX_FILE && aheadWanted(repo)) {
      (ctx.ahead ??= new DecodeAhead(await prefetchReader(repo))).delay(pathname, pointer);
      await writer.text('status=delayed');
      await writer.flush();
      return;
    }
    await sendModel(ctx, writer, pathname, pointer);
  } finally {
    if (input.path) fs.rmSync(input.path, { force: true });
  }
}

/** `mgit.smudgeAhead` (default true): rebuild the files of a checkout ahead, in the worker thread. */
function aheadWanted(repo: Repo): boolean {
  return parseBool(process.env.MGIT_SMUDGE_AHEAD || undefined, repo.configBool('mgit.smudgeAhead', true));
}

/** A file rebuilt ahead, or the reason it could not be, when git asks for it again. */
async function sendRebuilt(ctx: SmudgeContext, writer: PktWriter, f: AheadFile): Promise<void> {
  if (!f.pieces) {
    report(f.pathname, isMgitError(f.error) ? withHint(f.error, ctx.ondemand?.unavailableReason) : f.error);
    await writer.text('status=error');
    await writer.flush();
    doneWith(ctx.ahead!.done(f));
    return;
  }
  await writer.text('status=success');
  await writer.flush();
  await writer.content(f.pieces);
  f.pieces = undefined;
  await writer.flush();
  await writer.flush(true);
  // the stream has handed every byte to the pipe: the chunks' buffers can be decoded into again
  doneWith(ctx.ahead!.done(f));
}

const READ_AHEAD_FROM = 16 * 1024 * 1024;

/** Streams the rebuilt model; a chunk that turns out missing or corrupt ends the file with an error. */
async function sendModel(ctx: SmudgeContext, writer: PktWriter, pathname: string, pointer: Pointer): Promise<void> {
  await writer.text('status=success');
  await writer.flush();
  try {
    // Large models decode ahead in a worker; for small ones a round trip per chunk costs more than it saves.
    const pieces = pointer.size >= READ_AHEAD_FROM ? reconstructAhead(await prefetchReader(ctx.repo), pointer) : reconstruct(ctx.repo.store, pointer);
    await writer.content(pieces);
  } catch (e) {
    report(pathname, isMgitError(e) ? withHint(e, ctx.ondemand?.unavailableReason) : e);
    await writer.flush();
    await writer.text('status=error');
    await writer.flush();
    return;
  }
  await writer.flush();
  await writer.flush();
}

/** A delayed file's pointer, read again by its blob id when git asks for the file the second time. */
async function readPointerBlob(repo: Repo, blob: string): Promise<Pointer> {
  catFile ??= new CatFile(repo.paths.top);
  const obj = await catFile.read(blob, MAX_POINTER_BYTES);
  if (!obj.data) throw new Error(`cannot read blob ${blob} again`);
  return parsePointer(obj.data);
}

let catFile: CatFile | undefined;
let prefetch: PrefetchReader | undefined;

/** The read-ahead worker, started by the first large model (its thread and modules cost start-up time). */
async function prefetchReader(repo: Repo): Promise<PrefetchReader> {
  return (prefetch ??= (await import('../store/prefetch.js')).readerFor(repo.store));
}

/**
 * The pointer of this path's previous version: the staged one, else HEAD's. Read-only plumbing, safe
 * while git holds the index lock during add.
 */
async function previousPointer(repo: Repo, pathname: string): Promise<Pointer | undefined> {
  if (!pathname || pathname.includes('\n')) return undefined;
  catFile ??= new CatFile(repo.paths.top);
  for (const rev of [`:${pathname}`, `HEAD:${pathname}`]) {
    const obj = await catFile.read(rev, MAX_POINTER_BYTES);
    if (obj.type !== 'blob' || !obj.data || pointerVersion(obj.data) !== 1) continue;
    try {
      return parsePointer(obj.data);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** A request's content packets, remembering whether the closing flush has been read. */
class Content {
  private done = false;
  constructor(private readonly reader: PktReader) {}

  async *packets(): AsyncGenerator<Buffer> {
    for await (const p of this.reader.readContent()) yield p;
    this.done = true;
  }

  async drain(): Promise<void> {
    if (this.done) return;
    for await (const _ of this.packets()) void _;
  }
}

function withHint(e: Error & { code?: string }, noStorage?: string): Error {
  if (e.code === 'ECHUNKMISSING' && noStorage) {
    e.message += `, and it cannot be downloaded: ${noStorage}. To check out the pointer only, set GIT_MGIT_SKIP_SMUDGE=1`;
  } else if (e.code === 'ECHUNKMISSING' || e.code === 'ECHUNKCORRUPT') {
    e.message += '; if the model came from another repository, its chunks must be copied from there. To check out the pointer only, set GIT_MGIT_SKIP_SMUDGE=1; `git mgit fsck` lists every damaged model';
  }
  return e;
}

async function sendContent(writer: PktWriter, input: Collected): Promise<void> {
  if (input.data) {
    await writer.text('status=success');
    await writer.flush();
    await writer.packet(input.data);
    await writer.flush();
    await writer.flush();
    return;
  }
  await sendFile(writer, input.path!);
}

async function sendFile(writer: PktWriter, file: string): Promise<void> {
  await writer.text('status=success');
  await writer.flush();
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      await writer.packet(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  await writer.flush();
  await writer.flush();
}

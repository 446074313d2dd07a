// clean: a model's bytes -> its pointer, storing the chunks. The pointer is a function of the bytes
// alone (DESIGN §1.2): ONNX files are cut at tensor payloads found by the wire scanner, everything else
// (non-ONNX, malformed, external data) is kept as skeleton bytes. Nothing here fails on bad input:
// whatever the bytes, they are stored losslessly.

import * as fs from 'node:fs';
import {
  formatPointer,
  MIN_TENSOR_BYTES,
  parsePointer,
  pointerVersion,
  SKELETON_PIECE_BYTES,
  TENSOR_PIECE_BYTES,
  type ChunkRef,
  type GapPart,
  type Pointer,
  type TensorPart,
} from '../codec/pointer.js';
import { dtypeName, planeWidth } from '../onnx/dtypes.js';
import { OnnxFormatError, scanOnnx, type TensorPayload } from '../onnx/scan.js';
import { planBases, ordinals, type BasePlan, type TensorDesc } from '../store/bases.js';
import type { CleanCache } from '../store/clean-cache.js';
import { putChunk, type ChunkContext } from '../store/encoder.js';
import type { PointerIndex } from '../store/pointer-index.js';
import { sha256, type ChunkStore, type PutResult } from '../store/store.js';
import { spool, type Spooled } from './spool.js';

export interface CleanStats {
  cacheHit: boolean;
  passthrough: boolean;
  chunksWritten: number;
  bytesWritten: number;
}

/** Where delta bases come from: all optional, so clean works (standalone) without git. */
export interface BaseSources {
  /** the pointer of this path's previous version (index, else HEAD) */
  previous?: () => Promise<Pointer | undefined>;
  /** pointers the repository has seen */
  index?: () => PointerIndex;
  /** version ids of a model version's declared lineage parents */
  parents?: (versionId: string) => Promise<string[]>;
}

/** Cleans content arriving as a stream (the filter protocol, or stdin). */
export async function cleanStream(
  store: ChunkStore,
  cache: CleanCache,
  content: AsyncIterable<Uint8Array>,
  stats?: CleanStats,
  sources: BaseSources = {},
): Promise<Buffer> {
  const sp = await spool(content, store.tempPath('clean'));
  try {
    return await cleanSpooled(store, cache, sp, stats, sources);
  } finally {
    fs.rmSync(sp.path, { force: true });
  }
}

export async function cleanSpooled(store: ChunkStore, cache: CleanCache, sp: Spooled, stats?: CleanStats, sources: BaseSources = {}): Promise<Buffer> {
  const passthrough = pointerPassthrough(sp);
  if (passthrough) {
    if (stats) stats.passthrough = true;
    return passthrough;
  }
  const hit = cache.get(sp.sha256);
  if (hit) {
    if (stats) stats.cacheHit = true;
    return hit;
  }
  const previous = await sources.previous?.().catch(() => undefined);
  const index = sources.index?.();
  const parents = index ? (await lineageParents(sources, sp.sha256)).map((v) => index.pointers.get(v) ?? cache.pointer(v)).filter((p): p is Pointer => !!p) : [];
  const fd = fs.openSync(sp.path, 'r');
  try {
    const p = buildPointer(storeSink(store), fd, sp.size, sp.sha256, stats, (tensors) => planBases(tensors, { previous, parents, index }));
    index?.add(p);
    const pointer = Buffer.from(formatPointer(p), 'utf8');
    cache.set(sp.sha256, pointer);
    return pointer;
  } finally {
    fs.closeSync(fd);
  }
}

/** Declared parents of the version being cleaned: hints only, so a lineage problem never fails a clean. */
async function lineageParents(sources: BaseSources, sha: string): Promise<string[]> {
  try {
    return (await sources.parents?.(sha)) ?? [];
  } catch {
    return [];
  }
}

/**
 * clean(pointer) == pointer: content that is already a pointer passes through. That covers a valid v1
 * pointer and a pointer of a newer spec version (so an older mgit never wraps a newer one's pointers).
 * A broken v1 pointer is just bytes and gets stored like any other file.
 */
function pointerPassthrough(sp: Spooled): Buffer | undefined {
  const v = pointerVersion(sp.head);
  if (v === undefined || sp.size > 64 * 1024 * 1024) return undefined;
  const text = fs.readFileSync(sp.path);
  if (v > 1) return text;
  try {
    parsePointer(text);
    return text;
  } catch {
    return undefined;
  }
}

function tensorsOf(fd: number, size: number): TensorPayload[] | undefined {
  if (size === 0) return undefined;
  try {
    return scanOnnx(fd, size).filter((t) => t.length >= MIN_TENSOR_BYTES);
  } catch (e) {
    if (e instanceof OnnxFormatError) return undefined;
    throw e;
  }
}

/** Where buildPointer puts each chunk it cuts. */
export type ChunkSink = (buf: Buffer, ctx: ChunkContext, candidates: string[]) => PutResult;

/** Stores chunks, choosing their encodings among the candidate bases. */
export function storeSink(store: ChunkStore): ChunkSink {
  return (buf, ctx, candidates) => putChunk(store, buf, ctx, { candidates });
}

/** Cuts and hashes only: gives the pointer clean would give, storing nothing (diff of a plain file). */
export const hashSink: ChunkSink = (buf) => ({ id: sha256(buf), written: false, storedBytes: 0 });

export function buildPointer(
  sink: ChunkSink,
  fd: number,
  size: number,
  sha: string,
  stats?: CleanStats,
  plan?: (tensors: TensorDesc[]) => BasePlan,
): Pointer {
  const tensors = tensorsOf(fd, size);
  const descs: TensorDesc[] = (tensors ?? []).map((t) => ({ name: t.name, dtype: dtypeToken(t), dims: t.dims, bytes: t.length }));
  const bases = plan?.(descs);
  const ords = ordinals(descs);
  const put = (buf: Buffer, width: number, candidates: string[], desc?: TensorDesc): ChunkRef => {
    const r = sink(buf, { width, dtype: desc?.dtype, dims: desc?.dims, kind: desc ? 'tensor' : tensors ? 'skeleton' : 'raw' }, candidates);
    if (stats && r.written) {
      stats.chunksWritten++;
      stats.bytesWritten += r.storedBytes;
    }
    return { chunk: r.id, length: buf.length };
  };
  const skeleton = new SkeletonWriter((b, i) => put(b, 1, bases?.skeleton(i) ?? []));
  const parts: (TensorPart | GapPart)[] = [];
  let pos = 0;
  const gap = (end: number) => {
    if (end > pos) {
      parts.push({ kind: 'gap', length: end - pos });
      skeleton.copy(fd, pos, end - pos);
      pos = end;
    }
  };
  const piece = Buffer.allocUnsafe(Math.min(TENSOR_PIECE_BYTES, size));
  (tensors ?? []).forEach((t, ti) => {
    gap(t.offset);
    const width = t.form === 'varint' ? 1 : planeWidth(t.dtype);
    const desc = descs[ti];
    const pieces: ChunkRef[] = [];
    for (let off = 0, i = 0; off < t.length; off += TENSOR_PIECE_BYTES, i++) {
      const n = Math.min(TENSOR_PIECE_BYTES, t.length - off);
      readFully(fd, piece, n, t.offset + off);
      pieces.push(put(piece.subarray(0, n), width, bases?.tensor(desc, ords[ti], i) ?? [], desc));
    }
    parts.push({ kind: 'tensor', name: t.name, dtype: desc.dtype, dims: t.dims, pieces });
    pos = t.offset + t.length;
  });
  gap(size);
  return { format: tensors ? 'onnx' : 'raw', size, sha256: sha, skeleton: skeleton.finish(), parts };
}

function dtypeToken(t: TensorPayload): string {
  return dtypeName(t.dtype) + (t.form === 'varint' ? ':varint' : '');
}

export function readFully(fd: number, buf: Buffer, n: number, position: number): void {
  let got = 0;
  while (got < n) {
    const r = fs.readSync(fd, buf, got, n - got, position + got);
    if (r === 0) throw new Error('file shrank while it was being cleaned');
    got += r;
  }
}

/** Gathers the bytes between tensors into fixed-size skeleton pieces. */
class SkeletonWriter {
  private readonly buf = Buffer.allocUnsafe(SKELETON_PIECE_BYTES);
  private fill = 0;
  private readonly refs: ChunkRef[] = [];

  constructor(private readonly put: (b: Buffer, piece: number) => ChunkRef) {}

  copy(fd: number, position: number, length: number): void {
    while (length > 0) {
      const n = Math.min(length, SKELETON_PIECE_BYTES - this.fill);
      readFully(fd, this.buf.subarray(this.fill), n, position);
      this.fill += n;
      position += n;
      length -= n;
      if (this.fill === SKELETON_PIECE_BYTES) this.emit();
    }
  }

  private emit(): void {
    this.refs.push(this.put(this.buf.subarray(0, this.fill), this.refs.length));
    this.fill = 0;
  }

  finish(): ChunkRef[] {
    if (this.fill > 0) this.emit();
    return this.refs;
  }
}

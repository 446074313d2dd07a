// The local lineage index, `<git common dir>/mgit/lineage-index/`: caches that make lineage reads and
// autopilot suggestions cheap, all derived data that can be deleted at any time and is rebuilt from
// git objects and chunks.
//   blobs.v1      one line per blob ever looked at: `<blob oid> <version id | ->` (blobs never change,
//                 so an answer is final; `-` = not an mgit pointer)
//   entries.v1    one JSON line per model version: its tensors (name, dtype, dims, chunk ids) and a
//                 sketch of each tensor's values (sketch.ts); a later line for an id replaces an earlier
//   records.v1    one line per lineage record blob already checked: `<blob oid> <record id> <record>`
// All three are append-only: whole lines appended with O_APPEND, so concurrent writers interleave
// lines, never bytes; a torn or unreadable line is skipped (and rebuilt). One read per file per
// process instead of one per version keeps a suggestion among 1,000 versions fast.
// Never: hold anything that is not derived from git objects or the chunk store, or travel with push.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { TENSOR_PIECE_BYTES, type Pointer } from '../codec/pointer.js';
import { pointersIn } from '../git/scan.js';
import type { Repo } from '../repo.js';
import { trace } from '../trace.js';
import { decodeSketch, elementBytes, encodeSketch, skeletonSketch, sketchTensor, type Sketch } from './sketch.js';

const ENTRY_VERSION = 1;

export interface IndexedTensor {
  name: string;
  dtype: string;
  dims: number[];
  bytes: number;
  chunks: string[];
  sketch?: Sketch;
}

export interface IndexEntry {
  id: string;
  format: string;
  size: number;
  skeleton: string[];
  /** MinHash sketch of the skeleton bytes (sketch.ts); empty when its chunks were not local */
  skeletonSketch: Uint32Array;
  tensors: IndexedTensor[];
  /** some chunks were not in the local store when this was built: sketches are missing */
  partial: boolean;
}

export class LineageIndex {
  readonly dir: string;
  private blobs?: Map<string, string | null>;
  private readonly entries = new Map<string, IndexEntry>();
  /** raw entry lines by version id, parsed on first use */
  private lines?: Map<string, string>;

  constructor(readonly repo: Repo) {
    this.dir = path.join(repo.paths.commonDir, 'mgit', 'lineage-index');
  }

  private get blobFile(): string {
    return path.join(this.dir, 'blobs.v1');
  }

  private loadBlobs(): Map<string, string | null> {
    if (this.blobs) return this.blobs;
    const m = new Map<string, string | null>();
    for (const line of readLines(this.blobFile)) {
      const mm = /^([0-9a-f]{40,64}) ([0-9a-f]{64}|-)$/.exec(line);
      if (mm) m.set(mm[1], mm[2] === '-' ? null : mm[2]);
    }
    this.blobs = m;
    return m;
  }

  /**
   * The version id of each blob (null when the blob is not an mgit pointer), reading only blobs never
   * seen before. Pointers read on the way are returned, so callers can index them without a re-read.
   */
  async versionsOfBlobs(oids: Iterable<string>): Promise<{ ids: Map<string, string | null>; pointers: Map<string, Pointer> }> {
    const known = this.loadBlobs();
    const ids = new Map<string, string | null>();
    const unknown: { oid: string; path: string }[] = [];
    for (const oid of oids) {
      if (ids.has(oid)) continue;
      const k = known.get(oid);
      if (k !== undefined) ids.set(oid, k);
      else {
        ids.set(oid, null);
        unknown.push({ oid, path: '' });
      }
    }
    const pointers = new Map<string, Pointer>();
    if (unknown.length === 0) return { ids, pointers };
    const cwd = this.repo.paths.top ?? this.repo.paths.gitDir;
    for await (const fp of pointersIn(unknown, cwd)) {
      if (!fp.pointer) continue;
      ids.set(fp.oid, fp.pointer.sha256);
      pointers.set(fp.oid, fp.pointer);
    }
    const lines = unknown.map((u) => {
      const id = ids.get(u.oid) ?? null;
      known.set(u.oid, id);
      return `${u.oid} ${id ?? '-'}`;
    });
    appendLines(this.blobFile, lines);
    return { ids, pointers };
  }

  private get entryFile(): string {
    return path.join(this.dir, 'entries.v1');
  }

  /**
   * The index entry of a version: from disk, or built from its pointer and the chunk store (and saved).
   * Undefined when the entry is not on disk and no pointer is given.
   */
  entry(id: string, pointer?: Pointer): IndexEntry | undefined {
    let e = this.entries.get(id) ?? this.readEntry(id);
    if (pointer && (!e || (e.partial && this.chunksNowLocal(e)))) {
      e = this.build(pointer);
      this.writeEntry(e);
    }
    if (e) this.entries.set(id, e);
    return e;
  }

  private chunksNowLocal(e: IndexEntry): boolean {
    if (e.skeletonSketch.length === 0 && !e.skeleton.every((c) => this.repo.store.has(c))) return false;
    return e.tensors.every((t) => t.sketch || !elementBytes(t.dtype) || t.chunks.every((c) => this.repo.store.has(c)));
  }

  private readEntry(id: string): IndexEntry | undefined {
    if (!this.lines) {
      this.lines = new Map();
      for (const line of readLines(this.entryFile)) {
        const m = /^\{"v":1,"id":"([0-9a-f]{64})"/.exec(line);
        if (m) this.lines.set(m[1], line);
      }
    }
    const line = this.lines.get(id);
    if (!line) return undefined;
    try {
      const o = JSON.parse(line) as {
        v: number;
        id: string;
        format: string;
        size: number;
        partial: boolean;
        skeleton: string[];
        k: string;
        tensors: { n: string; t: string; d: number[]; b: number; c: string[]; s?: string }[];
      };
      if (o.v !== ENTRY_VERSION || o.id !== id) return undefined;
      return {
        id,
        format: o.format,
        size: o.size,
        partial: o.partial,
        skeleton: o.skeleton,
        skeletonSketch: u32(o.k),
        tensors: o.tensors.map((t) => ({ name: t.n, dtype: t.t, dims: t.d, bytes: t.b, chunks: t.c, sketch: decodeSketch(t.s) })),
      };
    } catch {
      return undefined;
    }
  }

  private writeEntry(e: IndexEntry): void {
    const line = JSON.stringify({
      v: ENTRY_VERSION,
      id: e.id,
      format: e.format,
      size: e.size,
      partial: e.partial,
      skeleton: e.skeleton,
      k: Buffer.from(e.skeletonSketch.buffer, e.skeletonSketch.byteOffset, e.skeletonSketch.byteLength).toString('base64'),
      tensors: e.tensors.map((t) => ({ n: t.name, t: t.dtype, d: t.dims, b: t.bytes, c: t.chunks, s: encodeSketch(t.sketch) })),
    });
    this.lines?.set(e.id, line);
    appendLines(this.entryFile, [line]);
  }

  /** Lineage records already decoded and checked, by blob id (their blobs never change). */
  checkedRecords(): Map<string, { id: string; json: string }> {
    const out = new Map<string, { id: string; json: string }>();
    for (const line of readLines(path.join(this.dir, 'records.v1'))) {
      const m = /^([0-9a-f]{40,64}) ([0-9a-f]{64}) (\{.*\})$/.exec(line);
      if (m) out.set(m[1], { id: m[2], json: m[3] });
    }
    return out;
  }

  rememberRecords(rows: { blob: string; id: string; json: string }[]): void {
    if (rows.length) appendLines(path.join(this.dir, 'records.v1'), rows.map((r) => `${r.blob} ${r.id} ${r.json}`));
  }

  /** Builds an entry from a pointer, reading the chunks each tensor's sketch needs. */
  build(p: Pointer): IndexEntry {
    let partial = false;
    const tensors: IndexedTensor[] = [];
    for (const part of p.parts) {
      if (part.kind !== 'tensor') continue;
      const bytes = part.pieces.reduce((a, x) => a + x.length, 0);
      const t: IndexedTensor = { name: part.name, dtype: part.dtype, dims: part.dims, bytes, chunks: part.pieces.map((x) => x.chunk) };
      const size = elementBytes(part.dtype);
      const n = part.dims.reduce((a, d) => a * d, 1);
      if (size && n * size === bytes) {
        try {
          t.sketch = this.sketchOf(part.pieces.map((x) => x.chunk), n, part.dtype);
        } catch (e) {
          partial = true;
          trace(`lineage index: no sketch for ${part.name} of ${p.sha256}: ${(e as Error).message}`);
        }
      }
      tensors.push(t);
    }
    let sk: Uint32Array = new Uint32Array(0);
    try {
      sk = skeletonSketch(Buffer.concat(p.skeleton.map((s) => this.repo.store.get(s.chunk))));
    } catch (e) {
      partial = true;
      trace(`lineage index: no skeleton sketch for ${p.sha256}: ${(e as Error).message}`);
    }
    return { id: p.sha256, format: p.format, size: p.size, skeleton: p.skeleton.map((s) => s.chunk), skeletonSketch: sk, tensors, partial };
  }

  private sketchOf(chunks: string[], n: number, dtype: string): Sketch | undefined {
    const pieces = new Map<number, DataView>();
    return sketchTensor(n, dtype, (off) => {
      const i = Math.floor(off / TENSOR_PIECE_BYTES);
      let view = pieces.get(i);
      if (!view) {
        const b = this.repo.store.get(chunks[i]);
        view = new DataView(b.buffer, b.byteOffset, b.byteLength);
        pieces.set(i, view);
      }
      return { view, offset: off - i * TENSOR_PIECE_BYTES };
    });
  }
}

/** A Uint32Array from base64 of its little-endian bytes (every platform Node runs on is little-endian). */
function u32(b64: string | undefined): Uint32Array {
  const b = Buffer.from(b64 ?? '', 'base64');
  const out = new Uint32Array(b.length >> 2);
  for (let i = 0; i < out.length; i++) out[i] = b.readUInt32LE(i * 4);
  return out;
}

function readLines(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n');
  } catch {
    return [];
  }
}

/** Appends whole lines in one write (O_APPEND): concurrent appenders interleave lines, not bytes. */
function appendLines(file: string, lines: string[]): void {
  if (!lines.length) return;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.appendFileSync(file, lines.join('\n') + '\n');
  } catch (e) {
    trace(`lineage index: cannot write ${file}: ${(e as Error).message}`);
  }
}

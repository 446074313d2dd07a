// Repack: re-chooses the base and encoding of every reachable chunk, thoroughly, and writes them all
// into one pack (DESIGN §3, like `git repack -a -d` re-deltas). Versions are visited oldest first and a
// chunk may only be predicted from chunks already placed, so delta chains are acyclic and bounded by
// the depth limit. No pointer changes: only how chunks are kept. Killed at any moment, the old objects
// are still there (the new pack is renamed into place before anything is deleted).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { pointerChunks, type Pointer, type TensorPart } from '../codec/pointer.js';
import { dtypeFromName, planeWidth } from '../onnx/dtypes.js';
import { errorMessage } from '../errors.js';
import { ordinals, planBases, type TensorDesc } from './bases.js';
import { chooseEncoding, DEFAULT_MAX_DEPTH, transformAllowed, type ChunkContext } from './encoder.js';
import { FingerprintIndex } from './fingerprint.js';
import { decodeObject, readHeader } from './object.js';
import { PackWriter, readPackIndex, readPacked, type PackEntry } from './pack.js';
import { PointerIndex, tensorBytes, tensorsOf } from './pointer-index.js';
import { MAX_CHUNK_BYTES, type ChunkStore } from './store.js';
import { TRANSFORM_NAMES } from './transforms.js';

export interface RepackVersion {
  path: string;
  pointer: Pointer;
}

export interface RepackOptions {
  maxDepth?: number;
  /** declared lineage parents of a model version (version ids) */
  parentsOf?: (versionId: string) => string[];
  progress?: (done: number, total: number) => void;
}

export interface RepackReport {
  versions: number;
  chunks: number;
  bytesBefore: number;
  bytesAfter: number;
  /** objects per transform name */
  transforms: Record<string, { chunks: number; rawBytes: number; storedBytes: number }>;
  /** chunks that could not be read (missing or corrupt): left as they were */
  unreadable: { chunk: string; error: string }[];
  /** unreachable objects that were in old packs, kept loose for gc to judge */
  exploded: number;
  seconds: number;
}

export function storeBytes(store: ChunkStore): number {
  let total = 0;
  for (const dir of [store.objects, store.packs]) {
    const walk = (d: string) => {
      let entries: fs.Dirent[] = [];
      try {
        entries = fs.readdirSync(d, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else total += fs.statSync(p).size;
      }
    };
    walk(dir);
  }
  return total;
}

function widthOf(t: TensorPart): number {
  if (t.dtype.endsWith(':varint')) return 1;
  const n = dtypeFromName(t.dtype);
  return n === undefined ? 1 : planeWidth(n);
}

export function repack(store: ChunkStore, versions: RepackVersion[], opts: RepackOptions = {}): RepackReport {
  const started = Date.now();
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  const bytesBefore = storeBytes(store);
  const oldPacks = store.packNames();
  const placed = new Map<string, { depth: number }>();
  const pack = new PackWriter(store.packs, (t) => store.tempPath(t));
  const index = new PointerIndex();
  const lastAtPath = new Map<string, Pointer>();
  const fingerprints = new FingerprintIndex();
  const report: RepackReport = { versions: 0, chunks: 0, bytesBefore, bytesAfter: 0, transforms: {}, unreadable: [], exploded: 0, seconds: 0 };
  const total = versions.length;

  const place = (id: string, ctx: ChunkContext, candidates: string[]) => {
    if (placed.has(id)) return;
    let raw: Buffer;
    try {
      raw = store.get(id);
    } catch (e) {
      if (!report.unreadable.some((u) => u.chunk === id)) report.unreadable.push({ chunk: id, error: errorMessage(e) });
      return;
    }
    const usable = candidates.filter((c) => placed.has(c) && c !== id);
    const obj = chooseEncoding(store, raw, ctx, { candidates: usable, thorough: true, maxDepth, depthOf: (c) => placed.get(c)?.depth }, id);
    const back = decodeObject(obj, MAX_CHUNK_BYTES, (b) => store.get(b));
    if (!back.equals(raw)) throw new Error(`repack: encoding of chunk ${id} did not round-trip (bug); nothing was changed`);
    const h = readHeader(obj);
    placed.set(id, { depth: h.depth });
    pack.add(id, obj); // placement order puts bases before the objects that need them
    const name = TRANSFORM_NAMES[h.transform] ?? String(h.transform);
    const t = (report.transforms[name] ??= { chunks: 0, rawBytes: 0, storedBytes: 0 });
    t.chunks++;
    t.rawBytes += raw.length;
    t.storedBytes += obj.length;
    if (ctx.kind === 'tensor') fingerprints.add(id, raw);
  };

  try {
    placeAll();
  } catch (e) {
    pack.abort();
    throw e;
  }
  function fingerprintsOf(id: string): string[] {
    if (!transformAllowed('fingerprint')) return [];
    try {
      return fingerprints.find(store.get(id)).filter((c) => c !== id);
    } catch {
      return []; // unreadable: place() reports it
    }
  }

  function placeAll(): void {
    versions.forEach((v, i) => {
      const p = v.pointer;
      const tensors = tensorsOf(p);
      const descs: TensorDesc[] = tensors.map((t) => ({ name: t.name, dtype: t.dtype, dims: t.dims, bytes: tensorBytes(t) }));
      const parents = (opts.parentsOf?.(p.sha256) ?? []).map((s) => index.pointers.get(s)).filter((x): x is Pointer => !!x);
      const plan = planBases(descs, { previous: lastAtPath.get(v.path), parents, index, perSource: 8 });
      const ords = ordinals(descs);
      tensors.forEach((t, ti) => {
        t.pieces.forEach((piece, pi) => {
          if (placed.has(piece.chunk)) return;
          // The same bytes may sit in other tensors under other names and shapes (a re-layout, a split
          // or merged weight): stored tensors whose fingerprints occur here become dictionary bases.
          place(piece.chunk, { width: widthOf(t), dtype: t.dtype, dims: t.dims, kind: 'tensor' }, [...plan.tensor(descs[ti], ords[ti], pi), ...fingerprintsOf(piece.chunk)]);
        });
      });
      p.skeleton.forEach((s, si) => {
        if (placed.has(s.chunk)) return;
        place(s.chunk, { width: 1, kind: p.format === 'onnx' ? 'skeleton' : 'raw' }, [...plan.skeleton(si), ...fingerprintsOf(s.chunk)]);
      });
      index.add(p);
      lastAtPath.set(v.path, p);
      report.versions++;
      opts.progress?.(i + 1, total);
    });
  }
  report.chunks = placed.size;
  const name = pack.finish();
  store.reloadPacks();

  // Old packs: keep their unreachable objects as loose objects (gc decides about them), then drop them.
  for (const old of oldPacks) {
    if (old === name) continue;
    const entries = new Map<string, PackEntry>();
    const packFile = path.join(store.packs, `${old}.pack`);
    const idxFile = path.join(store.packs, `${old}.idx`);
    try {
      readPackIndex(idxFile, packFile, entries);
    } catch {
      continue;
    }
    const mtime = fs.statSync(packFile).mtime;
    for (const [id, e] of entries) {
      if (placed.has(id) || fs.existsSync(store.objectPath(id))) continue;
      const dest = store.objectPath(id);
      const tmp = store.tempPath('explode');
      fs.writeFileSync(tmp, readPacked(e), { mode: 0o444 });
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.renameSync(tmp, dest);
      fs.utimesSync(dest, mtime, mtime);
      report.exploded++;
    }
    fs.rmSync(idxFile, { force: true });
    fs.rmSync(packFile, { force: true });
  }
  // Loose copies of packed objects are redundant now.
  for (const id of [...store.looseIds()]) if (placed.has(id)) store.remove(id);
  store.pruneEmptyDirs();
  store.reloadPacks();
  report.bytesAfter = storeBytes(store);
  report.seconds = (Date.now() - started) / 1000;
  return report;
}



/** Chunks of the given versions (for callers that need the reachable set). */
export function chunksOf(versions: RepackVersion[]): Set<string> {
  const s = new Set<string>();
  for (const v of versions) for (const c of pointerChunks(v.pointer)) s.add(c.chunk);
  return s;
}

// Three-way merge of two model versions against their merge base, tensor by tensor, on pointers.
//
// Owns: the merge rules. Every tensor payload (large ones from the pointer, small ones from the skeleton)
// is a unit. Structure (every byte that is not a payload, plus the position, length and form of each
// payload) is compared first: the same on both sides, or changed on one side only (that side's structure
// is kept), else a structure conflict. Then per unit: the same on both sides, or changed on one side
// only, takes that version; changed differently on both is a conflict, settled by a strategy when one is
// given (ours, theirs, base for any dtype; average and task-arithmetic for float tensors, see arith.ts).
// A unit changed on one side and removed by the other side's restructuring is always a conflict.
// The merged model is the kept structure's skeleton with the chosen payloads spliced in (the same
// lengths, so no byte outside a payload moves): new chunks go to the store and the result is a pointer.
// Must never: produce a pointer whose chunks are not all in the store, re-encode the model, or resolve a
// conflict that no strategy was asked to resolve.

import { createHash } from 'node:crypto';
import {
  formatPointer,
  parsePointer,
  SKELETON_PIECE_BYTES,
  TENSOR_PIECE_BYTES,
  type ChunkRef,
  type Pointer,
  type TensorPart,
} from '../codec/pointer.js';
import { keyedPayloads, type Keyed } from '../diff/tensors.js';
import { MgitError } from '../errors.js';
import type { PointerSource } from '../model/source.js';
import { dtypeFromName, planeWidth } from '../onnx/dtypes.js';
import { walkSkeleton, type Payload } from '../onnx/skeleton.js';
import type { ChunkStore } from '../store/store.js';
import { isFloatDtype } from '../tensor/floats.js';
import { combine } from './arith.js';
import { putChunk } from '../store/encoder.js';

export const STRATEGIES = ['ours', 'theirs', 'base', 'average', 'task-arithmetic'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export function parseStrategy(s: string | undefined, where: string): Strategy | undefined {
  if (s === undefined || s === '') return undefined;
  if ((STRATEGIES as readonly string[]).includes(s)) return s as Strategy;
  throw new MgitError('ESTRATEGY', `${where}: unknown merge strategy ${JSON.stringify(s)} (use ${STRATEGIES.join(', ')})`);
}

export interface MergeConflict {
  name: string;
  reason: 'both-changed' | 'both-added' | 'changed-removed' | 'structure' | 'not-onnx';
  /** why the strategy could not settle it, when one was given */
  detail?: string;
}

export interface MergeOutcome {
  status: 'clean' | 'conflict';
  /** the merged pointer (clean merges only) */
  pointer?: Pointer;
  /** whose structure the result has */
  structure: 'same' | 'ours' | 'theirs' | 'conflict';
  counts: { same: number; ours: number; theirs: number; resolved: number };
  /** conflicting tensors a strategy settled */
  resolved: { name: string; strategy: Strategy }[];
  conflicts: MergeConflict[];
}

interface Side {
  src: PointerSource;
  skeleton: Buffer;
  payloads: Payload[];
  keyed: Keyed[];
  sig: string;
}

/** Skeleton position of a file offset that lies in a gap. */
function skeletonOffsets(p: Pointer): { file: number; sk: number; length: number }[] {
  const out: { file: number; sk: number; length: number }[] = [];
  let file = 0;
  let sk = 0;
  for (const part of p.parts) {
    if (part.kind === 'gap') {
      out.push({ file, sk, length: part.length });
      sk += part.length;
      file += part.length;
    } else {
      file += part.pieces.reduce((a, x) => a + x.length, 0);
    }
  }
  return out;
}

function toSkeleton(gaps: { file: number; sk: number; length: number }[], offset: number): number {
  for (const g of gaps) if (offset >= g.file && offset < g.file + g.length) return g.sk + offset - g.file;
  throw new Error(`offset ${offset} is not in the skeleton (bug)`);
}

/**
 * Hash of everything but payload contents: the non-payload bytes at their offsets, and each payload's
 * offset, length and form. Equal hashes mean the files differ only inside payloads.
 */
function structureHash(p: Pointer, skeleton: Buffer, payloads: Payload[]): string {
  const h = createHash('sha256');
  h.update(`size ${p.size}\n`);
  const small = payloads.filter((x) => x.part === undefined);
  let si = 0;
  for (const g of skeletonOffsets(p)) {
    let pos = g.file;
    const end = g.file + g.length;
    while (pos < end) {
      while (si < small.length && small[si]!.offset + small[si]!.length <= pos) si++;
      const next = si < small.length && small[si]!.offset < end ? small[si]! : undefined;
      const stop = next ? Math.max(pos, next.offset) : end;
      if (stop > pos) {
        h.update(`@${pos}:`);
        h.update(skeleton.subarray(g.sk + pos - g.file, g.sk + stop - g.file));
      }
      if (!next) break;
      pos = Math.max(pos, next.offset + next.length);
      si++;
    }
  }
  for (const x of payloads) h.update(`\npayload ${x.offset} ${x.length} ${x.form}`);
  return h.digest('hex');
}

function prepare(src: PointerSource): Side {
  const missing = src.missingSkeleton();
  if (missing.length) throw new MgitError('ECHUNKMISSING', `${src.label}: skeleton chunk ${missing[0]} is not in the local store`);
  const skeleton = src.skeleton();
  const { payloads } = walkSkeleton(src.pointer, skeleton);
  return { src, skeleton, payloads, keyed: keyedPayloads(src.pointer, payloads), sig: structureHash(src.pointer, skeleton, payloads) };
}

/** Index map from host payloads to another side's: identity for the same structure, else by key. */
function correspond(host: Side, other: Side | undefined): (i: number) => number | undefined {
  if (!other) return () => undefined;
  if (other.sig === host.sig) return (i) => i;
  const byKey = new Map(other.keyed.map((k, i) => [k.key, i]));
  return (i) => {
    const j = byKey.get(host.keyed[i]!.key);
    if (j === undefined) return undefined;
    const x = host.payloads[i]!;
    const y = other.payloads[j]!;
    const same = x.length === y.length && x.form === y.form && x.dtype === y.dtype && x.dims.join() === y.dims.join();
    return same ? j : undefined;
  };
}

/** Where a unit's bytes come from: a side's payload, new chunks already stored, or new small bytes. */
type Pick = { side: Side; index: number } | { stored: ChunkRef[] } | { inline: Buffer };

/** A payload's bytes, piece by piece (one piece for small payloads). */
function pieces(store: ChunkStore, s: Side, i: number): () => Generator<Buffer> {
  const k = s.keyed[i]!;
  return function* () {
    if (k.inline) yield k.inline;
    else for (const p of k.part!.pieces) yield store.get(p.chunk);
  };
}

function* zip3(a: Generator<Buffer>, b: Generator<Buffer>, o?: Generator<Buffer>): Generator<[Buffer, Buffer, Buffer | undefined]> {
  for (;;) {
    const x = a.next();
    const y = b.next();
    const z = o?.next();
    if (x.done || y.done) return;
    yield [x.value, y.value, z && !z.done ? z.value : undefined];
  }
}

/** Merges `ours` and `theirs` against `base` (absent when the path was added on both sides). */
/**
 * `restructured: 'keep'` (the update cascade's task-vector recipe) lets the side that restructured win
 * over the other side's changes to tensors it replaced or dropped, instead of a conflict: a fine-tune
 * that replaced its parent's head keeps its own head whatever the new parent did to the old one.
 */
export function mergeModels(
  store: ChunkStore,
  base: PointerSource | undefined,
  ours: PointerSource,
  theirs: PointerSource,
  strategy?: Strategy,
  opts: { restructured?: 'conflict' | 'keep' } = {},
): MergeOutcome {
  const outcome = (status: MergeOutcome['status'], structure: MergeOutcome['structure'], pointer?: Pointer): MergeOutcome => ({
    status,
    structure,
    pointer,
    counts: { same: 0, ours: 0, theirs: 0, resolved: 0 },
    resolved: [],
    conflicts: [],
  });
  const A = ours.pointer;
  const B = theirs.pointer;
  const O = base?.pointer;
  // Whole-file cases first: git rarely calls a driver for these, but `git mgit resolve` does.
  if (A.sha256 === B.sha256) return outcome('clean', 'same', A);
  if (O && O.sha256 === A.sha256) return outcome('clean', 'theirs', B);
  if (O && O.sha256 === B.sha256) return outcome('clean', 'ours', A);
  if (A.format !== 'onnx' || B.format !== 'onnx' || (O && O.format !== 'onnx')) {
    if (strategy === 'ours') return { ...outcome('clean', 'ours', A), resolved: [{ name: '(whole file)', strategy }] };
    if (strategy === 'theirs') return { ...outcome('clean', 'theirs', B), resolved: [{ name: '(whole file)', strategy }] };
    if (strategy === 'base' && O) return { ...outcome('clean', 'same', O), resolved: [{ name: '(whole file)', strategy }] };
    const r = outcome('conflict', 'conflict');
    r.conflicts.push({ name: '(whole file)', reason: 'not-onnx', detail: 'not an ONNX model on every side: only ours, theirs or base can settle it' });
    return r;
  }

  const sa = prepare(ours);
  const sb = prepare(theirs);
  const so = base ? prepare(base) : undefined;
  let host: Side;
  let structure: MergeOutcome['structure'];
  if (sa.sig === sb.sig) [host, structure] = [sa, 'same'];
  else if (so && so.sig === sa.sig) [host, structure] = [sb, 'theirs'];
  else if (so && so.sig === sb.sig) [host, structure] = [sa, 'ours'];
  else {
    const r = outcome('conflict', 'conflict');
    r.conflicts.push({ name: '(structure)', reason: 'structure', detail: so ? 'the graph or other non-tensor bytes changed differently on both sides' : 'no merge base, and the structures differ' });
    return r;
  }
  const result = outcome('clean', structure);
  const toA = correspond(host, sa);
  const toB = correspond(host, sb);
  const toO = correspond(host, so);
  const picks: Pick[] = [];
  for (let i = 0; i < host.payloads.length; i++) {
    const ia = toA(i);
    const ib = toB(i);
    const io = toO(i);
    const ca = ia === undefined ? undefined : sa.keyed[ia]!.side.content;
    const cb = ib === undefined ? undefined : sb.keyed[ib]!.side.content;
    const co = io === undefined ? undefined : so!.keyed[io]!.side.content;
    const name = host.keyed[i]!.key;
    const fromA = (): Pick => ({ side: sa, index: ia! });
    const fromB = (): Pick => ({ side: sb, index: ib! });
    if (ca !== undefined && ca === cb) {
      result.counts.same++;
      picks.push(fromA());
    } else if (co !== undefined && ca === co && cb !== undefined) {
      result.counts.theirs++;
      picks.push(fromB());
    } else if (co !== undefined && cb === co && ca !== undefined) {
      result.counts.ours++;
      picks.push(fromA());
    } else if (co === undefined && (ca === undefined || cb === undefined)) {
      // new on one side's structure only (the host's): nothing to merge with
      if (ca !== undefined) result.counts.ours++;
      else result.counts.theirs++;
      picks.push({ side: host, index: i });
    } else {
      const reason: MergeConflict['reason'] = co === undefined ? 'both-added' : 'both-changed';
      const settled = strategy ? settle(store, strategy, host, i, sa, ia, sb, ib, so, io) : 'no strategy given';
      if (typeof settled === 'string') {
        result.conflicts.push({ name, reason, detail: strategy ? settled : undefined });
        picks.push({ side: host, index: i });
      } else {
        result.counts.resolved++;
        result.resolved.push({ name, strategy: strategy! });
        picks.push(settled);
      }
    }
  }
  // A restructuring side that dropped or replaced (other shape, other type) a unit the other side
  // changed would lose that change: a conflict, unless the strategy names the restructuring side.
  if (so && (structure === 'ours' || structure === 'theirs') && opts.restructured !== 'keep') {
    const other = structure === 'ours' ? sb : sa; // the side that kept the base's structure
    const kept = new Set<number>();
    for (let i = 0; i < host.payloads.length; i++) {
      const j = toO(i);
      if (j !== undefined) kept.add(j);
    }
    so.keyed.forEach((k, j) => {
      if (kept.has(j) || !other.keyed[j] || other.keyed[j]!.side.content === k.side.content) return;
      if (strategy === structure) {
        result.counts.resolved++;
        result.resolved.push({ name: k.key, strategy });
      } else {
        result.conflicts.push({ name: k.key, reason: 'changed-removed', detail: strategy ? `only --strategy=${structure} (the side that replaced it) settles this` : undefined });
      }
    });
  }
  if (result.conflicts.length) {
    result.status = 'conflict';
    return result;
  }
  result.pointer = build(store, host, picks);
  return result;
}

/** Settles one conflicting unit with the strategy, or says why it cannot. */
function settle(
  store: ChunkStore,
  strategy: Strategy,
  host: Side,
  i: number,
  sa: Side,
  ia: number | undefined,
  sb: Side,
  ib: number | undefined,
  so: Side | undefined,
  io: number | undefined,
): Pick | string {
  if (strategy === 'ours') return ia === undefined ? 'ours has no such tensor' : { side: sa, index: ia };
  if (strategy === 'theirs') return ib === undefined ? 'theirs has no such tensor' : { side: sb, index: ib };
  if (strategy === 'base') return io === undefined || !so ? 'the merge base has no such tensor' : { side: so, index: io };
  const k = host.keyed[i]!;
  const dtype = k.side.dtype;
  if (!isFloatDtype(dtype)) return `${strategy} needs a float tensor, this one is ${dtype}`;
  if (ia === undefined || ib === undefined) return 'one side has no such tensor';
  if (strategy === 'task-arithmetic' && (io === undefined || !so)) return 'task-arithmetic needs the tensor in the merge base';
  const base = strategy === 'task-arithmetic' ? pieces(store, so!, io!)() : undefined;
  const out = zip3(pieces(store, sa, ia)(), pieces(store, sb, ib)(), base);
  if (k.inline) {
    const [x, y, z] = out.next().value as [Buffer, Buffer, Buffer | undefined];
    return { inline: combine(strategy, dtype, x, y, z) };
  }
  // Piece by piece, each stored as soon as it is computed: never more than one piece per side in memory.
  // combine() keeps lengths, so the cut stays the spec's piece size.
  const width = planeWidth(dtypeFromName(dtype) ?? 0);
  const stored: ChunkRef[] = [];
  for (const [x, y, z] of out) {
    const b = combine(strategy, dtype, x, y, z);
    stored.push({ chunk: putChunk(store, b, { width, dtype }).id, length: b.length });
  }
  return { stored };
}

/** The merged pointer: host structure, chosen payloads; stores new chunks, hashes the whole file. */
function build(store: ChunkStore, host: Side, picks: Pick[]): Pointer {
  const hp = host.src.pointer;
  const gaps = skeletonOffsets(hp);
  const skeleton = Buffer.from(host.skeleton);
  let skeletonChanged = false;
  const newPieces = new Map<number, ChunkRef[]>(); // pointer part index -> pieces
  picks.forEach((pick, i) => {
    const hpay = host.payloads[i]!;
    if ('side' in pick && pick.side === host && pick.index === i) return; // unchanged in the host
    if (hpay.part === undefined) {
      // small payload: write its bytes into the skeleton copy
      const bytes = 'inline' in pick ? pick.inline : 'side' in pick ? pick.side.keyed[pick.index]!.inline! : undefined;
      if (!bytes) throw new Error('small payload merged into large chunks (bug)');
      if (bytes.length !== hpay.length) throw new Error('merged payload length differs (bug)');
      const at = toSkeleton(gaps, hpay.offset);
      if (!bytes.equals(skeleton.subarray(at, at + bytes.length))) {
        bytes.copy(skeleton, at);
        skeletonChanged = true;
      }
      return;
    }
    let refs: ChunkRef[];
    if ('stored' in pick) refs = pick.stored;
    else if ('side' in pick) refs = pick.side.keyed[pick.index]!.part!.pieces;
    else throw new Error('large payload merged from small bytes (bug)');
    if (refs.some((r) => r.length > TENSOR_PIECE_BYTES)) throw new Error('merged piece too large (bug)');
    newPieces.set(hpay.part, refs);
  });
  const parts = hp.parts.map((part, idx) => {
    const pcs = newPieces.get(idx);
    return pcs && part.kind === 'tensor' ? ({ ...part, pieces: pcs } as TensorPart) : part;
  });
  let skelRefs = hp.skeleton;
  if (skeletonChanged) {
    skelRefs = [];
    for (let off = 0; off < skeleton.length; off += SKELETON_PIECE_BYTES) {
      const piece = skeleton.subarray(off, Math.min(skeleton.length, off + SKELETON_PIECE_BYTES));
      skelRefs.push({ chunk: putChunk(store, piece, { width: 1, kind: 'skeleton' }).id, length: piece.length });
    }
  }
  // The file's hash: its bytes in order (every chunk read back verified).
  const h = createHash('sha256');
  let sk = 0;
  let size = 0;
  for (const part of parts) {
    if (part.kind === 'gap') {
      h.update(skeleton.subarray(sk, sk + part.length));
      sk += part.length;
      size += part.length;
    } else {
      for (const p of part.pieces) {
        const b = store.get(p.chunk);
        h.update(b);
        size += b.length;
      }
    }
  }
  const merged: Pointer = { format: 'onnx', size, sha256: h.digest('hex'), skeleton: skelRefs, parts };
  // Canonical form and arithmetic checked by the strict parser before anyone stores it.
  return parsePointer(formatPointer(merged));
}

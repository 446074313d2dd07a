// Chooses how to store a chunk: standalone, or predicted from candidate base chunks by one of the
// transforms, keeping whichever object is smallest. Clean uses the fast mode (candidates ranked on
// samples, only the best encoded in full); repack the thorough one (every applicable encoding).
// Bases only change storage, never pointers; every chosen object is decoded and checked before it is
// kept (ChunkStore.putEncoded).

import { zstdCompress } from '../codec/zstd.js';
import { toPlanes } from '../codec/planes.js';
import { encodeObject, encodeStandalone, MAX_DEPTH, type Base } from './object.js';
import { quantRowChoices, Transform, TRANSFORM_NAMES, xorBytes } from './transforms.js';
import { sha256, type ChunkStore, type PutResult } from './store.js';

export interface ChunkContext {
  /** element byte width (byte planes) */
  width: number;
  /** pointer dtype token (float32, float16, int8, int64:varint, ...); undefined for skeleton bytes */
  dtype?: string;
  dims?: number[];
  /** skeleton pieces of ONNX files are protobuf structure and strings: worth a high zstd level in repack */
  kind?: 'tensor' | 'skeleton' | 'raw';
}

export interface PutOptions {
  /** candidate base chunk ids, best guesses first */
  candidates?: string[];
  /** encode with every applicable transform instead of ranking on samples */
  thorough?: boolean;
  /** longest delta chain allowed (a keyframe is written instead) */
  maxDepth?: number;
  level?: number;
  knownId?: string;
  /** delta depth of a candidate as it will be stored (repack re-encodes bases as it goes) */
  depthOf?: (id: string) => number | undefined;
}

export const DEFAULT_MAX_DEPTH = 10;
const SAMPLE = 64 * 1024;
const FULL_BELOW = 1024 * 1024;
/** Dictionary bases: repack may use large ones; clean keeps them small (loading a dictionary costs
 * time and memory in proportion to its size, and clean runs on every git add). */
const MAX_DICT = 64 * 1024 * 1024;
const MAX_DICT_FAST = 8 * 1024 * 1024;
/** Candidate bases clean loads at most (repack: all it is given). */
const MAX_CANDIDATES_FAST = 4;

/**
 * For measurement only (scripts/bench-storage.ts): MGIT_TRANSFORMS=xor,dict,... limits the encodings
 * tried to those named (TRANSFORM_NAMES, plus "planes" for byte planes when standalone). Unset: all.
 */
let allowed: { env: string | undefined; names?: Set<string> } | undefined;

export function transformAllowed(name: string): boolean {
  // read when used, not when loaded: a prestarted filter (src/prestart.ts) loads this module first
  const env = process.env.MGIT_TRANSFORMS;
  if (allowed?.env !== env) allowed = { env, names: env ? new Set(env.split(',').map((t) => t.trim())) : undefined };
  return !allowed?.names || allowed.names.has(name);
}

interface Trial {
  transform: Transform;
  bases: Base[];
  arg?: number;
}

/** Stores a chunk, choosing its encoding. */
export function putChunk(store: ChunkStore, raw: Uint8Array, ctx: ChunkContext, opts: PutOptions = {}): PutResult {
  const id = opts.knownId ?? sha256(raw);
  if (store.has(id)) {
    store.freshen(id);
    return { id, written: false, storedBytes: 0 };
  }
  return store.putEncoded(id, chooseEncoding(store, raw, ctx, opts, id), raw);
}

export function chooseEncoding(store: ChunkStore, raw: Uint8Array, ctx: ChunkContext, opts: PutOptions, selfId?: string): Buffer {
  const level = opts.level ?? 1;
  let standalone = encodeStandalone(raw, ctx.width, level);
  // Structure and strings (skeletons) compress far better at a high level; weights do not (docs/store-format.md).
  const levels = opts.thorough && ctx.kind === 'skeleton' ? [level, 19] : [level];
  for (const l of levels.slice(1)) {
    const alt = encodeStandalone(raw, ctx.width, l);
    if (alt.length < standalone.length) standalone = alt;
  }
  let best = standalone;
  let bestCost = standalone.length;
  const trials = collectTrials(store, raw, ctx, opts, selfId).filter((t) => transformAllowed(TRANSFORM_NAMES[t.transform]));
  const ranked = opts.thorough || raw.length <= FULL_BELOW ? trials : pickBySample(raw, ctx, trials);
  for (const t of ranked) {
    const fewer = opts.thorough && t.transform === Transform.Dict && t.bases.length > 1 && dictBytes(t) > DICT_REFINE_FROM ? fewerDictBases(raw, t) : [];
    for (const l of t.transform === Transform.Dict ? levels : [level]) {
      for (const trial of [t, ...fewer]) {
        const obj = encodeObject(raw, { transform: trial.transform, width: ctx.width, bases: trial.bases, arg: trial.arg, level: l, standaloneBytes: standalone.length });
        const cost = obj ? obj.length + dictCost(trial) : Infinity;
        if (cost < bestCost) {
          best = obj!;
          bestCost = cost;
        }
      }
    }
  }
  return best;
}

/** Dictionaries larger than this are worth trying with fewer bases (repack). */
const DICT_REFINE_FROM = 1024 * 1024;

function dictBytes(t: Trial): number {
  return t.bases.reduce((a, b) => a + b.bytes.length, 0);
}

/**
 * What a dictionary costs the reader, in stored bytes: every checkout decodes all its bases (and their
 * chains) and copies them into the decoder, for often a few hundred bytes saved by the last base added.
 * A dictionary byte is weighed as 1/256 of a stored byte, so 8 MB of dictionary must save 32 KB.
 */
function dictCost(t: Trial): number {
  return t.transform === Transform.Dict ? dictBytes(t) >>> 8 : 0;
}

function collectTrials(store: ChunkStore, raw: Uint8Array, ctx: ChunkContext, opts: PutOptions, selfId?: string): Trial[] {
  const maxDepth = Math.min(opts.maxDepth ?? DEFAULT_MAX_DEPTH, MAX_DEPTH);
  const trials: Trial[] = [];
  const dictBases: Base[] = [];
  const seen = new Set<string>();
  const zeros = zeroShare(raw, ctx.width);
  const maxDict = opts.thorough ? MAX_DICT : MAX_DICT_FAST;
  let sameLength = false;
  const relayout: { base: Base; hits: number }[] = [];
  for (const cid of opts.candidates ?? []) {
    if (seen.has(cid) || cid === selfId) continue;
    if (!opts.thorough && seen.size >= MAX_CANDIDATES_FAST) break;
    seen.add(cid);
    const info = store.info(cid);
    const depth = opts.depthOf ? opts.depthOf(cid) : info?.depth;
    if (!info || depth === undefined || depth + 1 > maxDepth) continue;
    // In clean, a dictionary is only worth loading when nothing of the same length can serve.
    const dictOnly = info.rawLength !== raw.length && !(ctx.dtype && info.rawLength === raw.length * 2) && !(ctx.dtype && info.rawLength === raw.length * 4);
    if (dictOnly && !opts.thorough && (sameLength || info.rawLength > maxDict)) continue;
    let bytes: Buffer;
    try {
      bytes = store.get(cid);
    } catch {
      continue; // a damaged candidate is no base; fsck reports it
    }
    const base: Base = { id: cid, bytes, depth };
    const dtype = ctx.dtype ?? '';
    if (bytes.length === raw.length) {
      sameLength = true;
      trials.push({ transform: Transform.XorPlanes, bases: [base] });
      if ((ctx.width === 4 || ctx.width === 2) && zeros > 0.05) trials.push({ transform: Transform.MaskedXor, bases: [base] });
      // Repack: the same bytes in another order (a relayout) compress to nothing against a dictionary.
      if (opts.thorough) {
        const hits = popcount(windowMask(raw, bytes, 4));
        if (hits > 0) relayout.push({ base, hits });
      }
    } else if ((dtype === 'float16' || dtype === 'bfloat16') && bytes.length === raw.length * 2) {
      trials.push({ transform: Transform.CastPredict, bases: [base], arg: dtype === 'float16' ? 1 : 2 });
    } else if ((dtype === 'int8' || dtype === 'uint8') && bytes.length === raw.length * 4) {
      for (const rows of quantRowChoices(ctx.dims ?? [], raw.length)) trials.push({ transform: Transform.QuantPredict, bases: [base], arg: rows });
    }
    if (bytes.length !== raw.length || !ctx.dtype) {
      if (dictBases.reduce((a, b) => a + b.bytes.length, 0) + bytes.length <= maxDict) dictBases.push(base);
    }
  }
  if (dictBases.length && (opts.thorough || !sameLength || !ctx.dtype)) trials.push({ transform: Transform.Dict, bases: dictBases.slice(0, opts.thorough ? 8 : 2) });
  if (relayout.length) {
    const picked: Base[] = [];
    let bytes = 0;
    for (const { base } of relayout.sort((a, b) => b.hits - a.hits)) {
      if (picked.length === 8 || bytes + base.bytes.length > maxDict) continue;
      picked.push(base);
      bytes += base.bytes.length;
    }
    trials.push({ transform: Transform.Dict, bases: picked });
  }
  return trials;
}

/**
 * The same dictionary with only the bases that hold some of the chunk's bytes verbatim (a greedy cover
 * of sampled 64-byte windows), and with the best of them alone. A pruned layer sliced from one parent
 * needs that parent only, not the seven same-shape siblings that came with it: measured on digits,
 * 8 bases and 37.7 MB of dictionary for 2,799 bytes, against 2,525 bytes with the parent alone.
 */
function fewerDictBases(raw: Uint8Array, t: Trial): Trial[] {
  const found = t.bases.map((b) => ({ b, mask: windowMask(raw, b.bytes, 16) }));
  const cover: Base[] = [];
  let covered = 0;
  for (;;) {
    let best: (typeof found)[number] | undefined;
    let gain = 0;
    for (const f of found) {
      const g = popcount(f.mask & ~covered);
      if (g > gain) [best, gain] = [f, g];
    }
    if (!best) break;
    cover.push(best.b);
    covered |= best.mask;
  }
  const out: Trial[] = [];
  if (cover.length && cover.length < t.bases.length) out.push({ transform: Transform.Dict, bases: cover });
  if (cover.length > 1) out.push({ transform: Transform.Dict, bases: cover.slice(0, 1) });
  return out;
}

function popcount(x: number): number {
  let n = 0;
  for (; x; x &= x - 1) n++;
  return n;
}

/** Which of `n` evenly spread 64-byte windows of `raw` occur anywhere in `base`, as a bit mask. */
function windowMask(raw: Uint8Array, base: Uint8Array, n: number): number {
  const WIN = 64;
  let mask = 0;
  if (raw.length < WIN * n) return mask;
  const b = Buffer.from(base.buffer, base.byteOffset, base.byteLength);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(((raw.length - WIN) * (k + 0.5)) / n);
    if (b.indexOf(raw.subarray(at, at + WIN)) >= 0) mask |= 1 << k;
  }
  return mask;
}

/** Share of elements that are exactly +0 or -0: pruned tensors have many. */
function zeroShare(raw: Uint8Array, width: number): number {
  if (width !== 2 && width !== 4) return 0;
  const n = Math.floor(raw.length / width);
  const step = Math.max(1, Math.floor(n / 4096));
  let zeros = 0;
  let seen = 0;
  for (let i = 0; i < n; i += step, seen++) {
    let z = true;
    for (let k = 0; k < width - 1 && z; k++) z = raw[i * width + k] === 0;
    if (z && (raw[i * width + width - 1] & 0x7f) === 0) zeros++;
  }
  return seen ? zeros / seen : 0;
}

/**
 * For large chunks, picks the same-shape base whose XOR compresses best on a few aligned windows and
 * keeps only its XOR-family trials; the other trials (casts, quantization, dictionaries) are rare and
 * always encoded in full.
 */
function pickBySample(raw: Uint8Array, ctx: ChunkContext, trials: Trial[]): Trial[] {
  const xorLike = (t: Trial) => t.transform === Transform.XorPlanes || t.transform === Transform.MaskedXor;
  const others = trials.filter((t) => !xorLike(t));
  const bases = [...new Set(trials.filter(xorLike).map((t) => t.bases[0]))];
  if (bases.length <= 1) return trials;
  const w = Math.max(1, ctx.width);
  const win = SAMPLE - (SAMPLE % w);
  const starts = [0, Math.floor(raw.length / 2 / w) * w, Math.max(0, Math.floor((raw.length - win) / w) * w)];
  const score = (b: Base): number => {
    let total = 0;
    for (const s of starts) total += zstdCompress(toPlanes(xorBytes(raw.subarray(s, s + win), b.bytes.subarray(s, s + win)), w), 1).length;
    return total;
  };
  const best = bases.map((b) => ({ b, s: score(b) })).sort((x, y) => x.s - y.s)[0].b;
  return [...trials.filter((t) => xorLike(t) && t.bases[0] === best), ...others];
}

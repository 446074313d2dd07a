// Value statistics of changed float tensors, read piece by piece from the chunk store or a file.
//
// Owns: the figures a person needs to judge a weight change (max and mean absolute difference, relative
// L2 change, share of elements changed, sparsity before and after) and the --tolerance rule that turns
// numerical noise (a re-export, a save/load round trip) back into "unchanged".
// Must never: hold more than one piece (16 MiB) per side in memory, or report statistics for tensors
// whose element types it cannot decode (integers, quantized types, varint-packed data).

import type { ModelSource } from '../model/source.js';
import { decodeFloats, isFloatDtype, type FloatDtype } from '../tensor/floats.js';
import { changeEntries, totals, type Keyed, type TensorChange, type TensorDiff, type ValueStats } from './tensors.js';

/** Decoded elements of a tensor, one piece at a time (small tensors: their inline bytes). */
function* elements(src: ModelSource, t: Keyed): Generator<Float32Array | Float64Array> {
  const dtype = t.side.dtype as FloatDtype;
  if (t.inline) yield decodeFloats(t.inline, dtype);
  else if (t.part) for (let i = 0; i < t.part.pieces.length; i++) yield decodeFloats(src.piece(t.part, i), dtype);
}

/** Walks two element streams in step, whatever their piece sizes. */
function* zip(
  a: Generator<Float32Array | Float64Array>,
  b: Generator<Float32Array | Float64Array>,
): Generator<[Float32Array | Float64Array, Float32Array | Float64Array]> {
  let ra = a.next();
  let rb = b.next();
  let ia = 0;
  let ib = 0;
  while (!ra.done && !rb.done) {
    const n = Math.min(ra.value.length - ia, rb.value.length - ib);
    yield [ra.value.subarray(ia, ia + n), rb.value.subarray(ib, ib + n)];
    ia += n;
    ib += n;
    if (ia === ra.value.length) {
      ra = a.next();
      ia = 0;
    }
    if (ib === rb.value.length) {
      rb = b.next();
      ib = 0;
    }
  }
}

/** Statistics of b against a. Both must be float tensors with the same number of elements. */
export function compareValues(sa: ModelSource, ta: Keyed, sb: ModelSource, tb: Keyed): ValueStats {
  let n = 0;
  let changed = 0;
  let sumAbs = 0;
  let maxAbs = 0;
  let sumSqDiff = 0;
  let sumSqA = 0;
  let zerosA = 0;
  let zerosB = 0;
  let nonFinite = 0;
  for (const [xa, xb] of zip(elements(sa, ta), elements(sb, tb))) {
    for (let i = 0; i < xa.length; i++) {
      const x = xa[i]!;
      const y = xb[i]!;
      n++;
      if (x === 0) zerosA++;
      if (y === 0) zerosB++;
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        nonFinite++;
        if (!(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)))) changed++;
        continue;
      }
      const d = Math.abs(y - x);
      if (d !== 0) changed++;
      sumAbs += d;
      if (d > maxAbs) maxAbs = d;
      sumSqDiff += d * d;
      sumSqA += x * x;
    }
  }
  const finite = n - nonFinite;
  return {
    elements: n,
    maxAbsDiff: maxAbs,
    meanAbsDiff: finite ? sumAbs / finite : 0,
    relL2: sumSqA > 0 ? Math.sqrt(sumSqDiff) / Math.sqrt(sumSqA) : sumSqDiff > 0 ? null : 0,
    changedShare: n ? changed / n : 0,
    sparsityA: n ? zerosA / n : 0,
    sparsityB: n ? zerosB / n : 0,
    nonFinite,
  };
}

const elementCount = (dims: number[]) => dims.reduce((a, d) => a * d, 1);

/** Why a change cannot get value statistics, or undefined when it can. */
export function statsBlocker(c: TensorChange): string | undefined {
  if (!c.a || !c.b) return 'no counterpart';
  if (!isFloatDtype(c.a.dtype) || !isFloatDtype(c.b.dtype)) return `not a float tensor (${c.a.dtype === c.b.dtype ? c.a.dtype : `${c.a.dtype} -> ${c.b.dtype}`})`;
  const width = (d: string) => (d === 'float64' ? 8 : d === 'float32' ? 4 : 2);
  const na = c.a.bytes / width(c.a.dtype);
  const nb = c.b.bytes / width(c.b.dtype);
  if (na !== nb || na !== elementCount(c.a.dims) || nb !== elementCount(c.b.dims)) return 'element counts differ';
  return undefined;
}

export interface ValueOptions {
  /** changes whose max absolute difference is at most this count as unchanged */
  tolerance?: number;
}

/**
 * Adds value statistics to the changed and retyped tensors of a diff, where both sides can be read.
 * Tensors whose chunks are not local are left without statistics and say why.
 */
export function addValueStats(diff: TensorDiff, sa: ModelSource, sb: ModelSource, opts: ValueOptions = {}): void {
  for (const c of diff.changes) {
    if (c.class !== 'changed' && c.class !== 'retyped') continue;
    const blocker = statsBlocker(c);
    if (blocker) {
      c.statsSkipped = blocker;
      continue;
    }
    const e = changeEntries.get(c);
    if (!e?.a || !e.b) {
      c.statsSkipped = 'tensor not found';
      continue;
    }
    if ((e.a.part && !sa.canRead([e.a.part])) || (e.b.part && !sb.canRead([e.b.part]))) {
      c.statsSkipped = 'chunks not in the local store';
      continue;
    }
    c.stats = compareValues(sa, e.a, sb, e.b);
    if (opts.tolerance !== undefined && c.class === 'changed' && c.stats.nonFinite === 0 && c.stats.maxAbsDiff <= opts.tolerance) {
      c.class = 'unchanged';
      c.withinTolerance = true;
    }
  }
  diff.summary = totals(diff.changes);
}

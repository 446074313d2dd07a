// One model's diff report: the tensor diff (always), value statistics (when asked and chunks are local)
// and the graph diff (when asked and the skeleton is local). This is the JSON schema of
// `git mgit diff --format=json` (docs/diff-merge.md) and what the text and HTML renderers draw.
//
// Must never: fail a whole report because one part cannot be computed: a missing skeleton chunk or a
// model that is not ONNX becomes a `graph.error`, missing tensor chunks become `statsSkipped`.

import { errorMessage } from '../errors.js';
import { partBytes, PointerSource, tensorParts, type ModelSource } from '../model/source.js';
import { walkSkeleton, type Payload } from '../onnx/skeleton.js';
import { decodeStructure, type ModelInfo } from '../onnx/structure.js';
import { diffModels, type ModelGraphDiff } from './graph.js';
import { diffTensors, keyedPayloads, type TensorDiff } from './tensors.js';
import { addValueStats } from './values.js';

export const REPORT_VERSION = 1;

export interface VersionInfo {
  label: string;
  sha256: string;
  size: number;
  format: 'onnx' | 'raw';
  tensors: number;
  tensorBytes: number;
}

export type ModelStatus = 'modified' | 'identical' | 'added' | 'deleted';

export interface ModelDiff {
  path: string;
  status: ModelStatus;
  a?: VersionInfo;
  b?: VersionInfo;
  tensors: TensorDiff;
  graph?: ModelGraphDiff | { error: string };
}

export interface DiffReport {
  version: typeof REPORT_VERSION;
  models: ModelDiff[];
}

export interface DiffOptions {
  graph?: boolean;
  values?: boolean;
  tolerance?: number;
  /** keep unchanged tensors in the change list */
  all?: boolean;
}

export function versionInfo(src: ModelSource): VersionInfo {
  const parts = tensorParts(src.pointer);
  return {
    label: src.label,
    sha256: src.pointer.sha256,
    size: src.pointer.size,
    format: src.pointer.format,
    tensors: parts.length,
    tensorBytes: parts.reduce((a, p) => a + partBytes(p), 0),
  };
}

/** Every payload of a version when its skeleton is at hand (small tensors included), else undefined. */
function payloadsOf(src: ModelSource): Payload[] | undefined {
  if (src.pointer.format !== 'onnx') return undefined;
  if (src instanceof PointerSource && src.missingSkeleton().length > 0) return undefined;
  try {
    return walkSkeleton(src.pointer, src.skeleton()).payloads;
  } catch {
    return undefined;
  }
}

export function diffModel(path: string, sa: ModelSource | undefined, sb: ModelSource | undefined, opts: DiffOptions = {}): ModelDiff {
  // Structure first when asked: its skeleton walk also lists the small tensors the pointer leaves out.
  let ma: ModelInfo | undefined;
  let mb: ModelInfo | undefined;
  let graphError: string | undefined;
  if (opts.graph && sa && sb) {
    try {
      ma = decodeStructure(sa.pointer, sa.skeleton());
      mb = decodeStructure(sb.pointer, sb.skeleton());
    } catch (e) {
      graphError = errorMessage(e);
    }
  }
  const pa = sa && (ma?.payloads ?? payloadsOf(sa));
  const pb = sb && (mb?.payloads ?? payloadsOf(sb));
  // Both sides the same way, or names numbered for repeats would not line up.
  const full = (!sa || pa) && (!sb || pb);
  const tensors = full
    ? diffTensors(sa?.pointer, sb?.pointer, sa ? keyedPayloads(sa.pointer, pa!) : [], sb ? keyedPayloads(sb.pointer, pb!) : [])
    : diffTensors(sa?.pointer, sb?.pointer);
  if (sa && sb && (opts.values || opts.tolerance !== undefined)) addValueStats(tensors, sa, sb, { tolerance: opts.tolerance });
  if (!opts.all) tensors.changes = tensors.changes.filter((c) => c.class !== 'unchanged' || c.withinTolerance);
  const status: ModelStatus = !sa ? 'added' : !sb ? 'deleted' : sa.pointer.sha256 === sb.pointer.sha256 ? 'identical' : 'modified';
  const out: ModelDiff = { path, status, a: sa && versionInfo(sa), b: sb && versionInfo(sb), tensors };
  if (ma && mb) out.graph = diffModels(ma, mb);
  else if (graphError) out.graph = { error: graphError };
  return out;
}

/** True when the report shows any difference (for --exit-code). */
export function hasDifferences(r: DiffReport): boolean {
  return r.models.some(
    (m) => m.status === 'added' || m.status === 'deleted' || (m.status === 'modified' && (!m.tensors.skeleton.same || m.tensors.changes.some((c) => c.class !== 'unchanged'))),
  );
}

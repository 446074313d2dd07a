// Lineage records (docs/lineage-spec.md): the add-only facts stored on refs/mgit/lineage. An edge says
// "this model version was made from these parent versions, by this relation"; a retraction withdraws
// one edge. Each record is canonical JSON named by the SHA-256 of its bytes, so the same fact written in
// two clones is the same file, and two sets of records merge by plain union.
// Pure: no git, no disk. Records arrive from remotes, so parsing is strict and bounded; a record that
// is not canonical is refused rather than repaired.

import { createHash } from 'node:crypto';

export const RECORD_VERSION = 1;
/** Where records live inside the lineage ref's tree. */
export const RECORDS_ROOT = 'v1';

/** The documented vocabulary of `lineage add`. Readers accept other well-formed names (newer mgit). */
export const RELATIONS = ['finetune', 'adapter', 'quantize', 'prune', 'distill', 'merge', 'reexport', 'version', 'other'] as const;
export type Relation = (typeof RELATIONS)[number];

export const RELATION_HELP: Record<Relation, string> = {
  finetune: 'trained further from the parent (any task or domain; some layers may be frozen)',
  adapter: 'the parent plus trained adapter weights (LoRA and the like), merged or not',
  quantize: "a lower-precision encoding of the parent's weights",
  prune: "the parent's weights zeroed or sliced",
  distill: "a new model trained on the parent's outputs",
  merge: 'a weight-space combination of several parents (list them all, primary first)',
  reexport: 'the same weights serialized again (other opset, exporter, layout)',
  version: 'a next version of the parent kept at another path (versions at the same path come from git)',
  other: 'anything else (say what in --meta)',
};

const HEX64 = /^[0-9a-f]{64}$/;
const RELATION_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const META_KEY = /^[A-Za-z0-9_.-]{1,64}$/;

export const LIMITS = {
  recordBytes: 64 * 1024,
  parents: 64,
  pathChars: 4096,
  commandArgs: 256,
  argChars: 4096,
  metaKeys: 64,
  metaValueChars: 1024,
  autoChars: 512,
  gen: 1_000_000,
} as const;

export interface EdgeRecord {
  kind: 'edge';
  /** the child model version: sha256 of the model file */
  child: string;
  /** where the child was when the edge was declared (a hint for display; identity is `child`) */
  childPath: string;
  /** parent versions, primary first */
  parents: string[];
  parentPaths: string[];
  relation: string;
  /** the creation command as an argument vector, with {child}/{parent}/{parentN} placeholders */
  command?: string[];
  meta?: Record<string, string>;
  /** set by the autopilot: the evidence it found */
  auto?: string;
  /** > 0 when the same edge is declared again after a retraction (a new record, so a new id) */
  gen?: number;
}

export interface RetractRecord {
  kind: 'retract';
  child: string;
  /** id of the edge record withdrawn */
  edge: string;
}

export type LineageRecord = EdgeRecord | RetractRecord;

export class RecordError extends Error {}

/** The one canonical encoding: fixed key order, optional keys omitted, meta keys sorted, LF at the end. */
export function encodeRecord(r: LineageRecord): Buffer {
  check(r);
  const parts: string[] = [`"v":${RECORD_VERSION}`, `"kind":${JSON.stringify(r.kind)}`, `"child":${JSON.stringify(r.child)}`];
  if (r.kind === 'retract') {
    parts.push(`"edge":${JSON.stringify(r.edge)}`);
  } else {
    parts.push(`"childPath":${JSON.stringify(r.childPath)}`);
    parts.push(`"parents":${JSON.stringify(r.parents)}`);
    parts.push(`"parentPaths":${JSON.stringify(r.parentPaths)}`);
    parts.push(`"relation":${JSON.stringify(r.relation)}`);
    if (r.command) parts.push(`"command":${JSON.stringify(r.command)}`);
    if (r.meta && Object.keys(r.meta).length) {
      const keys = Object.keys(r.meta).sort(compareCodePoints);
      parts.push(`"meta":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(r.meta![k])}`).join(',')}}`);
    }
    if (r.auto !== undefined) parts.push(`"auto":${JSON.stringify(r.auto)}`);
    if (r.gen) parts.push(`"gen":${r.gen}`);
  }
  const buf = Buffer.from(`{${parts.join(',')}}\n`, 'utf8');
  if (buf.length > LIMITS.recordBytes) throw new RecordError(`record is ${buf.length} bytes, over the ${LIMITS.recordBytes} limit`);
  return buf;
}

export function recordId(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Where a record with this id and child sits in the lineage tree: grouped by child version. */
export function recordPath(child: string, id: string): string {
  return `${RECORDS_ROOT}/${child.slice(0, 2)}/${child}/${id}.json`;
}

const PATH_RE = new RegExp(`^${RECORDS_ROOT}/([0-9a-f]{2})/([0-9a-f]{64})/([0-9a-f]{64})\\.json$`);

/** The child and id a tree path claims, or undefined when the path is not a record's. */
export function parseRecordPath(p: string): { child: string; id: string } | undefined {
  const m = PATH_RE.exec(p);
  if (!m || m[2].slice(0, 2) !== m[1]) return undefined;
  return { child: m[2], id: m[3] };
}

/**
 * Parses record bytes found at `treePath`. Throws RecordError unless the bytes are a canonical record
 * whose sha256 is its file name and whose child is the folder it sits in. A record of a newer version
 * throws too (callers skip it and say so).
 */
export function decodeRecord(bytes: Uint8Array, treePath?: string): { id: string; record: LineageRecord } {
  if (bytes.length > LIMITS.recordBytes) throw new RecordError(`record is ${bytes.length} bytes`);
  const id = recordId(bytes);
  let obj: unknown;
  try {
    obj = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new RecordError('not JSON');
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new RecordError('not a JSON object');
  const o = obj as Record<string, unknown>;
  if (o.v !== RECORD_VERSION) throw new RecordError(typeof o.v === 'number' && o.v > RECORD_VERSION ? `record version ${o.v} is newer than this mgit reads` : 'bad version');
  const allowed = o.kind === 'edge' ? EDGE_KEYS : o.kind === 'retract' ? RETRACT_KEYS : undefined;
  if (!allowed) throw new RecordError(`unknown kind ${JSON.stringify(o.kind)}`);
  for (const k of Object.keys(o)) if (!allowed.has(k)) throw new RecordError(`unknown field ${JSON.stringify(k)}`);
  const record = toRecord(o);
  const canonical = encodeRecord(record); // also validates every field
  if (!canonical.equals(Buffer.from(bytes))) throw new RecordError('not in canonical form');
  if (treePath !== undefined) {
    const at = parseRecordPath(treePath);
    if (!at) throw new RecordError(`unexpected path ${JSON.stringify(treePath)}`);
    if (at.id !== id) throw new RecordError('file name is not the sha256 of its content');
    if (at.child !== record.child) throw new RecordError('record is filed under another child');
  }
  return { id, record };
}

function toRecord(o: Record<string, unknown>): LineageRecord {
  return o.kind === 'retract'
    ? { kind: 'retract', child: o.child as string, edge: o.edge as string }
    : {
        kind: 'edge',
        child: o.child as string,
        childPath: o.childPath as string,
        parents: o.parents as string[],
        parentPaths: o.parentPaths as string[],
        relation: o.relation as string,
        ...(o.command !== undefined ? { command: o.command as string[] } : {}),
        ...(o.meta !== undefined ? { meta: o.meta as Record<string, string> } : {}),
        ...(o.auto !== undefined ? { auto: o.auto as string } : {}),
        ...(o.gen !== undefined ? { gen: o.gen as number } : {}),
      };
}

/**
 * A record from JSON that decodeRecord accepted before (a local cache of checked records): parsed,
 * not re-validated. Only the placement in the tree is checked again, since the same blob may sit at
 * another path.
 */
export function checkedRecord(json: string, id: string, treePath: string): LineageRecord {
  const record = toRecord(JSON.parse(json) as Record<string, unknown>);
  const at = parseRecordPath(treePath);
  if (!at || at.id !== id || at.child !== record.child) throw new RecordError(`record ${id} is filed at ${JSON.stringify(treePath)}`);
  return record;
}

const EDGE_KEYS = new Set(['v', 'kind', 'child', 'childPath', 'parents', 'parentPaths', 'relation', 'command', 'meta', 'auto', 'gen']);
const RETRACT_KEYS = new Set(['v', 'kind', 'child', 'edge']);

function isStr(x: unknown, max: number): x is string {
  return typeof x === 'string' && x.length <= max && !x.includes('\0');
}

function check(r: LineageRecord): void {
  if (!isStr(r.child, 64) || !HEX64.test(r.child)) throw new RecordError('child is not a sha256');
  if (r.kind === 'retract') {
    if (!isStr(r.edge, 64) || !HEX64.test(r.edge)) throw new RecordError('edge is not a record id');
    return;
  }
  if (!Array.isArray(r.parents) || r.parents.length < 1 || r.parents.length > LIMITS.parents) throw new RecordError('an edge needs 1 to 64 parents');
  for (const p of r.parents) if (!isStr(p, 64) || !HEX64.test(p)) throw new RecordError('parent is not a sha256');
  if (new Set(r.parents).size !== r.parents.length) throw new RecordError('a parent is listed twice');
  if (r.parents.includes(r.child)) throw new RecordError('a version cannot be its own parent');
  if (!isStr(r.childPath, LIMITS.pathChars)) throw new RecordError('bad childPath');
  if (!Array.isArray(r.parentPaths) || r.parentPaths.length !== r.parents.length) throw new RecordError('parentPaths must match parents');
  for (const p of r.parentPaths) if (!isStr(p, LIMITS.pathChars)) throw new RecordError('bad parent path');
  if (!isStr(r.relation, 32) || !RELATION_NAME.test(r.relation)) throw new RecordError(`bad relation ${JSON.stringify(r.relation)}`);
  if (r.command !== undefined) {
    if (!Array.isArray(r.command) || r.command.length < 1 || r.command.length > LIMITS.commandArgs) throw new RecordError('command must have 1 to 256 arguments');
    for (const a of r.command) if (!isStr(a, LIMITS.argChars)) throw new RecordError('bad command argument');
  }
  if (r.meta !== undefined) {
    if (!r.meta || typeof r.meta !== 'object' || Array.isArray(r.meta)) throw new RecordError('meta must be an object');
    const keys = Object.keys(r.meta);
    if (keys.length > LIMITS.metaKeys) throw new RecordError('too many meta keys');
    for (const k of keys) {
      if (!META_KEY.test(k)) throw new RecordError(`bad meta key ${JSON.stringify(k)}`);
      if (!isStr(r.meta[k], LIMITS.metaValueChars)) throw new RecordError(`bad meta value for ${k}`);
    }
  }
  if (r.auto !== undefined && !isStr(r.auto, LIMITS.autoChars)) throw new RecordError('bad auto evidence');
  if (r.gen !== undefined && (!Number.isInteger(r.gen) || r.gen < 0 || r.gen > LIMITS.gen)) throw new RecordError('bad gen');
}

function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

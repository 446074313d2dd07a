// The lineage refs: reading the graph from them and adding records to them (docs/lineage-spec.md).
// The local graph is refs/mgit/lineage; what `git fetch` brought from remotes sits on
// refs/mgit/remotes/<remote>/lineage and is read as part of the graph too (records only add up, so the
// union is always the right view). Writes go to the local ref only, through a commit built with
// plumbing and a compare-and-swap update, retried when another writer got there first.
// Never: touch the work tree or the user's index, rewrite or drop a record, or trust a record's
// bytes before decodeRecord checked them.

import * as path from 'node:path';
import { MgitError } from '../errors.js';
import { catBlobs, commitTree, existingPaths, forEachRef, hashBlobs, isAncestor, lsTree, revParse, treeOf, updateRefCas, writeTree } from '../git/plumbing.js';
import type { Repo } from '../repo.js';
import { trace } from '../trace.js';
import { LineageGraph, type InvalidRecord } from './graph.js';
import { LineageIndex } from './local-index.js';
import { checkedRecord, decodeRecord, encodeRecord, RecordError, recordId, recordPath, type LineageRecord } from './record.js';

export const LINEAGE_REF = 'refs/mgit/lineage';
export const REMOTE_LINEAGE_PREFIX = 'refs/mgit/remotes/';

/** The remote-tracking lineage ref of a remote. */
export function remoteLineageRef(remote: string): string {
  return `${REMOTE_LINEAGE_PREFIX}${remote}/lineage`;
}

function cwdOf(repo: Repo): string {
  return repo.paths.top ?? repo.paths.gitDir;
}

function tmpDir(repo: Repo): string {
  return path.join(repo.paths.commonDir, 'mgit', 'tmp');
}

/** The local lineage ref and every remote-tracking lineage ref, with their commits. */
export function lineageRefs(repo: Repo): { ref: string; oid: string }[] {
  return forEachRef([LINEAGE_REF, REMOTE_LINEAGE_PREFIX], cwdOf(repo)).filter((r) => r.ref === LINEAGE_REF || (r.ref.startsWith(REMOTE_LINEAGE_PREFIX) && r.ref.endsWith('/lineage')));
}

let graphCache: { key: string; graph: LineageGraph } | undefined;

/**
 * The lineage graph: the union of the records on the local ref and on every remote-tracking lineage
 * ref (the local ref first: on a path that two refs fill differently, the local record wins). Invalid
 * records are left out and listed in `graph.invalid`. Synchronous; costs one git process when no
 * lineage ref moved since the previous call.
 */
export function loadGraph(repo: Repo): LineageGraph {
  const refs = lineageRefs(repo);
  const key = `${repo.paths.commonDir}\n${refs.map((r) => `${r.ref} ${r.oid}`).join('\n')}`;
  if (graphCache?.key === key) return graphCache.graph;
  const graph = readRecords(repo, refs.map((r) => r.oid));
  graphCache = { key, graph };
  return graph;
}

/** The graph of the union of these commits' trees. */
function readRecords(repo: Repo, commits: string[]): LineageGraph {
  const cwd = cwdOf(repo);
  const entries = new Map<string, string>(); // path -> blob
  for (const c of commits) for (const e of lsTree(c, cwd)) if (e.type === 'blob' && !entries.has(e.path)) entries.set(e.path, e.oid);
  const records: [string, LineageRecord][] = [];
  const invalid: InvalidRecord[] = [];
  // Records checked in an earlier process come from the local index; only new blobs are read and
  // decoded (and then remembered).
  const index = new LineageIndex(repo);
  const checked = entries.size ? index.checkedRecords() : new Map<string, { id: string; json: string }>();
  const need: { path: string; oid: string }[] = [];
  for (const [p, oid] of entries) {
    const c = checked.get(oid);
    if (!c) {
      need.push({ path: p, oid });
      continue;
    }
    try {
      records.push([c.id, checkedRecord(c.json, c.id, p)]);
    } catch (e) {
      invalid.push({ path: p, reason: (e as Error).message });
    }
  }
  const blobs = catBlobs(
    need.map((n) => n.oid),
    cwd,
  );
  const remember: { blob: string; id: string; json: string }[] = [];
  for (const { path: p, oid } of need) {
    const bytes = blobs.get(oid);
    try {
      if (!bytes) throw new RecordError('blob missing');
      const d = decodeRecord(bytes, p);
      records.push([d.id, d.record]);
      remember.push({ blob: oid, id: d.id, json: bytes.toString('utf8').trimEnd() });
    } catch (e) {
      invalid.push({ path: p, reason: (e as Error).message });
    }
  }
  index.rememberRecords(remember);
  if (invalid.length) trace(`lineage: ${invalid.length} invalid record(s) ignored`);
  return new LineageGraph(records, invalid);
}

export interface WriteResult {
  /** ids of the records that were new to the local ref */
  added: string[];
  /** the ref's commit after the write (undefined when nothing was written and the ref does not exist) */
  commit?: string;
}

/**
 * Adds records to the local lineage ref in one commit. Records already there are not written again
 * (the same fact has the same id), so adding is idempotent.
 */
export function writeRecords(repo: Repo, records: LineageRecord[], message: string): WriteResult {
  const cwd = cwdOf(repo);
  const encoded = records.map((r) => {
    const bytes = encodeRecord(r);
    return { bytes, id: recordId(bytes), path: recordPath(r.child, recordId(bytes)) };
  });
  for (let attempt = 0; attempt < 20; attempt++) {
    const old = revParse(LINEAGE_REF, cwd);
    const present = old ? existingPaths(old, encoded.map((e) => e.path), cwd) : new Set<string>();
    const fresh = encoded.filter((e, i) => !present.has(e.path) && encoded.findIndex((x) => x.path === e.path) === i);
    if (fresh.length === 0) return { added: [], commit: old };
    const oids = hashBlobs(
      fresh.map((e) => e.bytes),
      cwd,
      tmpDir(repo),
    );
    const tree = writeTree(
      old,
      fresh.map((e, i) => ({ path: e.path, oid: oids[i] })),
      cwd,
      tmpDir(repo),
    );
    const commit = commitTree(tree, old ? [old] : [], message, cwd);
    if (updateRefCas(LINEAGE_REF, commit, old, `mgit: ${message.split('\n')[0]}`, cwd)) return { added: fresh.map((e) => e.id), commit };
    trace(`lineage: ${LINEAGE_REF} moved while writing; retrying`);
  }
  throw new MgitError('ELINEAGEBUSY', `${LINEAGE_REF} kept changing while mgit wrote to it (or a crashed git left its .lock file): try again`);
}

export type MergeOutcome = 'up-to-date' | 'fast-forward' | 'merged';

/**
 * Merges another lineage commit (e.g. a remote's) into the local ref: a fast-forward when possible,
 * else a commit whose tree is the union of both trees. Records are content-addressed and add-only, so
 * the union never conflicts; on the impossible clash of one path with two contents, ours is kept.
 */
export function mergeLineage(repo: Repo, theirs: string, label: string): MergeOutcome {
  const cwd = cwdOf(repo);
  for (let attempt = 0; attempt < 20; attempt++) {
    const ours = revParse(LINEAGE_REF, cwd);
    if (ours === theirs || (ours && isAncestor(theirs, ours, cwd))) return 'up-to-date';
    if (!ours || isAncestor(ours, theirs, cwd)) {
      if (updateRefCas(LINEAGE_REF, theirs, ours, `mgit: lineage fast-forward to ${label}`, cwd)) return 'fast-forward';
      continue;
    }
    const have = new Set(lsTree(ours, cwd).map((e) => e.path));
    const adds = lsTree(theirs, cwd)
      .filter((e) => e.type === 'blob' && !have.has(e.path))
      .map((e) => ({ path: e.path, oid: e.oid }));
    const tree = adds.length ? writeTree(ours, adds, cwd, tmpDir(repo)) : treeOf(ours, cwd);
    const commit = commitTree(tree, [ours, theirs], `lineage: merge ${label}\n`, cwd);
    if (updateRefCas(LINEAGE_REF, commit, ours, `mgit: lineage merge ${label}`, cwd)) return 'merged';
  }
  throw new MgitError('ELINEAGEBUSY', `${LINEAGE_REF} kept changing while mgit merged into it (or a crashed git left its .lock file): try again`);
}

// The autopilot: parents for a model version from the pointers of every other version the repository
// knows (all branches, tags, remote branches, the index), ranked by suggest.ts over the local index.
// Also what `mgit.autoLineage` does after each commit: models the commit adds that have no declared
// parents get the best suggestion as an edge, marked `auto` with its evidence.
// Never: suggest a version's own earlier versions (git history already links them), the version
// itself, or its declared descendants (that would close a cycle).

import { LineageGraph } from './graph.js';
import { LineageIndex } from './local-index.js';
import { loadGraph, writeRecords } from './ref.js';
import { rankParents, type Candidate, type Suggestion } from './suggest.js';
import { readPointer, scanModels, type ModelHistory, type ResolvedVersion } from './versions.js';
import type { EdgeRecord } from './record.js';
import type { Repo } from '../repo.js';
import { git } from '../git/git.js';
import { catBlobs } from '../git/plumbing.js';
import { looksLikePointer, parsePointer } from '../codec/pointer.js';
import { trace } from '../trace.js';

export interface SuggestOptions {
  limit?: number;
  threshold?: number;
  history?: ModelHistory;
  graph?: LineageGraph;
  index?: LineageIndex;
}

/** Ranked parent suggestions for a version (which must carry its pointer). */
export async function suggestParents(repo: Repo, target: ResolvedVersion, opts: SuggestOptions = {}): Promise<Suggestion[]> {
  if (!target.pointer) throw new Error('suggestParents needs the version pointer');
  const index = opts.index ?? new LineageIndex(repo);
  const history = opts.history ?? (await scanModels(repo, index));
  const graph = opts.graph ?? loadGraph(repo);
  const entry = index.entry(target.id, target.pointer)!;

  const exclude = LineageGraph.closure([target.id], (v) => graph.childrenOf(v));
  for (const { model } of history.byVersion.get(target.id) ?? []) for (const v of model.versions) exclude.add(v.id);
  if (target.path) for (const v of history.modelOfPath.get(target.path)?.versions ?? []) exclude.add(v.id);

  const candidates: Candidate[] = [];
  const seen = new Set<string>();
  for (const m of history.models) {
    for (const v of m.versions) {
      if (exclude.has(v.id) || seen.has(v.id)) continue;
      seen.add(v.id);
      let e = index.entry(v.id);
      if (!e) {
        const p = history.pointers.get(v.id) ?? readPointer(repo, v.blob);
        if (!p) continue;
        e = index.entry(v.id, p);
      }
      if (e) candidates.push({ id: v.id, path: v.path, seq: v.seq, entry: e });
    }
  }
  trace(`autopilot: ${candidates.length} candidate versions for ${target.id}`);
  const ranked = rankParents(entry, candidates, { limit: opts.limit, threshold: opts.threshold });
  trace(`autopilot: ranked`);
  return ranked;
}

/** The edge record the autopilot writes for a suggestion. */
export function autoEdge(target: ResolvedVersion, s: Suggestion, relation?: string): EdgeRecord {
  return { kind: 'edge', child: target.id, childPath: target.path, parents: [s.id], parentPaths: [s.path], relation: relation ?? s.relation, auto: s.evidence };
}

/**
 * `mgit.autoLineage`: after a commit, every model the commit adds at a new path, with no declared
 * parents yet, gets its best-ranked parent (if any passes the threshold). Returns what it declared.
 */
export async function autoLineageForCommit(repo: Repo, commit = 'HEAD'): Promise<{ child: string; parent: string; relation: string; score: number }[]> {
  const cwd = repo.paths.top ?? repo.paths.gitDir;
  const out = git(['diff-tree', '-r', '-z', '--no-commit-id', '--root', '-M', '--diff-filter=AC', '--no-abbrev', commit], { cwd }).stdout.toString('utf8');
  const added: { path: string; blob: string }[] = [];
  const tokens = out.split('\0');
  for (let i = 0; i < tokens.length; i++) {
    if (!tokens[i].startsWith(':')) continue;
    const [, mode, , blob, status] = tokens[i].slice(1).split(' ');
    const path = status.startsWith('C') ? tokens[i + 2] : tokens[i + 1];
    i += status.startsWith('C') ? 2 : 1;
    if (/^100(644|755)$/.test(mode)) added.push({ path, blob });
  }
  if (added.length === 0) return [];
  const blobs = catBlobs(
    added.map((a) => a.blob),
    cwd,
  );
  const index = new LineageIndex(repo);
  let history: ModelHistory | undefined;
  const declared: { child: string; parent: string; relation: string; score: number }[] = [];
  for (const a of added) {
    const bytes = blobs.get(a.blob);
    if (!bytes || !looksLikePointer(bytes)) continue;
    let pointer;
    try {
      pointer = parsePointer(bytes);
    } catch {
      continue;
    }
    const graph = loadGraph(repo);
    if (graph.edgesOf(pointer.sha256).length) continue;
    history ??= await scanModels(repo, index);
    const target: ResolvedVersion = { id: pointer.sha256, path: a.path, source: 'rev', rev: commit, blob: a.blob, pointer };
    const [best] = await suggestParents(repo, target, { limit: 1, history, graph, index });
    if (!best) continue;
    writeRecords(repo, [autoEdge(target, best)], `lineage: ${a.path} <- ${best.relation} ${best.path} (auto)\n`);
    declared.push({ child: a.path, parent: best.path, relation: best.relation, score: best.score });
  }
  return declared;
}

// Bisect: the first version of a model that fails a test, along the path's commit history or along
// its lineage chain (primary parents back to the root), in O(log n) test runs. The newest version is
// run first (it must fail, or there is nothing to find); then a binary search over the older ones
// assumes, as git bisect does, that versions before the first failing one pass.

import { pathHistory } from '../git/staged.js';
import { loadGraph } from '../lineage/ref.js';
import { scanModels } from '../lineage/versions.js';
import type { Repo } from '../repo.js';
import { MgitError } from '../errors.js';
import type { TestDef } from './registry.js';
import { runTests, type TestResult } from './run.js';
import { versionsOf } from './select.js';

export interface Candidate {
  /** where this version lives: the path and a blob holding it */
  path: string;
  blob: string;
  /** the commit that introduced it (history mode) */
  commit?: string;
}

export interface BisectOutcome {
  candidates: number;
  runs: { index: number; result: TestResult }[];
  /** index of the first failing candidate; undefined when the newest passes */
  firstBad?: number;
  chain: Candidate[];
}

/** Versions of the path in commit order, oldest first (a version committed twice in a row counts once). */
export function historyChain(path: string, rev = 'HEAD'): Candidate[] {
  const out: Candidate[] = [];
  for (const h of pathHistory(path, rev)) {
    if (out.length && out[out.length - 1].blob === h.blob) continue;
    out.push({ path, blob: h.blob, commit: h.commit });
  }
  return out;
}

/** The lineage chain ending at the path's committed version: primary parents back to the root, oldest first. */
export async function lineageChain(repo: Repo, path: string, rev = 'HEAD'): Promise<Candidate[]> {
  const chain = historyChain(path, rev);
  const last = chain[chain.length - 1];
  if (!last) return [];
  const start = versionsOf([last.blob]).get(last.blob);
  if (!start) throw new MgitError('ENOTMODEL', `${path} is not an mgit-tracked model at ${rev}`);
  const graph = loadGraph(repo);
  const history = await scanModels(repo);
  const out: Candidate[] = [];
  const seen = new Set<string>();
  for (let v: string | undefined = start; v && !seen.has(v); v = graph.parentsOf(v)[0]) {
    seen.add(v);
    const occ = history.byVersion.get(v)?.[0]?.occ;
    if (!occ) throw new MgitError('EVERSION', `lineage version ${v.slice(0, 12)} is in no commit here: cannot test it`);
    out.push({ path: occ.path, blob: occ.blob, commit: occ.commit });
  }
  return out.reverse();
}

export async function bisect(repo: Repo, chain: Candidate[], test: TestDef): Promise<BisectOutcome> {
  const runs: BisectOutcome['runs'] = [];
  const fails = async (i: number): Promise<boolean> => {
    const [result] = await runTests(repo, [{ target: { path: chain[i].path, blob: chain[i].blob }, test }], { jobs: 1 });
    runs.push({ index: i, result });
    return result.status !== 'pass';
  };
  const n = chain.length;
  if (n === 0) return { candidates: 0, runs, chain };
  if (!(await fails(n - 1))) return { candidates: n, runs, chain };
  let lo = 0;
  let hi = n - 1; // hi fails
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (await fails(mid)) hi = mid;
    else lo = mid + 1;
  }
  return { candidates: n, runs, firstBad: hi, chain };
}

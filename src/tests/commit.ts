// Tests around a commit: pre-commit runs the tests of the staged models (read from the index) and
// reports their lineage descendants as stale; it leaves what it measured in
// `<git dir>/mgit/tests-pending.json`, tagged with the tree it tested, and post-commit writes that as
// a note on the new commit in refs/notes/mgit/tests (pre-commit runs before the commit exists). A
// pending file whose tree is not the new commit's is dropped: it came from a commit that did not happen.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { configBool, configGet } from '../git/git.js';
import { appendNote, indexTree, stagedChanges } from '../git/staged.js';
import { revParse, treeOf } from '../git/plumbing.js';
import type { Repo } from '../repo.js';
import { loadRegistry } from './registry.js';
import { formatResults, noteLines, runTests, type TestResult } from './run.js';
import { NOTES_REF } from './notes-sync.js';
import { descendantsInIndex, downstreamMode, pairsFor, versionsOf, type StaleModel } from './select.js';

export { NOTES_REF };

interface Pending {
  tree: string;
  results: TestResult[];
  stale: StaleModel[];
}

export function pendingFile(repo: Repo): string {
  return path.join(repo.paths.gitDir, 'mgit', 'tests-pending.json');
}

export interface PreCommitOutcome {
  results: TestResult[];
  stale: StaleModel[];
  blocked: boolean;
  report: string;
}

export async function preCommit(repo: Repo): Promise<PreCommitOutcome> {
  const pending = pendingFile(repo);
  fs.rmSync(pending, { force: true });
  const reg = loadRegistry(repo.top);
  if (reg.tests.length === 0) return { results: [], stale: [], blocked: false, report: '' };
  const changes = stagedChanges();
  const targets = changes.map((c) => ({ path: c.path, blob: c.blob }));
  const pairs = pairsFor(repo, reg, targets);
  const results = pairs.length ? await runTests(repo, pairs) : [];

  const mode = downstreamMode(configGet('mgit.testDownstream'));
  let stale: StaleModel[] = [];
  if (mode !== 'none') {
    const old = changes.filter((c) => c.oldBlob);
    const oldVersions = versionsOf(old.map((c) => c.oldBlob!));
    const roots = old.flatMap((c) => (oldVersions.has(c.oldBlob!) ? [{ path: c.path, version: oldVersions.get(c.oldBlob!)! }] : []));
    if (roots.length) stale = descendantsInIndex(repo, roots, mode);
  }
  const failed = results.filter((r) => r.status !== 'pass');
  const lines: string[] = [];
  if (results.length) lines.push(formatResults(results));
  for (const s of stale) lines.push(`STALE ${s.path}: its lineage parent ${s.from} changed (git mgit cascade ${s.from} re-creates it)`);
  if (failed.length) lines.push(`mgit: ${failed.length} of ${results.length} model test(s) failed: commit refused (fix the model, or git commit --no-verify to skip tests)`);
  // mgit.testStaleBlocks: stale descendants refuse the commit too (re-create them first, or commit them together)
  const staleBlocks = stale.length > 0 && configBool('mgit.testStaleBlocks', false);
  if (staleBlocks) lines.push(`mgit: ${stale.length} model(s) downstream are stale and mgit.testStaleBlocks is set: commit refused (git mgit cascade, or git commit --no-verify)`);
  if (results.length || stale.length) {
    fs.mkdirSync(path.dirname(pending), { recursive: true });
    const p: Pending = { tree: indexTree(), results, stale };
    fs.writeFileSync(pending, JSON.stringify(p));
  }
  const blocked = failed.length > 0 || staleBlocks;
  if (blocked) fs.rmSync(pending, { force: true });
  return { results, stale, blocked, report: lines.join('\n') };
}

/** Writes pre-commit's results as a note on HEAD, when they were measured on HEAD's tree. */
export function postCommit(repo: Repo): number {
  const file = pendingFile(repo);
  let p: Pending;
  try {
    p = JSON.parse(fs.readFileSync(file, 'utf8')) as Pending;
  } catch {
    return 0;
  }
  fs.rmSync(file, { force: true });
  const head = revParse('HEAD');
  if (!head || treeOf(head) !== p.tree || p.results.length === 0) return 0;
  appendNote(NOTES_REF, head, noteLines(p.results).join('\n'));
  return p.results.length;
}

// Running a model merge from files or blobs: loading the three versions as pointers, choosing the
// strategy (flag, then MGIT_MERGE_STRATEGY, then git config mgit.mergeStrategy), and the report the
// user reads on stderr. Shared by the merge driver git starts and by `git mgit resolve`.

import * as fs from 'node:fs';
import { parsePointer, pointerVersion, MAX_POINTER_BYTES } from '../codec/pointer.js';
import { cleanStream } from '../filter/clean.js';
import { configGet } from '../git/git.js';
import { PointerSource } from '../model/source.js';
import type { Repo } from '../repo.js';
import type { MergeOutcome } from './merge.js';
import { parseStrategy, type Strategy } from './merge.js';

/**
 * A version from a file holding what git stores for it: a pointer, or (for a model committed before it
 * was tracked) the model itself, which is cleaned into the store so it merges like the others.
 */
export async function loadVersion(repo: Repo, label: string, file: string): Promise<PointerSource> {
  const size = fs.statSync(file).size;
  if (size <= MAX_POINTER_BYTES) {
    const data = fs.readFileSync(file);
    if (pointerVersion(data) !== undefined) return new PointerSource(label, parsePointer(data), repo.store);
  }
  const pointer = await cleanStream(repo.store, repo.cleanCache, fs.createReadStream(file));
  return new PointerSource(label, parsePointer(pointer), repo.store);
}

export function chooseStrategy(flag: string | undefined, cwd?: string): Strategy | undefined {
  if (flag !== undefined) return parseStrategy(flag, '--strategy');
  const env = process.env.MGIT_MERGE_STRATEGY;
  if (env !== undefined && env !== '') return parseStrategy(env, 'MGIT_MERGE_STRATEGY');
  return parseStrategy(configGet('mgit.mergeStrategy', { cwd }), 'git config mgit.mergeStrategy');
}

const list = (names: string[], max = 6) => names.slice(0, max).join(', ') + (names.length > max ? `, and ${names.length - max} more` : '');

/** Lines for stderr describing a merge outcome (`resolve`: the user is settling a conflict already). */
export function describeOutcome(path: string, o: MergeOutcome, context: 'driver' | 'resolve' = 'driver'): string {
  if (o.status === 'clean') {
    const c = o.counts;
    const parts = [`${c.ours} from ours`, `${c.theirs} from theirs`, `${c.same} the same`];
    if (c.resolved) parts.push(`${c.resolved} by ${[...new Set(o.resolved.map((r) => r.strategy))].join('/')}`);
    const structure = o.structure === 'same' ? '' : `; structure from ${o.structure}`;
    return `mgit: merged ${path} tensor by tensor: ${parts.join(', ')}${structure}\n`;
  }
  const by = (r: string) => o.conflicts.filter((c) => c.reason === r).map((c) => c.name);
  const lines: string[] = [];
  if (o.structure === 'conflict') lines.push(`both sides changed the structure differently (${o.conflicts[0]?.detail ?? 'graph or non-tensor bytes'})`);
  const both = [...by('both-changed'), ...by('both-added')];
  if (both.length) lines.push(`${both.length} tensor(s) changed differently on both sides: ${list(both)}`);
  const cr = by('changed-removed');
  if (cr.length) lines.push(`${cr.length} tensor(s) changed on one side and removed on the other: ${list(cr)}`);
  const no = by('not-onnx');
  if (no.length) lines.push(o.conflicts[0]!.detail!);
  const unsettled = o.conflicts.filter((c) => c.detail && c.reason !== 'structure' && c.reason !== 'not-onnx');
  if (unsettled.length) lines.push(`the strategy could not settle: ${list(unsettled.map((c) => `${c.name} (${c.detail})`), 3)}`);
  const kept = context === 'driver' ? 'kept ours in the work tree. ' : 'nothing changed. ';
  return (
    `mgit: CONFLICT (model): ${path}: ${lines.join('; ')}.\n` +
    `mgit: ${kept}Compare: git mgit diff :1:${path} :3:${path}  (base -> theirs)\n` +
    `mgit: resolve: git mgit resolve --strategy=<ours|theirs|base|average|task-arithmetic> ${path}, or git checkout --theirs ${path} && git add ${path}\n`
  );
}

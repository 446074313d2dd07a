// `git mgit lineage add|rm|suggest|push|fetch`: declare and withdraw provenance edges between model
// versions, ask the autopilot for parents, and move lineage between clones. Edges are records on
// refs/mgit/lineage (docs/lineage-spec.md); nothing here touches the work tree or the index.

import type { Command } from 'commander';
import { MgitError, UsageError } from '../errors.js';
import { printJson } from '../format.js';
import { suggestParents } from '../lineage/autopilot.js';
import { checkPlaceholders, splitCommand } from '../lineage/command.js';
import type { LiveEdge } from '../lineage/graph.js';
import { LineageIndex } from '../lineage/local-index.js';
import { loadGraph, writeRecords } from '../lineage/ref.js';
import { encodeRecord, recordId, RELATIONS, RELATION_HELP, type EdgeRecord, type LineageRecord } from '../lineage/record.js';
import { ensureLineageRefspecs, fetchLineage, pushLineage } from '../lineage/sync.js';
import { trustRecords } from '../lineage/trust.js';
import { resolveVersion, scanModels, type ResolvedVersion } from '../lineage/versions.js';
import { Repo } from '../repo.js';
import { trace } from '../trace.js';

const collect = (v: string, acc: string[]) => [...acc, v];

const RELATION_LIST = RELATIONS.map((r) => `  ${r.padEnd(9)} ${RELATION_HELP[r]}`).join('\n');

export function register(program: Command): void {
  const lineage = program
    .command('lineage')
    .description('declare how model versions derive from each other (provenance edges), and sync them')
    .addHelpText('after', `\nRelations:\n${RELATION_LIST}\n\nModels are named PATH[@REV] (default: the staged version, else HEAD's).`);

  lineage
    .command('add')
    .description('record that a model version was made from parent versions')
    .argument('<child>', 'the derived model, PATH[@REV]')
    .option('-p, --parent <PATH[@REV]>', 'a parent version (repeat for several, primary first)', collect, [])
    .option('-r, --relation <relation>', `how the child was made: ${RELATIONS.join(', ')}`)
    .option('--command <text>', 'the command that re-creates the child: {child}, {parent}, {parent0}, ... stand for file paths (no shell)')
    .option('--meta <key=value>', 'free-form metadata (repeatable), e.g. task=sentiment model_type=bert', collect, [])
    .option('--auto', 'let the autopilot pick the parent (and the relation, unless given)')
    .option('--json', 'machine-readable output')
    .action((child: string, opts: AddOptions) => add(child, opts));

  lineage
    .command('rm')
    .description('withdraw edges of a model version (a retraction record: history keeps both)')
    .argument('<child>', 'the derived model, PATH[@REV]')
    .option('-p, --parent <PATH[@REV]>', 'only edges from this parent (repeatable)', collect, [])
    .option('-r, --relation <relation>', 'only edges with this relation')
    .option('--record <id>', 'only the edge record with this id (or unique prefix)')
    .option('--json', 'machine-readable output')
    .action((child: string, opts: RmOptions) => rm(child, opts));

  lineage
    .command('suggest')
    .description('rank likely parents of a model version by shared and similar tensors')
    .argument('<model>', 'PATH[@REV] (an untracked file is read from the work tree)')
    .option('-n, --limit <n>', 'how many to show', '5')
    .option('--all', 'also list candidates below the suggestion threshold')
    .option('--json', 'machine-readable output')
    .action((model: string, opts: { limit: string; all?: boolean; json?: boolean }) => suggest(model, opts));

  lineage
    .command('push')
    .description('push the lineage graph to a remote (merging the remote\'s first when it has records we lack)')
    .argument('[remote]', 'remote name or URL (default: upstream, origin, or the only remote)')
    .action((remote: string | undefined) => {
      const r = pushLineage(Repo.require(), remote);
      const what = r.outcome === 'no-lineage' ? 'no lineage to push' : r.outcome === 'pushed' ? 'pushed' : 'already up to date';
      process.stdout.write(`lineage ${r.remote}: ${what}${r.merged ? ` (merged the remote's lineage first)` : ''}\n`);
    });

  lineage
    .command('fetch')
    .description("fetch a remote's lineage and merge it into the local graph")
    .argument('[remote]', 'remote name or URL (default: upstream, origin, or the only remote)')
    .action((remote: string | undefined) => {
      const r = fetchLineage(Repo.require(), remote);
      const what = { 'no-lineage': 'the remote has no lineage', 'up-to-date': 'already up to date', 'fast-forward': 'updated (fast-forward)', merged: 'merged' }[r.outcome];
      process.stdout.write(`lineage ${r.remote}: ${what}\n`);
    });
}

interface AddOptions {
  parent: string[];
  relation?: string;
  command?: string;
  meta: string[];
  auto?: boolean;
  json?: boolean;
}

function checkRelation(r: string): void {
  if (!(RELATIONS as readonly string[]).includes(r)) throw new UsageError(`unknown relation ${JSON.stringify(r)}; one of:\n${RELATION_LIST}`);
}

function parseMeta(items: string[]): Record<string, string> | undefined {
  if (!items.length) return undefined;
  const meta: Record<string, string> = {};
  for (const it of items) {
    const eq = it.indexOf('=');
    if (eq <= 0) throw new UsageError(`--meta ${JSON.stringify(it)}: expected key=value`);
    meta[it.slice(0, eq)] = it.slice(eq + 1);
  }
  return meta;
}

function sameParents(e: LiveEdge, parents: string[]): boolean {
  return e.parents.length === parents.length && e.parents.every((p, i) => p === parents[i]);
}

const short = (id: string) => id.slice(0, 8);

async function add(childSpec: string, opts: AddOptions): Promise<void> {
  const repo = Repo.require();
  if (opts.relation) checkRelation(opts.relation);
  if (opts.auto && opts.parent.length) throw new UsageError('--auto picks the parent itself: give either --auto or --parent');
  if (!opts.auto && !opts.parent.length) throw new UsageError('name the parent version(s) with --parent PATH[@REV], or use --auto');
  if (!opts.auto && !opts.relation) throw new UsageError(`say how the child was made with --relation; one of:\n${RELATION_LIST}`);
  const child = await resolveVersion(repo, childSpec, { needPointer: !!opts.auto });
  trace(`lineage add: resolved ${child.id}`);
  const graph = loadGraph(repo);
  trace(`lineage add: graph loaded (${graph.records.size} records)`);
  const index = new LineageIndex(repo);
  const history = await scanModels(repo, index);
  trace(`lineage add: history scanned (${history.models.length} models)`);

  let parents: ResolvedVersion[];
  let relation = opts.relation;
  let auto: string | undefined;
  if (opts.auto) {
    const [best] = await suggestParents(repo, child, { limit: 1, graph, history, index });
    if (!best) throw new MgitError('ENOSUGGESTION', `the autopilot found no parent for ${child.path || child.id}: no version shares or resembles its tensors (name one with --parent)`, 1);
    parents = [{ id: best.id, path: best.path, source: 'id' }];
    relation ??= best.relation;
    auto = best.evidence;
  } else {
    parents = [];
    for (const p of opts.parent) parents.push(await resolveVersion(repo, p));
  }
  const parentIds = parents.map((p) => p.id);
  if (parentIds.includes(child.id)) throw new MgitError('ESELFPARENT', `${childSpec} and its parent are the same version (${short(child.id)})`);
  if (new Set(parentIds).size !== parentIds.length) throw new UsageError('a parent version is named twice');

  // A cycle through declared edges or through git's own version order would make lineage unreadable.
  const earlier = new Map<string, string[]>();
  for (const m of history.models) for (let i = 0; i + 1 < m.versions.length; i++) (earlier.get(m.versions[i].id) ?? earlier.set(m.versions[i].id, []).get(m.versions[i].id)!).push(m.versions[i + 1].id);
  if (graph.wouldCycle(child.id, parentIds, (v) => earlier.get(v) ?? [])) {
    throw new MgitError('ECYCLE', `${childSpec} is already an ancestor of a parent you named: this edge would close a cycle`);
  }

  let command: string[] | undefined;
  if (opts.command !== undefined) {
    command = splitCommand(opts.command);
    checkPlaceholders(command, parentIds.length);
  }
  const record: EdgeRecord = {
    kind: 'edge',
    child: child.id,
    childPath: child.path,
    parents: parentIds,
    parentPaths: parents.map((p) => p.path),
    relation: relation!,
    ...(command ? { command } : {}),
    ...(parseMeta(opts.meta) ? { meta: parseMeta(opts.meta) } : {}),
    ...(auto !== undefined ? { auto } : {}),
  };
  // Declaring an edge that was retracted again needs a new record: the old id stays withdrawn.
  while (graph.retracted.has(recordId(encodeRecord(record)))) record.gen = (record.gen ?? 0) + 1;
  const id = recordId(encodeRecord(record));

  const records: LineageRecord[] = [];
  const same = graph.edgesOf(child.id).filter((e) => e.relation === record.relation && sameParents(e, parentIds));
  const replaced = same.filter((e) => e.id !== id);
  for (const e of replaced) records.push({ kind: 'retract', child: child.id, edge: e.id });
  const existed = same.some((e) => e.id === id);
  const label = `${child.path || short(child.id)} <- ${record.relation} ${parents.map((p) => p.path || short(p.id)).join(', ')}`;
  if (!existed) {
    records.push(record);
    writeRecords(repo, records, `lineage: ${label}${auto ? ' (auto)' : ''}\n`);
  }
  trace('lineage add: written');
  if (command) trustRecords(repo, [id]); // the user typed it here: the cascade may run it
  ensureLineageRefspecs(repo);

  const result = { record: id, child: child.id, childPath: child.path, parents: parentIds, parentPaths: record.parentPaths, relation: record.relation, auto: auto ?? null, status: existed ? 'exists' : replaced.length ? 'replaced' : 'added' };
  if (opts.json) return printJson(result);
  const tail = existed ? 'already recorded' : replaced.length ? `replaces ${replaced.map((e) => e.id.slice(0, 7)).join(', ')}` : 'recorded';
  process.stdout.write(`lineage: ${child.path || short(child.id)} (${short(child.id)}) <- ${record.relation} ${parents.map((p) => `${p.path || '?'} (${short(p.id)})`).join(', ')}: ${tail} [${id.slice(0, 7)}]\n`);
  if (auto) process.stdout.write(`  autopilot: ${auto}\n`);
}

interface RmOptions {
  parent: string[];
  relation?: string;
  record?: string;
  json?: boolean;
}

async function rm(childSpec: string, opts: RmOptions): Promise<void> {
  const repo = Repo.require();
  const child = await resolveVersion(repo, childSpec);
  const parentIds: string[] = [];
  for (const p of opts.parent) parentIds.push((await resolveVersion(repo, p)).id);
  const graph = loadGraph(repo);
  const targets = graph
    .edgesOf(child.id)
    .filter((e) => parentIds.every((p) => e.parents.includes(p)) && (!opts.relation || e.relation === opts.relation) && (!opts.record || e.id.startsWith(opts.record)));
  if (!targets.length) throw new MgitError('ENOEDGE', `no matching edge of ${childSpec} (${short(child.id)}) to remove`, 1);
  writeRecords(
    repo,
    targets.map((e) => ({ kind: 'retract', child: child.id, edge: e.id })),
    `lineage: withdraw ${targets.length} edge(s) of ${child.path || short(child.id)}\n`,
  );
  if (opts.json) return printJson({ retracted: targets.map((e) => e.id) });
  for (const e of targets) process.stdout.write(`lineage: withdrew ${e.relation} edge ${e.id.slice(0, 7)} of ${child.path || short(child.id)} (${short(child.id)})\n`);
}

async function suggest(spec: string, opts: { limit: string; all?: boolean; json?: boolean }): Promise<void> {
  const repo = Repo.require();
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit needs a positive integer');
  const target = await resolveVersion(repo, spec, { needPointer: true });
  const found = await suggestParents(repo, target, { limit, threshold: opts.all ? 0 : undefined });
  if (opts.json) return printJson({ child: target.id, childPath: target.path, suggestions: found });
  if (!found.length) {
    process.stdout.write(`no parent suggested for ${target.path || target.id}: no other version shares or resembles its tensors\n`);
    return;
  }
  process.stdout.write(`parents suggested for ${target.path || target.id} (${short(target.id)}):\n`);
  process.stdout.write(`  score  identical  graph  relation   parent\n`);
  for (const s of found) {
    process.stdout.write(`  ${s.score.toFixed(3)}  ${`${Math.round(s.shared * 100)}%`.padStart(9)}  ${s.graph.toFixed(2)}   ${s.relation.padEnd(9)}  ${s.path} (${short(s.id)})\n`);
  }
}

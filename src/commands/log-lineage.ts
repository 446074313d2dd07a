// `git mgit log-lineage [PATH[@REV]...]`: the lineage graph joined with git history, newest first, as
// text with a graph column like `git log --graph`, or as JSON, Graphviz dot or Mermaid.

import type { Command } from 'commander';
import { MgitError, UsageError } from '../errors.js';
import { printJson } from '../format.js';
import { loadGraph } from '../lineage/ref.js';
import { renderDot, renderHuman, renderMermaid } from '../lineage/render.js';
import { trustedRecords } from '../lineage/trust.js';
import { resolveVersion, repoPath, scanModels, splitSpec, type ModelHistory } from '../lineage/versions.js';
import { buildView } from '../lineage/view.js';
import { remoteNames } from '../git/ref-transfer.js';
import { Repo } from '../repo.js';

const FORMATS = ['human', 'json', 'dot', 'mermaid'];

interface Options {
  ancestors?: boolean;
  descendants?: boolean;
  format?: string;
  json?: boolean;
  color?: string;
}

export function register(program: Command): void {
  program
    .command('log-lineage')
    .description('show the lineage graph: models, their versions, and how they derive from each other')
    .argument('[models...]', 'limit to these models, PATH[@REV] (all versions of PATH without @REV)')
    .option('--ancestors', 'also everything the named models derive from')
    .option('--descendants', 'also everything derived from the named models')
    .option('--format <format>', `output format: ${FORMATS.join(', ')}`, 'human')
    .option('--json', 'same as --format=json')
    .option('--color <when>', 'auto, always or never', 'auto')
    .action((models: string[], opts: Options) => logLineage(models, opts));
}

/** The versions a path spec names: one version with @REV, else every version of the model at PATH. */
async function focusOf(repo: Repo, spec: string, history: ModelHistory): Promise<string[]> {
  const { path: p, rev } = splitSpec(spec, repo.paths.top);
  if (!rev && !/^(sha256:)?[0-9a-f]{64}$/.test(spec)) {
    const model = history.modelOfPath.get(repoPath(repo, p));
    if (model) return model.versions.map((v) => v.id);
  }
  return [(await resolveVersion(repo, spec)).id];
}

async function logLineage(specs: string[], opts: Options): Promise<void> {
  const format = opts.json ? 'json' : (opts.format ?? 'human');
  if (!FORMATS.includes(format)) throw new UsageError(`unknown format ${JSON.stringify(format)} (use ${FORMATS.join(', ')})`);
  if (!['auto', 'always', 'never'].includes(opts.color ?? 'auto')) throw new UsageError('--color takes auto, always or never');
  if ((opts.ancestors || opts.descendants) && !specs.length) throw new UsageError('--ancestors and --descendants need a model to start from');
  const repo = Repo.require();
  const graph = loadGraph(repo);
  const history = await scanModels(repo);
  let focus: Set<string> | undefined;
  if (specs.length) {
    focus = new Set();
    for (const s of specs) {
      try {
        for (const id of await focusOf(repo, s, history)) focus.add(id);
      } catch (e) {
        if (e instanceof MgitError && e.code === 'ENOVERSION') throw new MgitError('ENOVERSION', `${s}: no such model in history, the index or the work tree`);
        throw e;
      }
    }
  }
  const view = buildView(history, graph, { focus, ancestors: opts.ancestors, descendants: opts.descendants, trusted: trustedRecords(repo) });
  if (graph.invalid.length) process.stderr.write(`mgit: warning: ${graph.invalid.length} invalid lineage record(s) ignored (first: ${graph.invalid[0].path}: ${graph.invalid[0].reason})\n`);
  if (format === 'json') return printJson(view);
  if (format === 'dot') return void process.stdout.write(renderDot(view));
  if (format === 'mermaid') return void process.stdout.write(renderMermaid(view));
  if (graph.records.size === 0 && remoteNames(repo.paths.top).length) {
    process.stderr.write('mgit: no lineage here yet; if a remote has some: git mgit lineage fetch\n');
  }
  const color = opts.color === 'always' || (opts.color !== 'never' && !!process.stdout.isTTY && !process.env.NO_COLOR);
  process.stdout.write(renderHuman(view, { color }));
}

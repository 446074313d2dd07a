// `git mgit test`: register model tests (`test add`, `test list`), run them on work-tree or staged
// models (`test [--all | --downstream <path> | <paths>]`), and read recorded results (`test show`).
// The registry format and the note format are in docs/tests.md.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { MgitError, UsageError } from '../errors.js';
import { stagedChanges } from '../git/staged.js';
import { revParse } from '../git/plumbing.js';
import { repoPath } from '../lineage/versions.js';
import { Repo } from '../repo.js';
import { NOTES_REF } from '../tests/commit.js';
import { readTestNotes } from '../tests/notes-sync.js';
import { addTest, loadRegistry, REGISTRY_FILE, saveRegistry, type TestDef } from '../tests/registry.js';
import { formatResults, runTests, type Target } from '../tests/run.js';
import { descendantsInIndex, indexTargets, pairsFor, versionsOf } from '../tests/select.js';
import { indexBlobs } from '../git/scan.js';

interface AddOpts {
  name: string;
  model?: string[];
  type?: string[];
  golden?: string;
  tolerance?: string;
  record?: string;
  accuracy?: string;
  threshold?: string;
  timeout?: string;
}

interface RunOpts {
  all?: boolean;
  downstream?: string;
  staged?: boolean;
  json?: boolean;
  test?: string;
  jobs?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command): void {
  const cmd = program
    .command('test')
    .description('run model tests on work-tree models (or --staged), or register them: test add / list / show')
    .argument('[paths...]', 'model paths to test (default: every model a test applies to)')
    .option('--all', 'every model a registered test applies to')
    .option('--downstream <path>', 'this model and every model descending from it (lineage)')
    .option('--staged', 'test the staged versions (what pre-commit tests)')
    .option('--test <name>', 'run only this test')
    .option('--jobs <n>', 'parallel tests (default: the core count)')
    .option('--json', 'results as JSON on stdout')
    .enablePositionalOptions()
    .action((paths: string[], opts: RunOpts) => runCmd(paths, opts));
  cmd
    .command('add')
    .description('register a test: a command (after --) with {model} {parent} {path}, or --golden / --accuracy')
    .requiredOption('--name <name>', 'test name')
    .option('--model <glob>', 'model path pattern (repeatable)', collect)
    .option('--type <model-type>', 'model type from lineage metadata (meta model_type=...; repeatable)', collect)
    .option('--golden <file>', 'built-in golden test: JSON inputs and expected outputs')
    .option('--tolerance <x>', 'golden: largest allowed absolute difference', '1e-4')
    .option('--record <model>', 'golden: fill the expected outputs by running this model file')
    .option('--accuracy <file>', 'built-in accuracy test: labelled dataset JSON')
    .option('--threshold <x>', 'accuracy: lowest passing accuracy (0..1)')
    .option('--timeout <seconds>', 'stop the test after this long')
    .argument('[command...]', 'the test command, after --')
    .action((command: string[], opts: AddOpts) => addCmd(command, opts));
  cmd
    .command('list')
    .description('list registered tests')
    .option('--json', 'as JSON')
    .action((opts: { json?: boolean }) => {
      const reg = loadRegistry(Repo.require().top);
      if (opts.json) process.stdout.write(JSON.stringify(reg.tests, null, 2) + '\n');
      else for (const t of reg.tests) process.stdout.write(`${t.name}\t${t.kind}\t${[...(t.models ?? []), ...(t.types ?? []).map((x) => `type:${x}`)].join(' ')}\n`);
    });
  cmd
    .command('show')
    .description(`test results recorded on a commit (notes in ${NOTES_REF})`)
    .argument('[rev]', 'commit', 'HEAD')
    .option('--json', 'as JSON')
    .action((rev: string, opts: { json?: boolean }) => showCmd(rev, opts));
}

async function addCmd(command: string[], opts: AddOpts): Promise<void> {
  const repo = Repo.require();
  if (!opts.model?.length && !opts.type?.length) throw new UsageError('say which models the test is for: --model <glob> and/or --type <model-type>');
  const kinds = [command.length > 0, !!opts.golden, !!opts.accuracy].filter(Boolean).length;
  if (kinds !== 1) throw new UsageError('give exactly one of: a command after --, --golden <file>, --accuracy <file>');
  const rel = (f: string) => path.relative(repo.top, path.resolve(f)).split(path.sep).join('/');
  const which = { ...(opts.model?.length ? { models: opts.model } : {}), ...(opts.type?.length ? { types: opts.type } : {}) };
  let def: TestDef;
  if (command.length) def = { name: opts.name, ...which, kind: 'command', command };
  else if (opts.golden) def = { name: opts.name, ...which, kind: 'golden', file: rel(opts.golden), tolerance: Number(opts.tolerance) };
  else {
    if (opts.threshold === undefined) throw new UsageError('--accuracy needs --threshold');
    def = { name: opts.name, ...which, kind: 'accuracy', file: rel(opts.accuracy!), threshold: Number(opts.threshold) };
  }
  if (opts.timeout !== undefined) def.timeout = Number(opts.timeout);
  if (def.file && !fs.existsSync(path.join(repo.top, def.file))) throw new MgitError('ETESTFILE', `${def.file} does not exist`);
  const reg = loadRegistry(repo.top);
  addTest(reg, def);
  if (opts.record) {
    if (def.kind !== 'golden') throw new UsageError('--record is for --golden tests');
    if (!fs.existsSync(opts.record)) throw new UsageError(`--record: ${opts.record} does not exist`);
    const { recordGolden } = await import('../tests/builtin.js');
    await recordGolden(path.resolve(opts.record), path.join(repo.top, def.file!));
  }
  saveRegistry(repo.top, reg);
  process.stdout.write(`test ${def.name} (${def.kind}) registered in ${REGISTRY_FILE}: commit it with your models\n`);
}

async function runCmd(paths: string[], opts: RunOpts): Promise<void> {
  const repo = Repo.require();
  const reg = loadRegistry(repo.top);
  if (reg.tests.length === 0) throw new MgitError('ENOTESTS', `no tests registered (${REGISTRY_FILE}); git mgit test add --help`);
  if (opts.all && (paths.length || opts.downstream)) throw new UsageError('--all takes no paths');
  let chosen: string[] | undefined = paths.length ? paths.map((p) => repoPath(repo, p)) : undefined;
  if (opts.downstream) {
    const root = repoPath(repo, opts.downstream);
    const blobs = [revParse(`HEAD:${root}`), indexBlobs().find((b) => b.path === root && b.stage === 0)?.oid].filter((b): b is string => !!b);
    const versions = versionsOf(blobs);
    const roots = [...new Set(versions.values())].map((version) => ({ path: root, version }));
    chosen = [root, ...descendantsInIndex(repo, roots, 'all').map((s) => s.path)];
  }
  let targets: Target[];
  if (opts.staged) {
    const staged = stagedChanges();
    targets = indexTargets(repo, reg, chosen).filter((t) => chosen || staged.some((s) => s.path === t.path));
  } else {
    targets = indexTargets(repo, reg, chosen).map((t) => ({ path: t.path, file: path.join(repo.top, t.path) }));
    for (const t of targets) if (!fs.existsSync(t.file!)) throw new MgitError('ENOENT', `${t.path} is not in the work tree`);
  }
  if (chosen) {
    for (const p of chosen) if (!targets.some((t) => t.path === p)) throw new MgitError('ENOENT', `${p} is not a model in the index`);
  }
  const pairs = pairsFor(repo, reg, targets, opts.test);
  if (pairs.length === 0) throw new MgitError('ENOTESTS', 'no registered test applies to the chosen models');
  const results = await runTests(repo, pairs, { jobs: opts.jobs ? Number(opts.jobs) : undefined });
  if (opts.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  else process.stdout.write(formatResults(results) + '\n');
  const failed = results.filter((r) => r.status !== 'pass').length;
  if (!opts.json) process.stderr.write(`${results.length - failed} passed, ${failed} failed\n`);
  if (failed) process.exitCode = 1;
}

export interface NoteResult {
  status: string;
  test: string;
  version: string;
  seconds: number;
  metrics: Record<string, number>;
  path: string;
}

/** Parses note lines (docs/tests.md); other lines are ignored. */
export function parseNote(text: string): NoteResult[] {
  const out: NoteResult[] = [];
  for (const line of text.split('\n')) {
    const m = /^mgit-test (\S+) (\S+) ([0-9a-f]*) ([0-9.]+)s (\{.*?\}) (.+)$/.exec(line);
    if (m) out.push({ status: m[1], test: m[2], version: m[3], seconds: Number(m[4]), metrics: JSON.parse(m[5]) as Record<string, number>, path: m[6] });
  }
  return out;
}

function showCmd(rev: string, opts: { json?: boolean }): void {
  Repo.require();
  const commit = revParse(`${rev}^{commit}`);
  if (!commit) throw new UsageError(`${rev} is not a commit`);
  const results = parseNote(readTestNotes(commit) ?? '');
  if (opts.json) process.stdout.write(JSON.stringify({ commit, results }, null, 2) + '\n');
  else if (results.length === 0) process.stdout.write(`no test results recorded on ${commit.slice(0, 12)}\n`);
  else for (const r of results) process.stdout.write(`${r.status.toUpperCase()}  ${r.test}  ${r.path} (${r.version.slice(0, 12)})  ${JSON.stringify(r.metrics)}  ${r.seconds}s\n`);
}

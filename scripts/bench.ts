// `npm run bench [-- --quick] [--only=<name>[,<name>]] [--json=<file>] [--corpus=<dir>] [--no-gc]`:
// mgit against git-lfs and plain git, in the same run, on the same files. Owns the benchmark's
// datasets (the corpus from MGIT_CORPUS or --corpus, and a generated ~1 GiB model pair), the order
// of the runs (one tool at a time, each in its own fresh repository), the figures derived from the
// measurements and their presentation. Everything it creates lives in one temp folder, removed at
// exit even after a failure.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findGnuTime, isolatedGitEnv, letSignalsIn, makeTempDir, requireBuiltCli, ScriptError, versionOf, which, type GitEnv } from './lib/env.js';
import { writeBigModelPair } from './lib/models.js';
import { digitsBaseline, familyBaseline, familyNames, hasCommitPlan, planFromFamily, planFromLineage, planTotals, readFamilies, type Baseline, type CommitStep } from './lib/plan.js';
import { shaCache, stopPool, ToolRepo, TOOLS, type Sizes, type Tool } from './lib/repo.js';
import { bytes, mb, percent, rate, ratio, rssMiB, seconds, table } from './lib/table.js';

const USAGE = `usage: npm run bench [-- [--quick] [--only=<name>[,<name>...]] [--json=<file>] [--corpus=<dir>] [--no-gc] [--timeout=<s>]]
  --quick          skip the generated ~1 GiB model
  --only=<names>   run only these datasets (digits, real, real/<family>, generated-1g) and/or tools (mgit, git-lfs, git)
  --json=<file>    also write every figure as JSON
  --corpus=<dir>   the model corpus (default: $MGIT_CORPUS); without one only the generated model runs
  --no-gc          skip the final \`git gc\` (by default it runs after the checkout, timed apart, and .git is measured again:
                   plain git only delta-compresses when it packs)
  --timeout=<s>    kill any one git command after this many seconds (default 1800) and report it as failed`;

interface Options {
  quick: boolean;
  only: string[];
  json?: string;
  corpus?: string;
  gc: boolean;
  timeoutSeconds: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false, only: [], gc: true, timeoutSeconds: 1800, corpus: process.env.MGIT_CORPUS || undefined };
  for (const a of argv) {
    const [k, v] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (k === '--quick') o.quick = true;
    else if (k === '--no-gc') o.gc = false;
    else if (k === '--only' && v) o.only.push(...v.split(',').filter(Boolean));
    else if (k === '--json' && v) o.json = path.resolve(v);
    else if (k === '--corpus' && v) o.corpus = v;
    else if (k === '--timeout' && v && Number(v) > 0) o.timeoutSeconds = Number(v);
    else if (k === '-h' || k === '--help') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    } else throw new ScriptError(`unknown option ${a}\n${USAGE}`);
  }
  if (o.corpus) {
    o.corpus = path.resolve(o.corpus);
    if (!fs.existsSync(o.corpus)) throw new ScriptError(`corpus folder ${o.corpus} does not exist`);
  }
  return o;
}

const log = (s: string) => process.stderr.write(s + '\n');

/** A progress line: rewritten in place on a terminal; only final lines when stderr is a file. */
function progress(s: string, final = false): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${s}${final ? '\n' : ''}`);
  else if (final) process.stderr.write(s + '\n');
}

// ---------------------------------------------------------------------------------------------
// Datasets

interface Dataset {
  name: string;
  /** how the files are ordered and where they come from */
  description: string;
  baseline?: Baseline;
  /** the sources are ours (generated): hard-link them into work trees instead of copying */
  link: boolean;
  /** builds the plan; may write files (the generated model) */
  prepare(): CommitStep[] | Promise<CommitStep[]>;
  dispose(): void;
}

function corpusDatasets(corpus: string): Dataset[] {
  const out: Dataset[] = [];
  const digits = path.join(corpus, 'digits');
  if (fs.existsSync(digits) && hasCommitPlan(digits)) {
    out.push({
      name: 'digits',
      description: 'digits lineage, lineage.json commit_plan order',
      baseline: digitsBaseline(corpus),
      link: false,
      prepare: () => planFromLineage(digits),
      dispose: () => {},
    });
  }
  const real = path.join(corpus, 'real');
  if (fs.existsSync(path.join(real, 'families.json'))) {
    const families = readFamilies(real);
    for (const fam of familyNames(real)) {
      out.push({
        name: `real/${fam}`,
        description: `real/${fam}, parents first in families.json edge order`,
        baseline: familyBaseline(families[fam]),
        link: false,
        prepare: () => planFromFamily(real, fam, families[fam]),
        dispose: () => {},
      });
    }
  }
  if (out.length === 0) throw new ScriptError(`${corpus} holds neither digits/lineage.json nor real/families.json`);
  return out;
}

const BIG = { layers: 16, width: 4096, seed: 4242, changedFrom: 12 };

function generatedDataset(root: string): Dataset {
  const dir = path.join(root, 'generated');
  return {
    name: 'generated-1g',
    description: `generated: ${BIG.layers} float32 MatMul layers of ${BIG.width}x${BIG.width}, then v2 with layers ${BIG.changedFrom}-${BIG.layers - 1} fine-tuned`,
    link: true,
    prepare: async () => {
      fs.mkdirSync(dir, { recursive: true });
      const v1 = path.join(dir, 'big_v1.onnx');
      const v2 = path.join(dir, 'big_v2.onnx');
      log(`generating ${BIG.layers} x ${BIG.width}x${BIG.width} float32 model and its fine-tune ...`);
      const t0 = Date.now();
      const size = await writeBigModelPair(v1, v2, { layers: BIG.layers, width: BIG.width, seed: BIG.seed, changed: (i) => i >= BIG.changedFrom });
      log(`  ${mb(size)} x 2 in ${seconds((Date.now() - t0) / 1000)} s (not part of any measurement)`);
      const p = 'models/big.onnx';
      return [
        { label: 'big v1', message: 'big model v1', files: [{ src: v1, path: p, size }] },
        { label: 'big v2', message: `big model v2: layers ${BIG.changedFrom}-${BIG.layers - 1} fine-tuned`, files: [{ src: v2, path: p, size: fs.statSync(v2).size }] },
      ];
    },
    dispose: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

function selectDatasets(all: Dataset[], only: string[]): Dataset[] {
  const names = only.filter((n) => !(TOOLS as string[]).includes(n));
  if (names.length === 0) return all;
  for (const n of names) {
    if (!all.some((d) => d.name === n || d.name.startsWith(n + '/'))) {
      throw new ScriptError(`--only: no dataset or tool named ${n} (datasets: ${all.map((d) => d.name).join(', ') || 'none'}; tools: ${TOOLS.join(', ')})`);
    }
  }
  return all.filter((d) => names.some((n) => d.name === n || d.name.startsWith(n + '/')));
}

// ---------------------------------------------------------------------------------------------
// Runs

interface ToolRun {
  tool: Tool;
  status: 'ok' | 'failed' | 'skipped';
  reason?: string;
  problems: string[];
  addSeconds?: number;
  checkoutSeconds?: number;
  /** every timed checkout; checkoutSeconds is their median */
  checkoutRuns?: number[];
  sizes?: Sizes;
  /** sum over committed versions of the blob git stored (pointer for mgit / git-lfs) */
  blobBytes?: number;
  rssKb: { gitAdd?: number; filterAdd?: number; gitCheckout?: number; filterCheckout?: number };
  gc?: { seconds: number; gitDir: number };
  /** mgit only: `git mgit repack` after git gc, then a second checkout (chunks now stored as deltas) */
  repack?: { seconds: number; gitDir: number; checkoutSeconds: number; checkoutRuns: number[]; storedBytes: number; storeDirBytes: number; transforms: Record<string, { chunks: number; rawBytes: number; storedBytes: number }> };
  steps?: { label: string; paths: string[]; bytes: number; addSeconds: number; commitSeconds: number; blobBytes: number }[];
}

interface DatasetResult {
  name: string;
  description: string;
  versions: number;
  files: number;
  bytes: number;
  headFiles: number;
  headBytes: number;
  baseline?: Baseline;
  tools: ToolRun[];
}

interface Context {
  root: string;
  git: GitEnv;
  timeBin?: string;
  template: string;
  tools: Tool[];
  lfs: boolean;
  gc: boolean;
  timeoutSeconds: number;
  /** mgit's prestart pool for the whole run (docs/prestart.md) */
  runtime: string;
}

/** Commits the plan step by step; add+commit seconds summed, git's peak RSS the largest of any step. */
async function commitAll(repo: ToolRepo, steps: CommitStep[], link: boolean): Promise<{ addSeconds: number; gitAddRss?: number; stepRows: NonNullable<ToolRun['steps']> }> {
  let addSeconds = 0;
  let gitAddRss: number | undefined;
  const stepRows: NonNullable<ToolRun['steps']> = [];
  for (const [i, s] of steps.entries()) {
    const r = repo.commit(s, link);
    addSeconds += r.addSeconds + r.commitSeconds;
    if (r.gitRssKb !== undefined) gitAddRss = Math.max(gitAddRss ?? 0, r.gitRssKb);
    stepRows.push({ label: s.label, paths: s.files.map((f) => f.path), bytes: r.bytes, addSeconds: r.addSeconds, commitSeconds: r.commitSeconds, blobBytes: r.blobBytes });
    progress(`  ${repo.tool}: commit ${i + 1}/${steps.length}`);
    await letSignalsIn();
  }
  return { addSeconds, gitAddRss, stepRows };
}

/** One tool on one dataset, in a repository of its own that is deleted afterwards. */
async function runTool(ctx: Context, ds: Dataset, steps: CommitStep[], tool: Tool, sha: (f: string) => string): Promise<ToolRun> {
  if (tool === 'git-lfs' && !ctx.lfs) return { tool, status: 'skipped', reason: 'git-lfs not installed: apt-get install git-lfs', problems: [], rssKb: {} };
  const dir = path.join(ctx.root, `${ds.name.replace(/\W+/g, '-')}-${tool}`);
  const repo = new ToolRepo({ tool, dir, git: ctx.git, timeBin: ctx.timeBin, template: ctx.template, timeoutSeconds: ctx.timeoutSeconds, runtime: ctx.runtime });
  const head = [...planTotals(steps).headFiles.values()];
  try {
    repo.init();
    const { addSeconds, gitAddRss, stepRows } = await commitAll(repo, steps, ds.link);
    const sizes = repo.sizes();
    const filterAdd = repo.filterRssKb('add');
    const co = repo.checkout(head);
    const problems = repo.verify(head, sha);
    let gc: ToolRun['gc'];
    if (ctx.gc) {
      const r = repo.git(['gc', '-q']);
      gc = { seconds: r.seconds, gitDir: repo.sizes().gitDir };
    }
    let repack: ToolRun['repack'];
    if (tool === 'mgit') {
      // Issue targets are measured after repack: the thorough base search of `git mgit repack`.
      const r = repo.git(['mgit', 'repack', '--json']);
      const report = JSON.parse(r.stdout) as { transforms: NonNullable<ToolRun['repack']>['transforms'] };
      const gitDir = repo.sizes().gitDir;
      const co2 = repo.checkout(head);
      problems.push(...repo.verify(head, sha).map((p) => `after repack: ${p}`));
      const stats = JSON.parse(repo.git(['mgit', 'stats', '--json']).stdout) as { storedBytes: number; storeDirBytes: number };
      repack = { seconds: r.seconds, gitDir, checkoutSeconds: co2.seconds, checkoutRuns: co2.runs, storedBytes: stats.storedBytes, storeDirBytes: stats.storeDirBytes, transforms: report.transforms };
    }
    progress(`  ${tool}: add+commit ${seconds(addSeconds)} s, checkout ${seconds(co.seconds)} s, .git ${mb(sizes.gitDir)}${repack ? `, after repack ${mb(repack.gitDir)}` : ''}${problems.length ? ', PROBLEMS' : ', verified'}`, true);
    return {
      tool,
      status: problems.length ? 'failed' : 'ok',
      problems,
      addSeconds,
      checkoutSeconds: co.seconds,
      checkoutRuns: co.runs,
      sizes,
      blobBytes: stepRows.reduce((a, s) => a + s.blobBytes, 0),
      rssKb: { gitAdd: gitAddRss, filterAdd, gitCheckout: co.gitRssKb, filterCheckout: co.filterRssKb },
      gc,
      repack,
      steps: stepRows,
    };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    progress(`  ${tool}: FAILED: ${msg}`, true);
    return { tool, status: 'failed', reason: msg, problems: [msg], rssKb: {} };
  } finally {
    repo.remove();
  }
}

async function runDataset(ctx: Context, ds: Dataset): Promise<DatasetResult> {
  log(`\n[${ds.name}] ${ds.description}`);
  try {
    const steps = await ds.prepare();
    const t = planTotals(steps);
    // Hash every source once up front: it also warms the page cache for all tools alike.
    const sha = shaCache();
    for (const s of steps) for (const f of s.files) sha(f.src);
    const tools: ToolRun[] = [];
    for (const tool of ctx.tools) {
      tools.push(await runTool(ctx, ds, steps, tool, sha));
      await letSignalsIn();
    }
    return { name: ds.name, description: ds.description, versions: t.versions, files: t.files, bytes: t.bytes, headFiles: t.headFiles.size, headBytes: t.headBytes, baseline: ds.baseline, tools };
  } finally {
    ds.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Presentation

function storeBytes(r: ToolRun): number | undefined {
  if (!r.sizes) return undefined;
  if (r.tool === 'mgit') return r.sizes.mgitObjects;
  if (r.tool === 'git-lfs') return r.sizes.lfs;
  return undefined;
}

function printDataset(d: DatasetResult): void {
  const out = process.stdout;
  out.write(`\n== ${d.name}: ${d.versions} versions (${d.files} files, ${bytes(d.bytes)} bytes) committed one step per commit; checkout restores ${d.headFiles} files (${bytes(d.headBytes)} bytes)\n`);
  out.write(`   ${d.description}\n\n`);
  const rows = d.tools.flatMap((r) => {
    if (!r.sizes) return [];
    const k = r.rssKb;
    return [
      [
        r.tool + (r.status === 'failed' ? ' (FAILED)' : ''),
        seconds(r.addSeconds),
        rate(d.bytes, r.addSeconds),
        seconds(r.checkoutSeconds),
        rate(d.headBytes, r.checkoutSeconds),
        r.sizes.gitDir,
        r.sizes.objects,
        storeBytes(r),
        rssMiB(k.gitAdd),
        rssMiB(k.filterAdd),
        rssMiB(k.gitCheckout),
        rssMiB(k.filterCheckout),
      ],
    ];
  });
  out.write(
    table(
      ['tool', 'add+commit s', 'add MB/s', 'checkout s', 'checkout MB/s', '.git bytes', '.git/objects', 'lfs/mgit store', 'RSS git add', 'RSS filter add', 'RSS git checkout', 'RSS filter checkout'],
      rows,
    ),
  );
  for (const r of d.tools) if (!r.sizes) out.write(`${r.tool}: ${r.status}: ${(r.reason ?? 'no figures').split('\n')[0]}\n`);
  const by = (t: Tool) => d.tools.find((r) => r.tool === t && r.sizes);
  const m = by('mgit');
  const ratioRows = (['git-lfs', 'git'] as Tool[]).flatMap((t) => {
    const o = by(t);
    if (!m || !o) return [];
    return [[`mgit/${t}`, ratio(m.addSeconds, o.addSeconds), ratio(m.checkoutSeconds, o.checkoutSeconds), ratio(m.sizes!.gitDir, o.sizes!.gitDir), ratio(m.gc?.gitDir, o.gc?.gitDir)]];
  });
  if (ratioRows.length) {
    out.write('\n' + table(['ratio (lower is better for mgit)', 'add+commit time', 'checkout time', '.git size', '.git size, both after git gc'], ratioRows));
  }
  if (m?.repack) {
    const lfs = by('git-lfs');
    const base = d.baseline?.zstd19LongConcat;
    out.write(
      `\nmgit after git mgit repack: .git ${bytes(m.repack.gitDir)}` +
        (base ? `, ${ratio(m.repack.gitDir, base)}x the zstd --long baseline` : '') +
        (lfs?.gc ? `, git-lfs's .git is ${ratio(lfs.gc.gitDir, m.repack.gitDir)}x larger` : '') +
        `; checkout from the repacked store ${seconds(m.repack.checkoutSeconds)} s (${ratio(m.repack.checkoutSeconds, m.checkoutSeconds)}x the checkout before repack` +
        (lfs?.checkoutSeconds ? `, ${ratio(lfs.checkoutSeconds, m.repack.checkoutSeconds)}x git-lfs's speed` : '') +
        `)\n  encodings: ${Object.entries(m.repack.transforms).map(([k, t]) => `${k} ${t.chunks} chunks ${mb(t.rawBytes)} -> ${mb(t.storedBytes)}`).join('; ')}\n`,
    );
  }
  if (m?.blobBytes !== undefined) {
    out.write(`\nmgit pointer bytes per model byte: ${ratio(m.blobBytes, d.bytes)} (${bytes(m.blobBytes)} pointer bytes for ${bytes(d.bytes)} model bytes)\n`);
  }
  out.write('\n' + storageTable(d));
  for (const r of d.tools) for (const p of r.problems) out.write(`PROBLEM ${r.tool}: ${p}\n`);
}

/** .git sizes next to the raw bytes and the corpus's own compression baselines. */
function storageTable(d: DatasetResult): string {
  const b = d.baseline;
  const rows: (string | number | undefined)[][] = [['raw bytes, all versions (measured)', d.bytes, percent(d.bytes, d.bytes), '']];
  if (b?.raw !== undefined && b.raw !== d.bytes) rows.push(['raw bytes per the corpus', b.raw, percent(b.raw, d.bytes), b.source]);
  if (b?.zstd19PerFile !== undefined) rows.push(['zstd -19, each file alone', b.zstd19PerFile, percent(b.zstd19PerFile, d.bytes), b.source]);
  if (b?.zstd19LongConcat !== undefined) rows.push(['zstd -19 --long=27, all files as one stream', b.zstd19LongConcat, percent(b.zstd19LongConcat, d.bytes), b.source]);
  for (const r of d.tools) {
    if (!r.sizes) continue;
    rows.push([`${r.tool}: .git after the commits`, r.sizes.gitDir, percent(r.sizes.gitDir, d.bytes), 'measured']);
    if (r.gc) rows.push([`${r.tool}: .git after git gc`, r.gc.gitDir, percent(r.gc.gitDir, d.bytes), `measured (gc ${seconds(r.gc.seconds)} s)`]);
    if (r.repack) {
      rows.push([`${r.tool}: .git after git gc + git mgit repack`, r.repack.gitDir, percent(r.repack.gitDir, d.bytes), `measured (repack ${seconds(r.repack.seconds)} s)`]);
      rows.push([`${r.tool}: git mgit stats storedBytes`, r.repack.storedBytes, percent(r.repack.storedBytes, d.bytes), `store folder ${r.repack.storeDirBytes} bytes`]);
    }
  }
  return table(['storage', 'bytes', '% of raw', 'source'], rows);
}

function printSummary(results: DatasetResult[], tools: Tool[]): void {
  const shown = tools.filter((t) => results.some((d) => d.tools.some((r) => r.tool === t && r.sizes)));
  const get = (d: DatasetResult, t: Tool) => d.tools.find((r) => r.tool === t && r.sizes);
  const withGc = shown.includes('git') && results.some((d) => get(d, 'git')?.gc);
  const rows = results.map((d) => [
    d.name,
    mb(d.bytes),
    ...shown.map((t) => mb(get(d, t)?.sizes?.gitDir)),
    ...(withGc ? [mb(get(d, 'git')?.gc?.gitDir)] : []),
    mb(d.baseline?.zstd19LongConcat),
    ...shown.map((t) => rate(d.bytes, get(d, t)?.addSeconds)),
    ...shown.map((t) => rate(d.headBytes, get(d, t)?.checkoutSeconds)),
  ]);
  const total = (f: (d: DatasetResult) => number | undefined) => {
    const v = results.map(f);
    return v.every((x) => x !== undefined) ? v.reduce((a, x) => a! + x!, 0) : undefined;
  };
  if (results.length > 1) {
    rows.push([
      'total',
      mb(total((d) => d.bytes)),
      ...shown.map((t) => mb(total((d) => get(d, t)?.sizes?.gitDir))),
      ...(withGc ? [mb(total((d) => get(d, 'git')?.gc?.gitDir))] : []),
      mb(total((d) => d.baseline?.zstd19LongConcat)),
      ...shown.map((t) => rate(total((d) => d.bytes) ?? 0, total((d) => get(d, t)?.addSeconds))),
      ...shown.map((t) => rate(total((d) => d.headBytes) ?? 0, total((d) => get(d, t)?.checkoutSeconds))),
    ]);
  }
  process.stdout.write('\n== summary (MB = 10^6 bytes)\n\n');
  process.stdout.write(
    table(
      ['dataset', 'raw', ...shown.map((t) => `${t} .git`), ...(withGc ? ['git .git gc'] : []), 'zstd --long', ...shown.map((t) => `${t} add MB/s`), ...shown.map((t) => `${t} checkout MB/s`)],
      rows,
    ),
  );
}

// ---------------------------------------------------------------------------------------------

function environment(git: GitEnv, timeBin: string | undefined): Record<string, string> {
  const cpu = os.cpus();
  return {
    date: new Date().toISOString(),
    machine: `${cpu.length} x ${cpu[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.platform()} ${os.release()}`,
    node: process.version,
    git: versionOf('git', ['--version'], git.env) ?? 'missing',
    'git-lfs': versionOf('git-lfs', ['version'], git.env) ?? 'not installed',
    mgit: versionOf('git', ['mgit', 'version'], git.env) ?? 'unknown',
    'GNU time': timeBin ?? 'not installed (apt-get install time): peak RSS not measured',
    load: loadAverage(),
  };
}

/** Other work on the machine skews timings: the load average is printed so a reader can judge. */
function loadAverage(): string {
  return `load average ${os.loadavg().map((x) => x.toFixed(2)).join(', ')} (1, 5, 15 min)`;
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  requireBuiltCli();
  const root = makeTempDir('mgit-bench-', true);
  const git = isolatedGitEnv(path.join(root, 'home'));
  const template = path.join(root, 'empty-template');
  fs.mkdirSync(template);
  const timeBin = findGnuTime();
  const lfs = which('git-lfs') !== undefined;
  const onlyTools = opts.only.filter((n): n is Tool => (TOOLS as string[]).includes(n));
  const tools = onlyTools.length ? TOOLS.filter((t) => onlyTools.includes(t)) : TOOLS;

  const env = environment(git, timeBin);
  process.stdout.write(`mgit benchmark, ${env.date}\n`);
  for (const [k, v] of Object.entries(env)) if (k !== 'date') process.stdout.write(`  ${k.padEnd(8)} ${v}\n`);
  if (!lfs) process.stdout.write('git-lfs not installed: apt-get install git-lfs (its column is skipped)\n');
  process.stdout.write(
    'Timing: wall clock of `git add` + `git commit` per step (hooks and filters included), and of `git checkout -- .` after deleting\n' +
      'the work-tree files in the same repository (a clone would not carry mgit chunks or LFS objects): the median of up to 5 runs,\n' +
      'each after a sync (fewer runs once 20 s have passed). Sizes: apparent bytes of files\n' +
      '(.git bytes = everything; lfs/mgit store = .git/lfs or .git/mgit/objects, included in .git bytes). MB = 10^6 bytes.\n' +
      'RSS git: GNU time %M of the git command = the largest RSS of git or of any process it waited for (filter, hooks);\n' +
      'RSS filter: the long-running filter process alone.\n',
  );

  let all: Dataset[] = [];
  if (opts.corpus) all.push(...corpusDatasets(opts.corpus));
  else process.stdout.write('no corpus: set MGIT_CORPUS or pass --corpus=<dir> to run the digits and real-model datasets\n');
  if (!opts.quick) all.push(generatedDataset(root));
  all = selectDatasets(all, opts.only);
  if (all.length === 0) throw new ScriptError('nothing to run (--quick without a corpus, or --only matched nothing)');

  const runtime = path.join(root, 'run');
  process.on('exit', () => stopPool(runtime));
  const ctx: Context = { root, git, timeBin, template, tools, lfs, gc: opts.gc, timeoutSeconds: opts.timeoutSeconds, runtime };
  const results: DatasetResult[] = [];
  for (const ds of all) {
    const r = await runDataset(ctx, ds);
    results.push(r);
    printDataset(r);
  }
  printSummary(results, tools);
  process.stdout.write(`\nat the end: ${loadAverage()}\n`);
  if (opts.json) {
    fs.writeFileSync(opts.json, JSON.stringify({ environment: env, options: opts, datasets: results }, null, 2) + '\n');
    process.stdout.write(`\nJSON written to ${opts.json}\n`);
  }
  const failed = results.flatMap((d) => d.tools.filter((r) => r.status === 'failed').map((r) => `${d.name}/${r.tool}`));
  if (failed.length) {
    process.stdout.write(`\nFAILED runs: ${failed.join(', ')}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`bench failed: ${e instanceof ScriptError ? e.message : (e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);

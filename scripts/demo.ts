// `npm run demo [-- <dir>] [--cleanup]`: mgit end to end in a fresh repository. Owns the demo's story:
// set up a temp repository in an isolated git environment, commit a lineage family (generated, or
// the models of <dir> following its lineage.json commit_plan or name order), throw the work tree
// away and check it out again, then prove the round trip (sha256 of every file and of every version
// in history, clean `git status`, `git mgit fsck`) and print what it cost.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { isolatedGitEnv, keepTempDir, letSignalsIn, makeTempDir, requireBuiltCli, ScriptError, type GitEnv } from './lib/env.js';
import { apparentSize } from './lib/files.js';
import { demoFamily } from './lib/models.js';
import { planForFolder, planTotals, type CommitStep } from './lib/plan.js';
import { shaCache, ToolRepo, verifyHistory, type Sizes, type StepResult } from './lib/repo.js';
import { bytes, mb, ratio, seconds, table } from './lib/table.js';

interface Args {
  dir?: string;
  cleanup: boolean;
}

const USAGE = `usage: npm run demo [-- [<dir>] [--cleanup]]
  <dir>      commit the .onnx/.onnx.data models of <dir> (lineage.json commit_plan order when present,
             else name order) instead of the generated family
  --cleanup  remove the temp repository at the end (it is kept by default so you can look at it)`;

function parseArgs(argv: string[]): Args {
  const args: Args = { cleanup: false };
  for (const a of argv) {
    if (a === '--cleanup') args.cleanup = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    } else if (a.startsWith('-')) throw new ScriptError(`unknown option ${a}\n${USAGE}`);
    else if (args.dir) throw new ScriptError(`only one folder can be given\n${USAGE}`);
    else args.dir = path.resolve(a);
  }
  if (args.dir && !fs.statSync(args.dir, { throwIfNoEntry: false })?.isDirectory()) throw new ScriptError(`${args.dir} is not a folder`);
  return args;
}

const log = (s: string) => process.stderr.write(s + '\n');

/** No git command of the demo should take this long; past it, mgit has hung and we say so. */
const GIT_TIMEOUT_SECONDS = 600;

/** Writes the generated family into `dir` and returns it as a plan (one commit per model version). */
function generatedPlan(dir: string): CommitStep[] {
  fs.mkdirSync(dir, { recursive: true });
  return demoFamily().map((m, i) => {
    const src = path.join(dir, `${String(i + 1).padStart(2, '0')}-${m.label.replace(/\s+/g, '-')}.onnx`);
    fs.writeFileSync(src, m.bytes);
    return { label: m.label, message: m.message, files: [{ src, path: m.path, size: m.bytes.length }] };
  });
}

interface Verification {
  checkoutSeconds: number;
  headFiles: number;
  historyVersions: number;
  problems: string[];
  fsck: string;
}

/** Removes the committed files, checks them out again, and checks everything we can. */
async function verify(repo: ToolRepo, git: GitEnv, steps: StepResult[]): Promise<Verification> {
  const sha = shaCache();
  const { headFiles } = planTotals(steps.map((s) => s.step));
  const files = [...headFiles.values()];
  log(`$ rm ${files.map((f) => f.path).join(' ')}`);
  log('$ git checkout -- .');
  const co = repo.checkout(files, 1); // what a user sees once, not a measurement
  const problems = repo.verify(files, sha);
  const history = steps.flatMap((s) => s.step.files.map((f) => ({ rev: s.commit, path: f.path, sha256: sha(f.src) })));
  log(`$ git cat-file --filters <commit>:<path>   # each of the ${history.length} file versions in history`);
  problems.push(...(await verifyHistory(repo, history, git.env)));
  log('$ git mgit fsck');
  const fsck = repo.git(['mgit', 'fsck'], { allowFail: true });
  const fsckLine = (fsck.stdout.trim() || fsck.stderr.trim()).split('\n').pop() ?? '';
  if (fsck.status !== 0) problems.push(`git mgit fsck failed (exit ${fsck.status}):\n${(fsck.stdout + fsck.stderr).trim()}`);
  return { checkoutSeconds: co.seconds, headFiles: files.length, historyVersions: history.length, problems, fsck: fsckLine };
}

function report(sz: Sizes, steps: StepResult[], growth: number[], v: Verification, source: string): void {
  const rows = steps.map((s, i) => [
    i + 1,
    s.commit.slice(0, 8),
    s.step.files.map((f) => f.path).join(' + '),
    s.step.label,
    s.bytes,
    s.blobBytes,
    growth[i],
    seconds(s.addSeconds + s.commitSeconds),
  ]);
  process.stdout.write(`\nmgit demo: ${source}\n\n`);
  process.stdout.write(table(['#', 'commit', 'path', 'version', 'raw bytes', 'pointer bytes', 'chunk store +bytes', 'add+commit s'], rows));

  const totals = planTotals(steps.map((s) => s.step));
  const stored = sz.objects + sz.mgitObjects;
  const addSeconds = steps.reduce((a, s) => a + s.addSeconds + s.commitSeconds, 0);
  const kv: [string, string][] = [
    ['models (paths)', `${totals.models}`],
    ['versions (commits)', `${totals.versions} (${totals.files} files)`],
    ['raw bytes, all versions', `${bytes(totals.bytes)} (${mb(totals.bytes)})`],
    ['git object store (.git/objects)', `${bytes(sz.objects)} (${mb(sz.objects)})`],
    ['chunk store (.git/mgit/objects)', `${bytes(sz.mgitObjects)} (${mb(sz.mgitObjects)})`],
    ['total .git', `${bytes(sz.gitDir)} (${mb(sz.gitDir)}; .git/mgit with cache: ${mb(sz.mgit)})`],
    ['ratio raw / (git objects + chunk store)', `${ratio(totals.bytes, stored)}x`],
    ['ratio raw / total .git', `${ratio(totals.bytes, sz.gitDir)}x`],
    ['add+commit, all versions', `${seconds(addSeconds)} s`],
    [`checkout of ${totals.headFiles.size} files (${mb(totals.headBytes)})`, `${seconds(v.checkoutSeconds)} s`],
    ['git mgit fsck', v.fsck],
  ];
  const w = Math.max(...kv.map(([k]) => k.length));
  process.stdout.write('\n' + kv.map(([k, val]) => `${k.padEnd(w)}  ${val}`).join('\n') + '\n\n');
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  requireBuiltCli();
  const root = makeTempDir('mgit-demo-', true); // removed on failure too unless we decide to keep it
  const git = isolatedGitEnv(path.join(root, 'home'));
  const source = args.dir ? args.dir : 'generated lineage family (seeded)';
  const plan = args.dir ? planForFolder(args.dir) : generatedPlan(path.join(root, 'generated'));
  const repo = new ToolRepo({ tool: 'mgit', dir: path.join(root, 'repo'), git, timeoutSeconds: GIT_TIMEOUT_SECONDS });
  let keep = !args.cleanup;
  try {
    log(`repository: ${repo.dir}`);
    repo.init(log);
    const steps: StepResult[] = [];
    const growth: number[] = [];
    const store = path.join(repo.gitDir, 'mgit', 'objects');
    for (const step of plan) {
      const before = apparentSize(store);
      const r = repo.commit(step);
      growth.push(apparentSize(store) - before);
      steps.push(r);
      log(`$ git add ${step.files.map((f) => f.path).join(' ')} && git commit -m ${JSON.stringify(step.message)}   # ${seconds(r.addSeconds + r.commitSeconds)} s`);
      await letSignalsIn();
    }
    const sizes = repo.sizes(); // after the commits, before checkout and checks touch the caches
    const v = await verify(repo, git, steps);
    report(sizes, steps, growth, v, source);
    if (v.problems.length) {
      process.stdout.write(`FAILED: ${v.problems.length} problem(s):\n${v.problems.map((p) => `  - ${p}`).join('\n')}\n`);
      keep = true; // leave the evidence
      return 1;
    }
    process.stdout.write(
      `all ${v.headFiles} files checked out byte-identical; all ${v.historyVersions} committed file versions restore byte-identical; git status clean; git mgit fsck ok\n`,
    );
    return 0;
  } finally {
    if (keep) {
      keepTempDir(root);
      process.stdout.write(`repository left in ${repo.dir} (remove ${root} when done)\n`);
    }
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`demo failed: ${e instanceof ScriptError ? e.message : (e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);

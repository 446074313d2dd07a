// `node dist/scripts/bench-storage.js [--corpus=<dir>]`: what each storage technique contributes, per
// family. Commits every corpus family once (digits in its commit_plan order, each real/ family parents
// first), then repacks the same repository with one technique taken away at a time (MGIT_TRANSFORMS,
// a measurement switch of the encoder) and prints the .git size for each, after git gc.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { familyBaseline, familyNames, planFromFamily, planFromLineage, readFamilies, digitsBaseline, type CommitStep } from './lib/plan.js';
import { isolatedGitEnv, makeTempDir, requireBuiltCli } from './lib/env.js';

const ALL = ['planes', 'xor', 'dict', 'cast', 'quant', 'masked-xor', 'fingerprint'];
const VARIANTS: [string, string[]][] = [
  ['all', ALL],
  ['no dict', ALL.filter((t) => t !== 'dict')],
  ['no fingerprints', ALL.filter((t) => t !== 'fingerprint')],
  ['no cast/quant prediction', ALL.filter((t) => t !== 'cast' && t !== 'quant')],
  ['no masked xor', ALL.filter((t) => t !== 'masked-xor')],
  ['planes only (no deltas)', ['planes']],
  ['dedup + zstd only (no planes, no deltas)', []],
];

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
  }
  return total;
}

function run(cwd: string, env: NodeJS.ProcessEnv, args: string[]): string {
  const r = spawnSync('git', args, { cwd, env, maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

function commitSteps(dir: string, env: NodeJS.ProcessEnv, steps: CommitStep[]): number {
  fs.mkdirSync(dir, { recursive: true });
  run(dir, env, ['init', '-q', '--template=', dir]);
  run(dir, env, ['mgit', 'install', '--local']);
  run(dir, env, ['mgit', 'track', '*.onnx', '*.onnx.data']);
  let raw = 0;
  for (const s of steps) {
    for (const f of s.files) {
      fs.mkdirSync(path.dirname(path.join(dir, f.path)), { recursive: true });
      fs.copyFileSync(f.src, path.join(dir, f.path));
      raw += f.size;
    }
    run(dir, env, ['add', '-A']);
    run(dir, env, ['commit', '-q', '--no-verify', '-m', s.message]);
  }
  run(dir, env, ['gc', '-q']);
  return raw;
}

function main(): void {
  requireBuiltCli();
  const arg = process.argv.find((a) => a.startsWith('--corpus='));
  const corpus = arg ? arg.slice('--corpus='.length) : process.env.MGIT_CORPUS;
  if (!corpus) {
    process.stderr.write('bench-storage needs the corpus: set MGIT_CORPUS or pass --corpus=<dir>\n');
    process.exit(2);
  }
  const root = makeTempDir('mgit-bench-storage-', true);
  const git = isolatedGitEnv(path.join(root, 'home'));
  const real = path.join(corpus, 'real');
  const families = readFamilies(real);
  const datasets: { name: string; steps: CommitStep[]; baseline?: number }[] = [
    { name: 'digits', steps: planFromLineage(path.join(corpus, 'digits')), baseline: digitsBaseline(corpus)?.zstd19LongConcat },
    ...familyNames(real).map((f) => ({ name: f, steps: planFromFamily(real, f, families[f]), baseline: familyBaseline(families[f])?.zstd19LongConcat })),
  ];
  const header = ['dataset', 'raw', 'zstd --long', ...VARIANTS.map(([v]) => v)];
  process.stdout.write(header.join('\t') + '\n');
  for (const ds of datasets) {
    const dir = path.join(root, ds.name);
    const raw = commitSteps(dir, git.env, ds.steps);
    const cells: string[] = [ds.name, String(raw), String(ds.baseline ?? '-')];
    for (const [, allowed] of VARIANTS) {
      run(dir, { ...git.env, MGIT_TRANSFORMS: allowed.join(',') || 'none' }, ['mgit', 'repack']);
      cells.push(String(dirBytes(path.join(dir, '.git'))));
    }
    process.stdout.write(cells.join('\t') + '\n');
  }
}

main();

// Benchmark: autopilot insertion with 1,000 models in the lineage graph (the MGit paper's autopilot
// took 7.5 s per insert at 23 models and 68 s at 736; our target is under 1 s at 1,000).
//
//   npm run build && node dist/scripts/bench-lineage.js [--models 1000] [--inserts 20] [--keep] [--json]
//
// Generates a model family in a temporary repository (never in the project): a few base MLPs, then
// models derived from random earlier ones (fine-tunes, partial fine-tunes, fp16 copies, re-exports)
// and some independent ones, commits them in batches, and declares their true edges as lineage. Then,
// one at a time, a new derived model is committed and `git mgit lineage add <path> --auto` is timed
// end to end (process start, history scan, index, ranking, record write), and checked against the true
// parent. The index build for the 1,000 existing versions (once per repository) is reported apart.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeRecords } from '../src/lineage/ref.js';
import type { EdgeRecord } from '../src/lineage/record.js';
import { Repo } from '../src/repo.js';
import { prng, type TensorSpec } from '../test/helpers/onnx-builder.js';
import { baseTensors, finetuned, mlpWith, quantizedFp16 } from '../test/helpers/lineage-models.js';

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
const MODELS = arg('models', 1000);
const INSERTS = arg('inserts', 20);
const KEEP = process.argv.includes('--keep');
const JSON_OUT = process.argv.includes('--json');
const HAVE_TIME = fs.existsSync('/usr/bin/time');
const WIDTH = 64;
const LAYERS = 4;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mgit-bench-lineage-'));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  PATH: `${path.join(PROJECT, 'bin')}${path.delimiter}${process.env.PATH}`,
  HOME: dir,
  GIT_CONFIG_GLOBAL: path.join(dir, '.gitconfig'),
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@example.com',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@example.com',
};
const repoDir = path.join(dir, 'repo');

function git(...args: string[]): string {
  const r = spawnSync('git', args, { cwd: repoDir, env, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.toString();
}

function log(msg: string): void {
  if (!JSON_OUT) process.stderr.write(msg + '\n');
}

interface Made {
  path: string;
  tensors: TensorSpec[];
  fp32: boolean;
  parent?: number;
  relation?: string;
  sha?: string;
}

const rand = prng(20260101);
const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
const models: Made[] = [];

/** A new model: derived from a random earlier float32 model, or (sometimes) independent. */
function derive(i: number): Made {
  const p = `models/m${String(i).padStart(4, '0')}.onnx`;
  const fp32 = models.map((m, k) => ({ m, k })).filter((x) => x.m.fp32);
  const roll = rand();
  if (fp32.length < 10 || roll < 0.08) return { path: p, tensors: baseTensors(1000 + i, { width: WIDTH, layers: LAYERS }), fp32: true };
  const { m: parent, k } = pick(fp32);
  // seeds far apart: each derived model gets its own perturbation
  if (roll < 0.55) return { path: p, tensors: finetuned(parent.tensors, i * 7919, { fraction: 0.4, scale: 0.05 }), fp32: true, parent: k, relation: 'finetune' };
  if (roll < 0.75) {
    // partial fine-tune: only the last layer trained
    const tensors = parent.tensors.map((t, j) => (j >= parent.tensors.length - 2 && t.name.endsWith('.weight') ? finetuned([t], i * 7919 + 1)[0] : t));
    return { path: p, tensors, fp32: true, parent: k, relation: 'finetune' };
  }
  if (roll < 0.9) return { path: p, tensors: quantizedFp16(parent.tensors), fp32: false, parent: k, relation: 'quantize' };
  return { path: p, tensors: parent.tensors, fp32: true, parent: k, relation: 'reexport' };
}

function bytesOf(m: Made, i: number): Buffer {
  return mlpWith(m.tensors, { width: WIDTH, layers: LAYERS, producer: m.relation === 'reexport' ? `exporter-${i}` : undefined });
}

function shaOf(p: string): string {
  return /sha256 ([0-9a-f]{64})/.exec(git('cat-file', 'blob', `HEAD:${p}`))![1];
}

function time<T>(f: () => T): { ms: number; value: T } {
  const t0 = process.hrtime.bigint();
  const value = f();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, median: s[Math.floor(s.length / 2)], p90: s[Math.floor(s.length * 0.9)], max: s[s.length - 1] };
};

function main(): void {
  fs.mkdirSync(repoDir);
  git('init', '-q', '-b', 'main');
  git('config', 'gc.auto', '0');
  git('config', 'maintenance.auto', 'false');
  git('mgit', 'install', '--local');
  git('mgit', 'track', '*.onnx');

  log(`generating and committing ${MODELS} models in ${repoDir} ...`);
  const t0 = Date.now();
  for (let i = 0; i < MODELS; i++) {
    const m = derive(i);
    models.push(m);
    fs.mkdirSync(path.join(repoDir, 'models'), { recursive: true });
    fs.writeFileSync(path.join(repoDir, m.path), bytesOf(m, i));
    if ((i + 1) % 100 === 0 || i === MODELS - 1) {
      git('add', '-A');
      git('commit', '-q', '-m', `models up to ${i}`);
    }
  }
  for (const m of models) m.sha = shaOf(m.path);
  const repo = Repo.find(repoDir)!;
  const edges: EdgeRecord[] = models
    .filter((m) => m.parent !== undefined)
    .map((m) => ({ kind: 'edge', child: m.sha!, childPath: m.path, parents: [models[m.parent!].sha!], parentPaths: [models[m.parent!].path], relation: m.relation! }));
  const cwd = process.cwd();
  process.chdir(repoDir);
  writeRecords(repo, edges, `lineage: ${edges.length} generated edges\n`);
  process.chdir(cwd);
  const setupS = (Date.now() - t0) / 1000;
  log(`  ${MODELS} models, ${edges.length} edges declared, in ${setupS.toFixed(1)} s`);

  // The first suggestion builds the local index for every existing version: once per repository.
  const first = models.find((m) => m.parent !== undefined)!;
  const cold = time(() => spawnSync('git', ['mgit', 'lineage', 'suggest', first.path, '--json'], { cwd: repoDir, env }));
  log(`  cold index build + first suggestion: ${(cold.ms / 1000).toFixed(2)} s`);
  const warm = time(() => spawnSync('git', ['mgit', 'lineage', 'suggest', first.path, '--json'], { cwd: repoDir, env }));
  log(`  warm suggestion: ${warm.ms.toFixed(0)} ms`);
  const version = time(() => spawnSync('git', ['mgit', 'version'], { cwd: repoDir, env }));

  const inserts: number[] = [];
  const cpus: number[] = [];
  let correct = 0;
  let derived = 0;
  const kinds = new Map<string, number>();
  for (let j = 0; j < INSERTS; j++) {
    const i = MODELS + j;
    let m = derive(i);
    while (m.parent === undefined) m = derive(i); // insert derived models: each has a true parent
    models.push(m);
    fs.writeFileSync(path.join(repoDir, m.path), bytesOf(m, i));
    git('add', m.path);
    git('commit', '-q', '-m', `insert ${i}`);
    // GNU time, when there, adds the CPU seconds the insert used (this process and the git processes it
    // waited for): a figure that depends less on what else the machine is doing than wall time.
    const cmd = HAVE_TIME ? ['/usr/bin/time', '-f', 'cpu %U %S', 'git'] : ['git'];
    const r = time(() => spawnSync(cmd[0], [...cmd.slice(1), 'mgit', 'lineage', 'add', m.path, '--auto', '--json'], { cwd: repoDir, env }));
    const res = r.value;
    if (res.status !== 0) throw new Error(`lineage add --auto failed: ${res.stderr}`);
    const out = JSON.parse(res.stdout.toString()) as { parentPaths: string[]; relation: string };
    inserts.push(r.ms);
    const cpu = /cpu ([0-9.]+) ([0-9.]+)/.exec(res.stderr.toString());
    if (cpu) cpus.push((Number(cpu[1]) + Number(cpu[2])) * 1000);
    derived++;
    const truth = models[m.parent!].path;
    // a re-export's parent and the parent's other re-exports hold the same tensors: either is right
    const same = (a: string, b: string) => a === b || models.find((x) => x.path === a)?.tensors === models.find((x) => x.path === b)?.tensors;
    const got = models.findIndex((x) => x.path === out.parentPaths[0]);
    let kin = 'unrelated';
    if (same(out.parentPaths[0], truth)) {
      correct++;
      kin = 'right';
    } else if (models[got]?.parent === m.parent) kin = 'a sibling';
    else if (models[got]?.parent !== undefined && models[models[got].parent!]?.path === truth) kin = 'a child of the parent';
    else if (models[m.parent!].parent === got) kin = 'the grandparent';
    kinds.set(kin, (kinds.get(kin) ?? 0) + 1);
    log(`  insert ${j + 1}/${INSERTS}: ${r.ms.toFixed(0)} ms, ${m.relation} of ${truth} -> ${out.relation} ${out.parentPaths[0]} (${kin})`);
  }
  const s = stats(inserts);
  const result = {
    models: MODELS,
    edges: edges.length,
    storeBytes: Number(spawnSync('du', ['-sb', path.join(repoDir, '.git', 'mgit')]).stdout.toString().split('\t')[0]),
    setupSeconds: setupS,
    coldIndexAndFirstSuggestMs: Math.round(cold.ms),
    warmSuggestMs: Math.round(warm.ms),
    processStartMs: Math.round(version.ms),
    insertMs: { mean: Math.round(s.mean), median: Math.round(s.median), p90: Math.round(s.p90), max: Math.round(s.max) },
    insertCpuMs: cpus.length ? { mean: Math.round(stats(cpus).mean), max: Math.round(stats(cpus).max) } : null,
    loadAverage: os.loadavg().map((x) => Number(x.toFixed(2))),
    autopilotCorrect: `${correct}/${derived}`,
    autopilotPicks: Object.fromEntries(kinds),
    node: process.version,
    cpus: os.cpus().length,
  };
  if (JSON_OUT) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else {
    process.stdout.write(`\nlineage autopilot with ${MODELS} models in the graph (${os.cpus().length} CPUs, node ${process.version})\n`);
    process.stdout.write(`  lineage add --auto, end to end: mean ${result.insertMs.mean} ms, median ${result.insertMs.median} ms, p90 ${result.insertMs.p90} ms, max ${result.insertMs.max} ms\n`);
    if (result.insertCpuMs) process.stdout.write(`  CPU time per insert (user + system, all processes): mean ${result.insertCpuMs.mean} ms, max ${result.insertCpuMs.max} ms\n`);
    process.stdout.write(`  process start alone (git mgit version): ${result.processStartMs} ms; load average ${result.loadAverage.join(' ')}\n`);
    process.stdout.write(`  one-time index build for the existing versions (with the first suggestion): ${result.coldIndexAndFirstSuggestMs} ms\n`);
    process.stdout.write(`  right parent: ${result.autopilotCorrect} (picks: ${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')})\n`);
  }
  if (KEEP) log(`kept ${dir}`);
  else fs.rmSync(dir, { recursive: true, force: true });
}

main();

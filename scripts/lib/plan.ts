// Shared by demo and bench. Owns: commit plans (which source file is committed at which repository
// path, in which order, with which message) read from a model folder: a digits-style lineage.json
// commit_plan, a real-corpus family ordered by families.json edges, or plain name order. Also reads
// the baseline figures the corpus carries, so results can be printed next to them.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ScriptError } from './env.js';

export interface PlanFile {
  /** absolute path of the source file */
  src: string;
  /** repository path (posix) */
  path: string;
  size: number;
}

export interface CommitStep {
  /** short name of the model version (lineage node, file name) */
  label: string;
  message: string;
  files: PlanFile[];
}

/** Compression figures published with the corpus, in bytes. */
export interface Baseline {
  source: string;
  raw?: number;
  zstd19PerFile?: number;
  zstd19LongConcat?: number;
}

const MODEL_FILE = /\.onnx(\.data)?$/;

function planFile(src: string, repoPath: string): PlanFile {
  if (!fs.existsSync(src)) throw new ScriptError(`missing model file ${src}`);
  return { src, path: repoPath, size: fs.statSync(src).size };
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ScriptError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// lineage.json (digits)

interface LineageNode {
  file: string;
  files?: string[];
  relation?: string;
  parents?: string[];
}

interface Lineage {
  nodes: Record<string, LineageNode>;
  commit_plan?: { path: string; node: string; message?: string }[];
  total_bytes?: number;
}

export function hasCommitPlan(dir: string): boolean {
  const file = path.join(dir, 'lineage.json');
  if (!fs.existsSync(file)) return false;
  return Array.isArray((readJson(file) as Lineage).commit_plan);
}

/**
 * The lineage's commit_plan: each node's model file at the plan's path; its other files (external
 * data) beside it under their own names, since the model refers to them by that name.
 */
export function planFromLineage(dir: string): CommitStep[] {
  const lineage = readJson(path.join(dir, 'lineage.json')) as Lineage;
  if (!Array.isArray(lineage.commit_plan)) throw new ScriptError(`${dir}/lineage.json has no commit_plan`);
  return lineage.commit_plan.map((step) => {
    const node = lineage.nodes?.[step.node];
    if (!node) throw new ScriptError(`commit_plan names node ${step.node}, which lineage.json does not define`);
    const files = node.files ?? [node.file];
    const planDir = path.posix.dirname(step.path);
    const placed = files.map((f) => planFile(path.join(dir, f), f === node.file ? step.path : path.posix.join(planDir, path.basename(f))));
    const relation = node.relation && node.parents?.length ? `${node.relation} of ${node.parents.join(' + ')}` : node.relation ?? 'model';
    return { label: step.node, message: step.message ?? `${step.path}: ${step.node} (${relation})`, files: placed };
  });
}

// ---------------------------------------------------------------------------------------------
// plain folders

function modelFilesIn(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => MODEL_FILE.test(f) && fs.statSync(path.join(dir, f)).isFile())
    .sort();
}

/** Every .onnx / .onnx.data file of a folder in name order, one commit each, under `prefix`. */
function planFromDir(dir: string, prefix = 'models'): CommitStep[] {
  const files = modelFilesIn(dir);
  if (files.length === 0) throw new ScriptError(`no .onnx or .onnx.data files in ${dir}`);
  return files.map((f) => {
    const p = path.posix.join(prefix, f);
    return { label: f, message: `add ${p}`, files: [planFile(path.join(dir, f), p)] };
  });
}

/** The demo's rule: the lineage commit_plan when the folder has one, else name order. */
export function planForFolder(dir: string): CommitStep[] {
  return hasCommitPlan(dir) ? planFromLineage(dir) : planFromDir(dir);
}

// ---------------------------------------------------------------------------------------------
// real corpus families (families.json)

interface Family {
  baseline?: { raw?: number; zstd19_per_file?: number; zstd19_long_concat?: number; files?: string };
  edges?: [string, string, string][];
}

export function readFamilies(realDir: string): Record<string, Family> {
  return readJson(path.join(realDir, 'families.json')) as Record<string, Family>;
}

/** Family folders of the real corpus, in name order. */
export function familyNames(realDir: string): string[] {
  return fs
    .readdirSync(realDir)
    .filter((f) => fs.statSync(path.join(realDir, f)).isDirectory())
    .sort();
}

/**
 * A family's files at `<family>/<file>`: first the files no edge mentions (name order), then the
 * edges in order, each parent committed before its child (recursively, so a parent whose own parent
 * appears in a later edge still comes after it).
 */
export function planFromFamily(realDir: string, family: string, info: Family | undefined): CommitStep[] {
  const dir = path.join(realDir, family);
  const files = modelFilesIn(dir);
  const edges = info?.edges ?? [];
  const parentOf = new Map<string, { parent: string; relation: string }>();
  for (const [child, parent, relation] of edges) if (!parentOf.has(child)) parentOf.set(child, { parent, relation });
  const inEdges = new Set(edges.flatMap(([c, p]) => [c, p]));
  const order: string[] = files.filter((f) => !inEdges.has(f));
  const done = new Set(order);
  const visit = (f: string, stack: Set<string>): void => {
    if (done.has(f)) return;
    if (stack.has(f)) throw new ScriptError(`families.json: ${family} has a parent cycle through ${f}`);
    stack.add(f);
    const p = parentOf.get(f);
    if (p) visit(p.parent, stack);
    done.add(f);
    order.push(f);
  };
  for (const [child, parent] of edges) {
    visit(parent, new Set());
    visit(child, new Set());
  }
  return order.map((f) => {
    const p = parentOf.get(f);
    const repoPath = `${family}/${f}`;
    return { label: f, message: p ? `${repoPath}: ${p.relation} of ${p.parent}` : `${repoPath}`, files: [planFile(path.join(dir, f), repoPath)] };
  });
}

export function familyBaseline(info: Family | undefined): Baseline | undefined {
  const b = info?.baseline;
  if (!b) return undefined;
  return { source: 'families.json baseline', raw: b.raw, zstd19PerFile: b.zstd19_per_file, zstd19LongConcat: b.zstd19_long_concat };
}

/**
 * The digits figures: lineage.json total_bytes and the corpus README's sentence "each file
 * zstd-compressed alone keeps P% ... keep Q% (X of Y bytes)". Missing pieces stay undefined.
 */
export function digitsBaseline(corpus: string): Baseline | undefined {
  const lineageFile = path.join(corpus, 'digits', 'lineage.json');
  const raw = fs.existsSync(lineageFile) ? (readJson(lineageFile) as Lineage).total_bytes : undefined;
  let readme = '';
  try {
    readme = fs.readFileSync(path.join(corpus, 'README.md'), 'utf8').replace(/\s+/g, ' ');
  } catch {
    // no README: raw size only
  }
  const num = (s: string) => Number(s.replace(/,/g, ''));
  const perFile = /each file zstd-compressed alone keeps ([\d.]+)% of the bytes/.exec(readme);
  const concat = /keep [\d.]+% \(([\d,]+) of ([\d,]+) bytes\)/.exec(readme);
  const total = concat ? num(concat[2]!) : raw;
  if (raw === undefined && !concat) return undefined;
  return {
    source: 'corpus README (digits) and lineage.json',
    raw: total,
    zstd19PerFile: perFile && total ? Math.round((Number(perFile[1]) / 100) * total) : undefined,
    zstd19LongConcat: concat ? num(concat[1]!) : undefined,
  };
}

/** Totals of a plan: logical bytes of every committed version, and of the files at the last commit. */
export function planTotals(steps: CommitStep[]): { versions: number; files: number; bytes: number; headFiles: Map<string, PlanFile>; headBytes: number; models: number } {
  const head = new Map<string, PlanFile>();
  let bytes = 0;
  let files = 0;
  for (const s of steps)
    for (const f of s.files) {
      head.set(f.path, f);
      bytes += f.size;
      files++;
    }
  const headBytes = [...head.values()].reduce((a, f) => a + f.size, 0);
  const models = [...head.keys()].filter((p) => p.endsWith('.onnx')).length;
  return { versions: steps.length, files, bytes, headFiles: head, headBytes, models };
}

// `git mgit diff`: what changed between model versions, tensor by tensor (from pointers, no chunks),
// with value statistics (--values, --tolerance) and the structural/contextual graph diff (--graph).
//
//     git mgit diff                               work tree vs index, for every tracked model
//     git mgit diff --cached [REV]                index vs HEAD (or REV)
//     git mgit diff REV1 [REV2] [-- paths]        like git diff
//     git mgit diff a.onnx b.onnx                 two models: files, or blobs named REV:path
//
// Must never: change the repository (no chunk is stored, nothing is checked out), or reconstruct a model
// to compare it: tensors are compared by chunk id, values read piece by piece only when asked.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { MAX_POINTER_BYTES, pointerVersion } from '../codec/pointer.js';
import { diffModel, hasDifferences, REPORT_VERSION, type DiffOptions, type DiffReport, type ModelDiff } from '../diff/report.js';
import { renderHtml } from '../diff/render-html.js';
import { renderText } from '../diff/render-text.js';
import { MgitError, UsageError } from '../errors.js';
import { CatFile } from '../git/cat-file.js';
import { rawDiff, ZERO_OID } from '../git/diff.js';
import { Resolver } from '../model/resolve.js';
import type { ModelSource } from '../model/source.js';
import { Repo } from '../repo.js';

interface Opts {
  cached?: boolean;
  staged?: boolean;
  graph?: boolean;
  values?: boolean;
  tolerance?: string;
  format: string;
  output?: string;
  all?: boolean;
  color: string;
  exitCode?: boolean;
}

export function register(program: Command): void {
  program
    .command('diff')
    .description('show what changed between model versions: tensors (from pointers alone), values, graph')
    .argument('[args...]', '[<rev> [<rev>]] [-- <path>...], or two models: <file|REV:path> <file|REV:path>')
    .option('--cached', 'compare the index with HEAD (or the given revision)')
    .option('--staged', 'same as --cached')
    .option('--graph', 'also diff the computation graphs (structural and contextual)')
    .option('--values', 'value statistics of changed float tensors (reads their chunks)')
    .option('--tolerance <x>', 'changes with max |difference| <= x count as unchanged (implies --values)')
    .option('--format <format>', 'text, json or html', 'text')
    .option('-o, --output <file>', 'write the report to a file')
    .option('--all', 'also list unchanged tensors')
    .option('--color <when>', 'auto (on a terminal), always or never', 'auto')
    .option('--exit-code', 'exit 1 when any model differs, 0 otherwise')
    .action(async (args: string[], opts: Opts) => diffCommand(args, opts));
}

/** Arguments after a literal `--` on the command line (commander drops the marker itself). */
function pathsAfterDashDash(args: string[]): { revs: string[]; paths: string[] } | undefined {
  const argv = process.argv;
  const cmd = argv.indexOf('diff');
  const dd = argv.indexOf('--', cmd + 1);
  if (cmd < 0 || dd < 0) return undefined;
  const paths = argv.slice(dd + 1);
  return { revs: args.slice(0, Math.max(0, args.length - paths.length)), paths };
}

export function parseTolerance(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = Number(text);
  if (!Number.isFinite(t) || t < 0) throw new UsageError(`--tolerance wants a non-negative number, not ${JSON.stringify(text)}`);
  return t;
}

async function diffCommand(args: string[], opts: Opts): Promise<void> {
  if (!['text', 'json', 'html'].includes(opts.format)) throw new UsageError(`--format must be text, json or html, not ${opts.format}`);
  if (!['auto', 'always', 'never'].includes(opts.color)) throw new UsageError(`--color must be auto, always or never`);
  const dopts: DiffOptions = { graph: !!opts.graph, values: !!opts.values, tolerance: parseTolerance(opts.tolerance), all: !!opts.all };
  const repo = Repo.find();
  const cat = repo ? new CatFile(process.cwd()) : undefined;
  const resolver = new Resolver(cat, repo?.store, process.cwd());
  const sources: ModelSource[] = [];
  const track = <T extends ModelSource | undefined>(s: T): T => {
    if (s) sources.push(s);
    return s;
  };
  const models: ModelDiff[] = [];
  try {
    const split = pathsAfterDashDash(args);
    const cached = !!(opts.cached || opts.staged);
    if (!split && !cached && args.length === 2 && args.every((a) => resolver.isModelName(a))) {
      const a = track(await resolver.named(args[0]!));
      const b = track(await resolver.named(args[1]!));
      models.push(diffModel(args.length === 2 && args[0] === args[1] ? args[0]! : `${args[0]} -> ${args[1]}`, a, b, dopts));
    } else {
      if (!repo || !cat) throw new MgitError('ENOREPO', 'not in a git repository (outside one, give two model files)');
      const top = repo.top;
      const revs = split ? split.revs : args;
      const paths = split ? split.paths : [];
      if (revs.length > 2) throw new UsageError('give at most two revisions (and paths after --)');
      for (const r of revs) {
        if (r.includes(':') && !resolver.isModelName(r)) throw new MgitError('ENOMODEL', `${r}: no such model (a blob name like REV:path, or a file)`);
      }
      for (const ch of rawDiff([...(cached ? ['--cached'] : []), ...revs], paths, process.cwd())) {
        const oldSide = ZERO_OID.test(ch.oldOid) ? undefined : ch.oldOid;
        const newSide = ch.status === 'D' ? undefined : ZERO_OID.test(ch.newOid) ? 'worktree' : ch.newOid;
        if (!(await isPointerBlob(cat, oldSide)) && !(await isPointerBlob(cat, newSide === 'worktree' ? undefined : newSide)) && !worktreePointer(top, ch.path, newSide)) {
          continue; // not an mgit model on either side
        }
        const label = (rev: string | undefined, fallback: string) => (rev ? `${rev}:${ch.oldPath}` : fallback);
        const aLabel = cached ? label(revs[0] ?? 'HEAD', 'HEAD') : revs.length ? label(revs[0], '') : 'index';
        const bLabel = revs.length === 2 ? `${revs[1]}:${ch.path}` : cached ? 'index' : 'work tree';
        const a = track(oldSide ? await resolver.blob(aLabel, oldSide) : undefined);
        const b = track(
          newSide === undefined ? undefined : newSide === 'worktree' ? resolver.file(bLabel, path.join(top, ch.path)) : await resolver.blob(bLabel, newSide),
        );
        const where = ch.oldPath !== ch.path ? `${ch.oldPath} -> ${ch.path}` : ch.path;
        models.push(diffModel(where, a, b, dopts));
      }
    }
  } finally {
    for (const s of sources) s.close();
    await cat?.close();
  }
  const report: DiffReport = { version: REPORT_VERSION, models };
  let out: string;
  if (opts.format === 'json') out = JSON.stringify(report, null, 2) + '\n';
  else if (opts.format === 'html') out = renderHtml(report, `mgit diff ${args.join(' ')}`.trim());
  else {
    const tty = !opts.output && process.stdout.isTTY && !process.env.NO_COLOR;
    out = renderText(report, { color: opts.color === 'always' || (opts.color === 'auto' && !!tty) });
  }
  if (opts.output) fs.writeFileSync(opts.output, out);
  else process.stdout.write(out);
  if (opts.exitCode && hasDifferences(report)) process.exitCode = 1;
}

async function isPointerBlob(cat: CatFile, oid: string | undefined): Promise<boolean> {
  if (!oid) return false;
  const obj = await cat.read(oid, MAX_POINTER_BYTES);
  return !!obj.data && pointerVersion(obj.data) !== undefined;
}

function worktreePointer(top: string, rel: string, side: string | undefined): boolean {
  if (side !== 'worktree') return false;
  try {
    const fd = fs.openSync(path.join(top, rel), 'r');
    const head = Buffer.alloc(32);
    const n = fs.readSync(fd, head, 0, 32, 0);
    fs.closeSync(fd);
    return pointerVersion(head.subarray(0, n)) !== undefined;
  } catch {
    return false;
  }
}

// `git mgit track <pattern>...`: adds `.gitattributes` lines that route matching files through mgit, and
// says when files already committed match (they stay whole blobs until renormalized).

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { git } from '../git/git.js';
import { Repo } from '../repo.js';
import { indexBlobs, pointersIn } from '../git/scan.js';
import { UsageError } from '../errors.js';

export const ATTRIBUTES = 'filter=mgit diff=mgit merge=mgit -text';
/** What earlier versions wrote (before the model merge driver): upgraded in place by `track`. */
const OLD_ATTRIBUTES = 'filter=mgit diff=mgit merge=binary -text';

export function register(program: Command): void {
  program
    .command('track')
    .description('track files matching the patterns with mgit (writes .gitattributes); lists tracked patterns when given none')
    .argument('[patterns...]', 'gitattributes patterns, e.g. "*.onnx"')
    .option('--renormalize', 'also re-add files already committed that match, so they are stored as pointers')
    .action(async (patterns: string[], opts: { renormalize?: boolean }) => track(patterns, opts));
}

export function quotePattern(p: string): string {
  if (/[\s"\\]/.test(p)) return '"' + p.replace(/[\\"]/g, (c) => '\\' + c).replace(/\t/g, '\\t') + '"';
  return p;
}

export function readAttributes(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n');
  } catch {
    return [];
  }
}

/** Patterns whose .gitattributes line routes files through mgit. */
export function trackedPatterns(lines: string[]): string[] {
  return lines.filter((l) => /\sfilter=mgit(\s|$)/.test(l) && !l.trimStart().startsWith('#')).map((l) => l.trim().split(/\s+filter=mgit/)[0].trim());
}

async function track(patterns: string[], opts: { renormalize?: boolean }): Promise<void> {
  const repo = Repo.require();
  const file = path.join(repo.top, '.gitattributes');
  const lines = readAttributes(file);
  if (patterns.length === 0) {
    const tracked = trackedPatterns(lines);
    process.stdout.write(tracked.length ? `tracked by mgit:\n${tracked.map((p) => `    ${p}\n`).join('')}` : 'no patterns are tracked by mgit\n');
    return;
  }
  // Lines written before the merge driver existed say merge=binary: move them to merge=mgit.
  let upgraded = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.endsWith(` ${OLD_ATTRIBUTES}`)) {
      lines[i] = lines[i]!.slice(0, -OLD_ATTRIBUTES.length) + ATTRIBUTES;
      upgraded++;
    }
  }
  if (upgraded) process.stdout.write(`${upgraded} tracked pattern(s) now use the mgit merge driver (merge=mgit)\n`);
  const have = new Set(trackedPatterns(lines));
  const added: string[] = [];
  for (const p of patterns) {
    if (p.includes('\n')) throw new UsageError('a pattern cannot contain a newline');
    const q = quotePattern(p);
    if (have.has(q)) {
      process.stdout.write(`"${p}" already tracked\n`);
      continue;
    }
    added.push(`${q} ${ATTRIBUTES}`);
    have.add(q);
    process.stdout.write(`tracking "${p}"\n`);
  }
  if (added.length || upgraded) {
    while (lines.length && lines[lines.length - 1] === '') lines.pop();
    fs.writeFileSync(file, [...lines, ...added].join('\n') + '\n');
  }
  const stale = await committedNonPointers(repo.top);
  if (stale.length === 0) return;
  if (opts.renormalize) {
    git(['add', '--renormalize', '--', ...stale], { cwd: repo.top });
    process.stdout.write(`re-added ${stale.length} file(s) as mgit pointers; commit to record them\n`);
  } else {
    process.stdout.write(
      `${stale.length} file(s) already committed match and are stored whole, e.g. ${stale[0]}.\n` +
        `Run \`git mgit track --renormalize ${patterns.map(quotePattern).join(' ')}\` (or \`git add --renormalize .\`) and commit to store them with mgit.\n`,
    );
  }
}

/** Files in the index that mgit now filters but whose staged blob is not a pointer. */
export async function committedNonPointers(top: string): Promise<string[]> {
  const entries = indexBlobs(top).filter((e) => e.stage === 0 && e.mode !== '160000' && e.mode !== '120000');
  if (entries.length === 0) return [];
  const attrOut = git(['check-attr', '-z', '--stdin', 'filter'], { cwd: top, input: entries.map((e) => e.path).join('\0') + '\0' });
  const f = attrOut.stdout.toString('utf8').split('\0');
  const filtered = new Set<string>();
  for (let i = 0; i + 2 < f.length; i += 3) if (f[i + 2] === 'mgit') filtered.add(f[i]);
  const candidates = entries.filter((e) => filtered.has(e.path));
  const pointers = new Set<string>();
  for await (const fp of pointersIn(candidates, top)) pointers.add(fp.oid);
  return candidates.filter((e) => !pointers.has(e.oid)).map((e) => e.path);
}

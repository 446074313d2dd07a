// Creation commands on edges (the MGit paper's creation functions): how to re-create a child from its
// parents, for the update cascade. A command is stored as an argument vector, never as shell text, and
// file names reach it only as whole arguments (placeholders) or environment variables, so no file name
// is ever parsed by a shell (DESIGN §1.5). To use shell features, the command itself names a shell:
//   sh -c 'python train.py "$1" > "$2"' sh {parent} {child}
// Pure: text in, argument vectors out.

import { UsageError } from '../errors.js';

/** Placeholders a command may use, each standing for one file path. */
export const PLACEHOLDERS = '{child}, {parent} (the first parent), {parent0}, {parent1}, ...';

/**
 * Splits command text into arguments the way a POSIX shell splits words, without any expansion:
 * whitespace separates, '...' keeps everything literally, "..." keeps everything but \" \\ \$ \`,
 * a backslash outside quotes escapes the next character. Anything a shell would expand ($, `, *, ~,
 * |, ;, &, <, >) is refused, so what is stored is exactly what will run.
 */
export function splitCommand(text: string): string[] {
  const args: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new UsageError('unterminated single quote in --command');
      cur += text.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < text.length && '"\\$`'.includes(text[j + 1])) cur += text[++j];
        else if (text[j] === '$' || text[j] === '`') throw new UsageError(`--command: ${text[j]} would be expanded by a shell; mgit runs no shell (see docs/lineage-spec.md)`);
        else cur += text[j];
      }
      if (j >= text.length) throw new UsageError('unterminated double quote in --command');
      i = j;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw new UsageError('--command ends with a backslash');
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) args.push(cur);
      cur = '';
      inWord = false;
    } else if ('$`|;&<>*?~()'.includes(c)) {
      throw new UsageError(`--command: ${c} is shell syntax; mgit runs the command without a shell (quote it, or name a shell: sh -c '...' sh {parent} {child})`);
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) args.push(cur);
  if (args.length === 0) throw new UsageError('--command is empty');
  return args;
}

const PLACEHOLDER = /\{(child|parent|parent[0-9]+)\}/g;

/** Checks that every `{...}` in a command is a known placeholder that fits the parent count. */
export function checkPlaceholders(argv: string[], parents: number): void {
  for (const a of argv) {
    for (const m of a.matchAll(/\{([^{}]*)\}/g)) {
      const name = m[1];
      const n = /^parent([0-9]+)$/.exec(name);
      if (name === 'child' || name === 'parent') continue;
      if (n && Number(n[1]) < parents) continue;
      throw new UsageError(`--command: unknown placeholder {${name}} (use ${PLACEHOLDERS}; this edge has ${parents} parent(s))`);
    }
  }
}

/**
 * The argument vector and environment to run a command with: placeholders replaced inside arguments
 * (each stays one argument whatever the path holds), and MGIT_CHILD, MGIT_PARENT, MGIT_PARENT_<n> set.
 */
export function expandCommand(argv: string[], files: { child: string; parents: string[] }): { argv: string[]; env: Record<string, string> } {
  const value = (name: string): string => {
    if (name === 'child') return files.child;
    if (name === 'parent') return files.parents[0] ?? '';
    return files.parents[Number(name.slice('parent'.length))] ?? '';
  };
  const env: Record<string, string> = { MGIT_CHILD: files.child, MGIT_PARENT: files.parents[0] ?? '' };
  files.parents.forEach((p, i) => (env[`MGIT_PARENT_${i}`] = p));
  return { argv: argv.map((a) => a.replace(PLACEHOLDER, (_, name: string) => value(name))), env };
}

/** A command as text for display, quoted so that splitCommand reads it back the same. */
export function formatCommand(argv: string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./{}-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

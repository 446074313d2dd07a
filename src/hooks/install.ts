// Installs mgit's git hooks into the repository's hooks path (`git rev-parse --git-path hooks`, which
// follows core.hooksPath). A hook that was there before is never clobbered: it moves to
// `<hook>.mgit-chained` and our script runs it first, with the same arguments and standard input.
// Our scripts carry a marker line so that install can upgrade them and uninstall can remove them.
// All logic lives behind `git mgit hook <name>`, so husky, lefthook or pre-commit can call it instead.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { gitPath } from '../git/git.js';
import { HOOK_GUARDS, HOOKS } from './handlers.js';

export const HOOK_MARKER = '# mgit hook v1:';
const CHAINED = '.mgit-chained';

/** Hooks to which git passes data on standard input: the chained hook and ours both need it. */
const STDIN_HOOKS = new Set(['pre-push', 'post-rewrite', 'reference-transaction']);

export function hookScript(name: string): string {
  // Without mgit a push would send pointers whose chunks never reach shared storage: pre-push stops
  // (as git-lfs's does); the other hooks only warn.
  const missing =
    name === 'pre-push'
      ? `  echo >&2 "mgit: git-mgit is not on PATH, so the models' chunks cannot be uploaded before this push: install mgit, push with --no-verify to send pointers only, or delete $0"
  exit 2`
      : `  echo >&2 "mgit: git-mgit is not on PATH, so its ${name} hook is skipped (install mgit, or run git mgit uninstall)"
  if [ -x "$0${CHAINED}" ]; then exec "$0${CHAINED}" "$@"; fi
  exit 0`;
  const head = `#!/bin/sh
${HOOK_MARKER} installed by \`git mgit install\`; \`git mgit uninstall\` removes it.
# A ${name} hook that was here before mgit moved to ${name}${CHAINED} and still runs first.
if ! command -v git-mgit >/dev/null 2>&1; then
${missing}
fi
`;
  const guard = (HOOK_GUARDS as Record<string, string | undefined>)[name];
  const run = guard ? `if ${guard}; then exec git mgit hook ${name} "$@"; fi\nexit 0` : `exec git mgit hook ${name} "$@"`;
  if (!STDIN_HOOKS.has(name)) {
    return `${head}if [ -x "$0${CHAINED}" ]; then "$0${CHAINED}" "$@" || exit $?; fi
${run}
`;
  }
  // For mgit:: remotes the remote helper uploads the chunks: skip starting Node for nothing.
  const skip = name === 'pre-push' ? 'case "$2" in mgit::*) exit 0 ;; esac\n' : '';
  return `${head}input=$(mktemp) || exit 1
trap 'rm -f "$input"' EXIT
cat > "$input"
if [ -x "$0${CHAINED}" ]; then "$0${CHAINED}" "$@" < "$input" || exit $?; fi
${skip}git mgit hook ${name} "$@" < "$input"
`;
}

export function isOurs(file: string): boolean {
  try {
    return fs.readFileSync(file, 'utf8').includes(HOOK_MARKER);
  } catch {
    return false;
  }
}

export interface HookChange {
  hook: string;
  action: 'installed' | 'upgraded' | 'chained' | 'unchanged' | 'skipped' | 'removed' | 'restored';
  detail?: string;
}

export function hooksDir(cwd?: string): string {
  return gitPath('hooks', cwd);
}

/**
 * Installs every mgit hook. With `onlyMissing`, hooks that exist (ours or not) are left alone: the
 * filter process uses this to give fresh clones their hooks without touching anything the user set up.
 */
export function installHooks(opts: { cwd?: string; onlyMissing?: boolean; dir?: string } = {}): HookChange[] {
  const dir = opts.dir ?? hooksDir(opts.cwd);
  const changes: HookChange[] = [];
  for (const hook of HOOKS) {
    const file = path.join(dir, hook);
    const script = hookScript(hook);
    const exists = fs.existsSync(file);
    if (exists && opts.onlyMissing) continue;
    if (!exists) {
      fs.mkdirSync(dir, { recursive: true });
      writeHook(file, script);
      changes.push({ hook, action: 'installed' });
    } else if (isOurs(file)) {
      if (fs.readFileSync(file, 'utf8') === script) changes.push({ hook, action: 'unchanged' });
      else {
        writeHook(file, script);
        changes.push({ hook, action: 'upgraded' });
      }
    } else if (fs.existsSync(file + CHAINED)) {
      changes.push({ hook, action: 'skipped', detail: `both ${hook} and ${hook}${CHAINED} exist and neither is mgit's; add \`git mgit hook ${hook} "$@"\` to your hook` });
    } else {
      fs.renameSync(file, file + CHAINED);
      writeHook(file, script);
      changes.push({ hook, action: 'chained', detail: `your ${hook} hook now runs from ${hook}${CHAINED}` });
    }
  }
  return changes;
}

function writeHook(file: string, script: string): void {
  const tmp = `${file}.mgit-tmp-${process.pid}`;
  fs.writeFileSync(tmp, script, { mode: 0o755 });
  fs.renameSync(tmp, file);
}

/** Removes mgit's hooks and puts chained hooks back where they were. */
export function uninstallHooks(opts: { cwd?: string } = {}): HookChange[] {
  const dir = hooksDir(opts.cwd);
  const changes: HookChange[] = [];
  for (const hook of HOOKS) {
    const file = path.join(dir, hook);
    if (!isOurs(file)) continue;
    fs.rmSync(file);
    if (fs.existsSync(file + CHAINED)) {
      fs.renameSync(file + CHAINED, file);
      changes.push({ hook, action: 'restored' });
    } else {
      changes.push({ hook, action: 'removed' });
    }
  }
  return changes;
}

// Which creation commands this repository may run (DESIGN §1.5): commands on lineage edges travel with
// fetch, so whoever could push to a remote could otherwise make the update cascade run anything. An
// edge's command runs only when its record id is trusted here: the user typed it (`lineage add
// --command` trusts its own record) or said so (`git mgit trust`). Trusting a record trusts exactly
// that command on exactly that edge; a changed command is a new record, untrusted again.
// The trust list is local state in `<git common dir>/mgit/lineage-trust`, one record id per line; it
// never travels (it is not in any ref) and is written atomically.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Repo } from '../repo.js';

function trustFile(repo: Repo): string {
  return path.join(repo.paths.commonDir, 'mgit', 'lineage-trust');
}

export function trustedRecords(repo: Repo): Set<string> {
  let text = '';
  try {
    text = fs.readFileSync(trustFile(repo), 'utf8');
  } catch {
    return new Set();
  }
  return new Set(text.split('\n').filter((l) => /^[0-9a-f]{64}$/.test(l)));
}

/** True when the cascade may run the command of this edge record. */
export function isCommandTrusted(repo: Repo, recordId: string): boolean {
  return trustedRecords(repo).has(recordId);
}

function save(repo: Repo, ids: Set<string>): void {
  const file = trustFile(repo);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const body = `# edge records whose creation commands this repository trusts (git mgit trust); local, never pushed\n${[...ids].sort().join('\n')}\n`;
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, body);
  fs.renameSync(tmp, file);
}

export function trustRecords(repo: Repo, ids: string[]): void {
  const set = trustedRecords(repo);
  for (const id of ids) set.add(id);
  save(repo, set);
}

export function revokeRecords(repo: Repo, ids: string[]): void {
  const set = trustedRecords(repo);
  for (const id of ids) set.delete(id);
  save(repo, set);
}

// `git mgit trust`: which creation commands on lineage edges this repository may run. Commands arrive
// with fetched lineage, from whoever could push; the update cascade runs an edge's command only once
// its record is trusted here. Without arguments: lists every command with its state.

import type { Command } from 'commander';
import { MgitError, UsageError } from '../errors.js';
import { printJson } from '../format.js';
import { formatCommand } from '../lineage/command.js';
import { loadGraph } from '../lineage/ref.js';
import { revokeRecords, trustedRecords, trustRecords } from '../lineage/trust.js';
import { Repo } from '../repo.js';

interface Options {
  all?: boolean;
  revoke?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('trust')
    .description('list the creation commands on lineage edges, and trust (or --revoke) them for this repository')
    .argument('[records...]', 'edge record ids (or unique prefixes) whose commands to trust')
    .option('--all', 'trust every command currently in the lineage graph')
    .option('--revoke', 'withdraw trust from the named records instead')
    .option('--json', 'machine-readable output')
    .action((records: string[], opts: Options) => trust(records, opts));
}

function trust(prefixes: string[], opts: Options): void {
  const repo = Repo.require();
  if (opts.all && prefixes.length) throw new UsageError('give record ids or --all, not both');
  if (opts.revoke && !prefixes.length && !opts.all) throw new UsageError('--revoke needs record ids (or --all)');
  const withCommands = loadGraph(repo).edges.filter((e) => e.command);
  const pick = (prefix: string) => {
    if (!/^[0-9a-f]{4,64}$/.test(prefix)) throw new UsageError(`${JSON.stringify(prefix)} is not a record id (4 to 64 hex digits)`);
    const m = withCommands.filter((e) => e.id.startsWith(prefix));
    if (m.length === 0) throw new MgitError('ENOEDGE', `no edge with a command has record id ${prefix}`);
    if (m.length > 1) throw new MgitError('EAMBIGUOUS', `record id ${prefix} is ambiguous (${m.map((e) => e.id.slice(0, 12)).join(', ')})`);
    return m[0].id;
  };
  const chosen = opts.all ? withCommands.map((e) => e.id) : prefixes.map(pick);
  if (chosen.length) (opts.revoke ? revokeRecords : trustRecords)(repo, chosen);

  const trusted = trustedRecords(repo);
  const rows = withCommands.map((e) => ({ record: e.id, trusted: trusted.has(e.id), child: e.child, childPath: e.childPath, parents: e.parents, parentPaths: e.parentPaths, relation: e.relation, command: e.command! }));
  if (opts.json) return printJson(rows);
  if (chosen.length) process.stdout.write(`${opts.revoke ? 'revoked' : 'trusted'} ${chosen.length} command(s)\n`);
  if (!rows.length) process.stdout.write('no lineage edge carries a command\n');
  for (const r of rows.sort((a, b) => Number(a.trusted) - Number(b.trusted))) {
    process.stdout.write(`${r.trusted ? 'trusted  ' : 'UNTRUSTED'} ${r.record.slice(0, 12)}  ${r.childPath} <- ${r.relation} ${r.parentPaths.join(', ')}\n`);
    process.stdout.write(`          ${formatCommand(r.command)}\n`);
  }
}

// Output formats of `git mgit log-lineage`: human text with a graph column (like `git log --graph`),
// Graphviz dot, and Mermaid (which code hosts render in Markdown). JSON is the view itself.
// Pure: a view in, text out. Colours only when the caller says the output is a terminal.

import { formatCommand } from './command.js';
import { drawGraph, type DrawNode } from './draw.js';
import type { LineageView, ViewEdge, ViewNode, ViewVersion } from './view.js';

const LANE_COLORS = [31, 32, 33, 34, 35, 36];

function nodeKey(n: ViewNode): string {
  return n.path ?? `version:${n.versions[0].id}`;
}

function edgeKeys(e: ViewEdge): { child: string; parent: string } {
  return { child: e.child ?? `version:${e.childVersion}`, parent: e.parent ?? `version:${e.parentVersion}` };
}

function short(id: string): string {
  return id.slice(0, 8);
}

/** Children before parents; among nodes free to go, the one with the newest version first. */
function orderNodes(view: LineageView): ViewNode[] {
  const keys = view.nodes.map(nodeKey); // view order is newest first: the rank
  const index = new Map(keys.map((k, i) => [k, i]));
  const children = keys.map(() => new Set<number>());
  for (const e of view.edges) {
    const k = edgeKeys(e);
    const c = index.get(k.child);
    const p = index.get(k.parent);
    if (c !== undefined && p !== undefined && c !== p) children[p].add(c);
  }
  const waiting = children.map((s) => s.size); // children not yet placed
  const parentsOf = keys.map(() => [] as number[]);
  children.forEach((cs, p) => cs.forEach((c) => parentsOf[c].push(p)));
  const placed = new Array<boolean>(keys.length).fill(false);
  const out: ViewNode[] = [];
  for (let n = 0; n < keys.length; n++) {
    let next = -1;
    for (let i = 0; i < keys.length; i++) {
      if (!placed[i] && waiting[i] === 0) {
        next = i;
        break;
      }
    }
    if (next < 0) next = placed.indexOf(false); // a cycle between models: take the newest anyway
    placed[next] = true;
    for (const p of parentsOf[next]) waiting[p]--;
    out.push(view.nodes[next]);
  }
  return out;
}

export interface HumanOptions {
  color: boolean;
}

export function renderHuman(view: LineageView, opts: HumanOptions): string {
  const c = (code: number | string, s: string) => (opts.color ? `\x1b[${code}m${s}\x1b[m` : s);
  const nodes = orderNodes(view);
  const byChild = new Map<string, ViewEdge[]>();
  const byParent = new Map<string, ViewEdge[]>();
  const modelParents = new Map<string, string[]>();
  for (const e of view.edges) {
    if (!e.implicit) {
      (byChild.get(e.childVersion) ?? byChild.set(e.childVersion, []).get(e.childVersion)!).push(e);
      (byParent.get(e.parentVersion) ?? byParent.set(e.parentVersion, []).get(e.parentVersion)!).push(e);
    }
    const k = edgeKeys(e);
    const ps = modelParents.get(k.child) ?? modelParents.set(k.child, []).get(k.child)!;
    if (k.parent !== k.child && !ps.includes(k.parent)) ps.push(k.parent);
  }
  const bodies = nodes.map((n) => bodyOf(n, byChild, byParent, c));
  const draw: DrawNode[] = nodes.map((n) => ({ key: nodeKey(n), parents: modelParents.get(nodeKey(n)) ?? [] }));
  const rows = drawGraph(draw, (i) => bodies[i].length - 1);
  const lines: string[] = [];
  const seen = new Map<number, number>();
  for (const row of rows) {
    const graph = opts.color ? row.chars.map((ch, i) => (row.lanes[i] >= 0 && ch !== ' ' ? c(LANE_COLORS[row.lanes[i] % LANE_COLORS.length], ch) : ch)).join('') : row.chars.join('');
    if (row.kind === 'edge') {
      lines.push(graph.replace(/\s+$/, ''));
      continue;
    }
    const k = seen.get(row.node) ?? 0;
    seen.set(row.node, k + 1);
    lines.push(`${graph} ${bodies[row.node][k]}`.replace(/\s+$/, ''));
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

function versionLine(v: ViewVersion, c: (code: number | string, s: string) => string): string {
  const where = v.staged ? c(32, 'staged ') : v.commit ? `${c(33, v.commit.slice(0, 7))} ${v.date?.slice(0, 10) ?? ''}` : c(2, '(in no local commit)');
  return `${where} ${c(2, short(v.id))}${v.message ? ` ${v.message}` : ''}`;
}

function bodyOf(n: ViewNode, byChild: Map<string, ViewEdge[]>, byParent: Map<string, ViewEdge[]>, c: (code: number | string, s: string) => string): string[] {
  const title = n.path ? c(1, n.path) : `${c(1, n.recordedPath ?? '?')} ${c(2, '(not in local history)')}`;
  const lines = [title + (n.renamedFrom?.length ? c(2, ` (renamed from ${n.renamedFrom.join(', ')})`) : '')];
  const endpoint = (path: string | null, id: string, commit?: string) => `${path ?? '?'}@${short(id)}${commit ? c(2, ` (${commit.slice(0, 7)})`) : ''}`;
  for (const v of n.versions) {
    lines.push(`  ${versionLine(v, c)}`);
    const ups = byChild.get(v.id) ?? [];
    const byRecord = new Map<string, ViewEdge[]>();
    for (const e of ups) (byRecord.get(e.record!) ?? byRecord.set(e.record!, []).get(e.record!)!).push(e);
    for (const [record, es] of byRecord) {
      const parents = es.map((e) => endpoint(e.parent, e.parentVersion, e.parentCommit)).join(', ');
      lines.push(`      <- ${c(36, es[0].relation)} ${parents}${es[0].auto !== undefined ? c(2, ' (auto)') : ''} ${c(2, `[${record.slice(0, 7)}]`)}`);
      const e = es[0];
      if (e.command) lines.push(`         command: ${formatCommand(e.command)} ${e.commandTrusted ? c(32, '(trusted)') : c(31, '(untrusted: git mgit trust)')}`);
      if (e.meta) lines.push(`         ${Object.entries(e.meta).map(([k, val]) => `${k}=${val}`).join(' ')}`);
    }
    const downs = byParent.get(v.id) ?? [];
    for (const e of downs) lines.push(`      -> ${c(36, e.relation)} ${endpoint(e.child, e.childVersion, e.childCommit)}`);
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------

function dotString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** Graphviz: one box per model (its versions as lines), an arrow from parent to child per edge. */
export function renderDot(view: LineageView): string {
  const out = ['digraph lineage {', '  rankdir=TB;', '  node [shape=box, fontname="monospace"];'];
  const names = new Map(view.nodes.map((n, i) => [nodeKey(n), `m${i}`]));
  view.nodes.forEach((n) => {
    const label = [n.path ?? `${n.recordedPath ?? '?'} (not in local history)`, ...n.versions.map((v) => `${short(v.id)} ${v.commit?.slice(0, 7) ?? (v.staged ? 'staged' : '')}`.trim())].join('\n');
    out.push(`  ${names.get(nodeKey(n))} [label=${dotString(label)}];`);
  });
  for (const e of view.edges) {
    if (e.implicit) continue;
    const k = edgeKeys(e);
    const label = `${e.relation}\n${short(e.parentVersion)} -> ${short(e.childVersion)}`;
    out.push(`  ${names.get(k.parent)} -> ${names.get(k.child)} [label=${dotString(label)}];`);
  }
  out.push('}');
  return out.join('\n') + '\n';
}

function mermaidText(s: string): string {
  return s.replace(/"/g, '#quot;').replace(/[<>]/g, (ch) => (ch === '<' ? '#lt;' : '#gt;'));
}

/** Mermaid flowchart: renders in Markdown on GitHub and GitLab. */
export function renderMermaid(view: LineageView): string {
  const out = ['flowchart TD'];
  const names = new Map(view.nodes.map((n, i) => [nodeKey(n), `m${i}`]));
  view.nodes.forEach((n) => {
    const title = n.path ?? `${n.recordedPath ?? '?'} (not in local history)`;
    const versions = n.versions.length === 1 ? short(n.versions[0].id) : `${n.versions.length} versions, latest ${short(n.versions[0].id)}`;
    out.push(`  ${names.get(nodeKey(n))}["${mermaidText(title)}<br/>${versions}"]`);
  });
  for (const e of view.edges) {
    if (e.implicit) continue;
    const k = edgeKeys(e);
    out.push(`  ${names.get(k.parent)} -->|${mermaidText(e.relation)}| ${names.get(k.child)}`);
  }
  return out.join('\n') + '\n';
}

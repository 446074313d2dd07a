// Terminal rendering of diff reports: one block per model, a summary line, then one line per tensor
// change and per graph change. Colors only when the caller says so (a TTY, or git's color setting for
// the diff driver): red is only in a, green only in b, as MGit's and git's own diffs.
//
// Must never: print unchanged tensors or nodes unless asked (a 7B model has thousands), or truncate
// silently: a cut list says how many lines were left out and how to see them.

import { humanBytes } from '../format.js';
import type { GraphDiff, ModelGraphDiff, NodeChange } from './graph.js';
import type { DiffReport, ModelDiff, VersionInfo } from './report.js';
import { TENSOR_CLASSES, type TensorChange, type TensorClass } from './tensors.js';

export interface TextOptions {
  color: boolean;
  /** most graph node lines per graph before "... and N more" (default 200) */
  maxNodes?: number;
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, bold: 1, dim: 2 } as const;
type Style = keyof typeof CODES;

const SYMBOL: Record<TensorClass, { sym: string; style: Style }> = {
  changed: { sym: '~', style: 'yellow' },
  reshaped: { sym: '#', style: 'magenta' },
  retyped: { sym: 'T', style: 'magenta' },
  renamed: { sym: '>', style: 'cyan' },
  added: { sym: '+', style: 'green' },
  removed: { sym: '-', style: 'red' },
  unchanged: { sym: '=', style: 'dim' },
};

const NODE_SYMBOL: Record<NodeChange['status'], { sym: string; style: Style }> = {
  added: { sym: '+', style: 'green' },
  removed: { sym: '-', style: 'red' },
  modified: { sym: '~', style: 'yellow' },
  contextual: { sym: '*', style: 'cyan' },
  unchanged: { sym: '=', style: 'dim' },
};

export function sci(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 0.01 && a < 1000 ? String(Number(x.toPrecision(3))) : x.toExponential(2);
}

export function pct(x: number): string {
  if (x === 0) return '0%';
  if (x < 0.001) return '<0.1%';
  return `${Number((x * 100).toPrecision(3))}%`;
}

const dimsText = (d: number[]) => `[${d.join(',')}]`;
const short = (sha: string) => sha.slice(0, 12);

export class TextRenderer {
  private readonly lines: string[] = [];
  constructor(private readonly opts: TextOptions) {}

  private c(style: Style, s: string): string {
    return this.opts.color ? `\x1b[${CODES[style]}m${s}\x1b[0m` : s;
  }

  private line(s = ''): void {
    this.lines.push(s);
  }

  report(r: DiffReport): string {
    if (r.models.length === 0) this.line('no model differences');
    r.models.forEach((m, i) => {
      if (i > 0) this.line();
      this.model(m);
    });
    return this.lines.join('\n') + '\n';
  }

  /** The block for one model (also used by the git diff driver after its own header). */
  model(m: ModelDiff, header = true): string {
    const start = this.lines.length;
    if (header) this.line(this.c('bold', `model ${m.path}`) + (m.status === 'modified' ? '' : ` (${m.status})`));
    const v = (tag: string, x?: VersionInfo) => x && this.line(`  ${tag} ${x.label}: ${short(x.sha256)}, ${humanBytes(x.size)}, ${x.tensors} tensors (${humanBytes(x.tensorBytes)})${x.format === 'raw' ? ', not ONNX' : ''}`);
    v('a', m.a);
    v('b', m.b);
    const s = m.tensors.summary;
    const parts = TENSOR_CLASSES.filter((k) => s[k].count > 0).map((k) => `${s[k].count} ${k} (${humanBytes(k === 'removed' ? s[k].bytesA : s[k].bytesB)})`);
    const sk = m.tensors.skeleton;
    if (m.a && m.b) parts.push(sk.same ? 'skeleton same' : `skeleton ${sk.bytesA === sk.bytesB ? 'changed' : `${humanBytes(sk.bytesA)} -> ${humanBytes(sk.bytesB)}`}`);
    this.line(`  tensors: ${parts.join(', ') || 'none'}`);
    const dt = Object.entries(m.tensors.dtypes).filter(([, x]) => x.a !== x.b);
    if (m.a && m.b && dt.length) this.line(`  dtypes: ${dt.map(([d, x]) => `${d} ${humanBytes(x.a)} -> ${humanBytes(x.b)}`).join(', ')}`);
    for (const c of sortChanges(m.tensors.changes)) this.tensor(c);
    if (m.graph) {
      if ('error' in m.graph) this.line(`  graph: ${this.c('red', `not compared: ${m.graph.error}`)}`);
      else this.modelGraph(m.graph);
    }
    return this.lines.slice(start).join('\n') + '\n';
  }

  private tensor(c: TensorChange): void {
    const { sym, style } = SYMBOL[c.class];
    const side = c.b ?? c.a!;
    let what: string;
    switch (c.class) {
      case 'renamed':
        what = `${c.oldName} -> ${c.name}  ${c.b!.dtype} ${dimsText(c.b!.dims)}${c.a!.dims.join() !== c.b!.dims.join() ? ` (was ${dimsText(c.a!.dims)})` : ''}`;
        break;
      case 'reshaped':
        what = `${c.name}  ${side.dtype} ${dimsText(c.a!.dims)} -> ${dimsText(c.b!.dims)}`;
        break;
      case 'retyped':
        what = `${c.name}  ${c.a!.dtype} ${dimsText(c.a!.dims)} -> ${c.b!.dtype} ${dimsText(c.b!.dims)}`;
        break;
      default:
        what = `${c.name}  ${side.dtype} ${dimsText(side.dims)}`;
    }
    const size = c.class === 'removed' ? humanBytes(c.a!.bytes) : c.a && c.b && c.a.bytes !== c.b.bytes ? `${humanBytes(c.a.bytes)} -> ${humanBytes(c.b.bytes)}` : humanBytes(side.bytes);
    let tail = side.inSkeleton ? this.c('dim', '  (small, in skeleton)') : '';
    if (c.stats) {
      const st = c.stats;
      tail +=
        `  max|d| ${sci(st.maxAbsDiff)}  mean|d| ${sci(st.meanAbsDiff)}  relL2 ${st.relL2 === null ? 'n/a' : pct(st.relL2)}  changed ${pct(st.changedShare)}` +
        (st.sparsityA || st.sparsityB ? `  zeros ${pct(st.sparsityA)} -> ${pct(st.sparsityB)}` : '') +
        (st.nonFinite ? `  non-finite ${st.nonFinite}` : '') +
        (c.withinTolerance ? '  (within tolerance)' : '');
    } else if (c.statsSkipped && c.class === 'changed') {
      tail += this.c('dim', `  (no values: ${c.statsSkipped})`);
    }
    this.line(`  ${this.c(style, `${sym} ${what}`)}  ${size}${tail}`);
  }

  private modelGraph(g: ModelGraphDiff): void {
    if (g.irVersion.a !== g.irVersion.b) this.line(`  ir_version ${g.irVersion.a} -> ${g.irVersion.b}`);
    if (g.producer.a !== g.producer.b) this.line(`  producer ${g.producer.a || '(none)'} -> ${g.producer.b || '(none)'}`);
    for (const o of g.opsets) this.line(`  opset ${o.domain} ${o.a ?? '(none)'} -> ${o.b ?? '(none)'}`);
    for (const m of g.metadata) this.line(`  metadata ${m.key}: ${m.a ?? '(none)'} -> ${m.b ?? '(none)'}`);
    this.graph(g.graph, '  ', 'graph');
    for (const f of g.functions) {
      this.line(`  function ${f.name}: ${f.status}`);
      if (f.diff) this.graph(f.diff, '    ', 'body');
    }
  }

  private graph(d: GraphDiff, indent: string, title: string): void {
    const n = d.nodes;
    const counts = (['contextual', 'modified', 'added', 'removed'] as const).filter((k) => n[k] > 0).map((k) => `${n[k]} ${k}`);
    this.line(
      `${indent}${title}: ${n.a} -> ${n.b} nodes, ${n.unchanged} unchanged${counts.length ? ', ' + counts.join(', ') : ''}; ` +
        `edges ${d.edges.a} -> ${d.edges.b} (+${d.edges.added} -${d.edges.removed}), divergence ${sci(d.divergence)}`,
    );
    for (const io of d.inputs) this.io(indent, 'input', io);
    for (const io of d.outputs) this.io(indent, 'output', io);
    const max = this.opts.maxNodes ?? 200;
    d.changes.slice(0, max).forEach((c) => this.node(c, indent + '  '));
    if (d.changes.length > max) this.line(`${indent}  ... and ${d.changes.length - max} more node changes (--format=json or --format=html shows all)`);
  }

  private io(indent: string, kind: string, io: { name: string; a?: string; b?: string }): void {
    if (io.a === undefined) this.line(`${indent}${this.c('green', `+ ${kind} ${io.name}: ${io.b}`)}`);
    else if (io.b === undefined) this.line(`${indent}${this.c('red', `- ${kind} ${io.name}: ${io.a}`)}`);
    else this.line(`${indent}${this.c('yellow', `~ ${kind} ${io.name}: ${io.a} -> ${io.b}`)}`);
  }

  private node(c: NodeChange, indent: string): void {
    const { sym, style } = NODE_SYMBOL[c.status];
    const x = c.b ?? c.a!;
    const name = (r?: { name: string; index: number }) => (r ? r.name || `#${r.index}` : '');
    let head = `${sym} ${c.opChanged ? `${c.a!.op} -> ${c.b!.op}` : x.op} ${name(x)}`;
    if (c.renamed) head += ` (was ${name(c.a)})`;
    const details: string[] = [];
    for (const a of c.attrs ?? []) details.push(`${a.name}: ${a.a ?? '(none)'} -> ${a.b ?? '(none)'}`);
    if (c.inputs) details.push(`inputs ${c.inputs.a} -> ${c.inputs.b}`);
    const changed = (c.weights ?? []).filter((w) => w.change === 'changed');
    if (changed.length) details.push(`weights changed: ${changed.map((w) => w.b!.name || w.slot).join(', ')}`);
    for (const w of c.weights ?? []) {
      if (w.change === 'changed') continue;
      const which = w.slot.startsWith('attr:') ? w.slot.slice(5) : `input ${w.slot}`;
      const t = (x?: { name: string; type: string }) => (x ? `${x.name} ${x.type}` : '(none)');
      details.push(`${which} ${w.change}: ${w.change === 'added' ? t(w.b) : w.change === 'removed' ? t(w.a) : `${t(w.a)} -> ${w.b!.type}`}`);
    }
    this.line(`${indent}${this.c(style, head)}${details.length ? `  ${details.join('; ')}` : ''}`);
    for (const s of c.subgraphs ?? []) this.graph(s.diff, indent + '  ', `subgraph ${s.attr}`);
  }
}

/** Grouped by class in the order of TENSOR_CLASSES, file order within a class (layers read top down). */
function sortChanges(changes: TensorChange[]): TensorChange[] {
  const order = new Map(TENSOR_CLASSES.map((k, i) => [k, i]));
  return [...changes].sort((x, y) => order.get(x.class)! - order.get(y.class)!);
}

export function renderText(r: DiffReport, opts: TextOptions): string {
  return new TextRenderer(opts).report(r);
}

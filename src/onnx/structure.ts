// A model's structure (graphs, nodes, attributes, values, weights by content id), decoded with the ONNX
// schema from the compact form the skeleton walk gives, so no tensor chunk is ever read.
//
// Owns: turning protobuf objects into plain, comparable descriptions: attribute values as canonical
// text, value types as text (`float32[1,3,N,320]`), and every tensor as {name, dtype, dims, bytes,
// content}, where content is the tensor's chunk ids for large tensors (exactly the pointer's) and the
// sha256 of the payload for small ones, so equal weights compare equal across versions and files.
// Must never: decode payloads (there are none in the compact form), or fail on fields or enum values
// that a newer ONNX adds (they are skipped or shown by number).

import { createHash } from 'node:crypto';
import type { Pointer } from '../codec/pointer.js';
import { partContent } from '../model/source.js';
import { dtypeName } from './dtypes.js';
import { int64Text, modelProtoType, toNumber } from './schema.js';
import { PAYLOAD_MARKER, walkSkeleton, type Payload } from './skeleton.js';

export interface TensorInfo {
  name: string;
  dtype: string;
  dims: number[];
  /** payload bytes (0 for external data or strings) */
  bytes: number;
  /** equal content <=> equal bytes: chunk ids, or sha256 of the payload */
  content: string;
  /** set when the data lives in another file (external data) */
  external?: string;
}

export interface AttrInfo {
  name: string;
  /** canonical text of the value, without tensor contents (structure) */
  value: string;
  tensors: TensorInfo[];
  graphs: GraphInfo[];
}

export interface NodeInfo {
  index: number;
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: AttrInfo[];
}

export interface ValueInfo {
  name: string;
  type: string;
}

export interface GraphInfo {
  name: string;
  nodes: NodeInfo[];
  initializers: Map<string, TensorInfo>;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

export interface ModelInfo {
  irVersion: number;
  producer: string;
  opsets: Record<string, number>;
  metadata: Record<string, string>;
  graph: GraphInfo;
  functions: { name: string; domain: string; graph: GraphInfo }[];
  /** every payload of the file in order (large and small), from the skeleton walk */
  payloads: Payload[];
}

type Obj = Record<string, unknown>;
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

const ATTR_TYPES: Record<number, string> = {
  1: 'float',
  2: 'int',
  3: 'string',
  4: 'tensor',
  5: 'graph',
  6: 'floats',
  7: 'ints',
  8: 'strings',
  9: 'tensors',
  10: 'graphs',
  11: 'sparse_tensor',
  12: 'sparse_tensors',
  13: 'type_proto',
  14: 'type_protos',
};

function sha(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function floatText(v: unknown): string {
  const n = typeof v === 'number' ? v : 0;
  return String(Number(n.toPrecision(9)));
}

class Decoder {
  constructor(
    private readonly pointer: Pointer,
    private readonly payloads: Payload[],
  ) {}

  tensor(t: Obj): TensorInfo {
    const dims = arr(t.dims).map((d) => toNumber(d));
    const dtype = dtypeName(toNumber(t.data_type));
    const markers: number[] = [];
    let location: string | undefined;
    for (const e of arr(t.external_data)) {
      if (e.key === PAYLOAD_MARKER) markers.push(Number(e.value));
      else if (e.key === 'location') location = str(e.value);
    }
    const external = toNumber(t.data_location) === 1 ? location ?? '?' : undefined;
    const contents: string[] = [];
    let bytes = 0;
    for (const m of markers) {
      const p = this.payloads[m];
      if (!p) continue;
      bytes += p.length;
      if (p.part !== undefined) {
        const part = this.pointer.parts[p.part];
        contents.push(part && part.kind === 'tensor' ? partContent(part) : '?');
      } else {
        contents.push(sha(p.bytes ?? Buffer.alloc(0)));
      }
    }
    if (contents.length === 0) {
      // No payload: strings, unpacked values or external data. Hash what describes the data.
      const rest = {
        s: arr(t.string_data).map((b) => Buffer.from(b as unknown as Uint8Array).toString('base64')),
        f: t.float_data,
        i: arr(t.int32_data),
        l: arr(t.int64_data).map(int64Text),
        d: t.double_data,
        u: arr(t.uint64_data).map(int64Text),
        x: arr(t.external_data).map((e) => `${str(e.key)}=${str(e.value)}`),
      };
      contents.push(sha(JSON.stringify(rest)));
    }
    return { name: str(t.name), dtype, dims, bytes, content: contents.join(','), external };
  }

  sparse(s: Obj): TensorInfo {
    const values = s.values ? this.tensor(s.values as Obj) : undefined;
    const indices = s.indices ? this.tensor(s.indices as Obj) : undefined;
    const dims = arr(s.dims).map((d) => toNumber(d));
    return {
      name: values?.name ?? '',
      dtype: `sparse:${values?.dtype ?? '?'}`,
      dims,
      bytes: (values?.bytes ?? 0) + (indices?.bytes ?? 0),
      content: `${values?.content ?? ''}|${indices?.content ?? ''}`,
    };
  }

  type(t: Obj | undefined): string {
    if (!t) return '?';
    const shape = (s: Obj | undefined): string => {
      if (!s) return '';
      return `[${arr(s.dim)
        .map((d) => (d.dim_param ? str(d.dim_param) : d.dim_value !== undefined && d.dim_value !== null ? int64Text(d.dim_value) : '?'))
        .join(',')}]`;
    };
    if (t.tensor_type) {
      const tt = t.tensor_type as Obj;
      return dtypeName(toNumber(tt.elem_type)) + shape(tt.shape as Obj | undefined);
    }
    if (t.sparse_tensor_type) {
      const tt = t.sparse_tensor_type as Obj;
      return 'sparse:' + dtypeName(toNumber(tt.elem_type)) + shape(tt.shape as Obj | undefined);
    }
    if (t.sequence_type) return `seq(${this.type((t.sequence_type as Obj).elem_type as Obj)})`;
    if (t.optional_type) return `optional(${this.type((t.optional_type as Obj).elem_type as Obj)})`;
    if (t.map_type) {
      const m = t.map_type as Obj;
      return `map(${dtypeName(toNumber(m.key_type))},${this.type(m.value_type as Obj)})`;
    }
    if (t.opaque_type) return `opaque(${str((t.opaque_type as Obj).domain)}.${str((t.opaque_type as Obj).name)})`;
    return '?';
  }

  attr(a: Obj): AttrInfo {
    const name = str(a.name);
    const out: AttrInfo = { name, value: '', tensors: [], graphs: [] };
    if (a.ref_attr_name) {
      out.value = `@${str(a.ref_attr_name)}`;
      return out;
    }
    let type = ATTR_TYPES[toNumber(a.type)];
    if (!type) {
      // IR version 1 had no type field: infer it from the field present.
      type = a.t ? 'tensor' : a.g ? 'graph' : a.s && (a.s as Uint8Array).length ? 'string' : arr(a.ints).length ? 'ints' : arr(a.floats).length ? 'floats' : a.i !== undefined ? 'int' : 'float';
    }
    const bytesText = (b: unknown) => JSON.stringify(Buffer.from((b as Uint8Array) ?? []).toString('utf8'));
    const tensorText = (t: TensorInfo) => `${t.dtype}[${t.dims.join(',')}]`;
    switch (type) {
      case 'float':
        out.value = floatText(a.f);
        break;
      case 'int':
        out.value = int64Text(a.i);
        break;
      case 'string':
        out.value = bytesText(a.s);
        break;
      case 'floats':
        out.value = `[${arr(a.floats).map(floatText).join(',')}]`;
        break;
      case 'ints':
        out.value = `[${arr(a.ints).map(int64Text).join(',')}]`;
        break;
      case 'strings':
        out.value = `[${arr(a.strings).map(bytesText).join(',')}]`;
        break;
      case 'tensor':
        out.tensors = a.t ? [this.tensor(a.t as Obj)] : [];
        out.value = out.tensors.map(tensorText).join(',');
        break;
      case 'tensors':
        out.tensors = arr(a.tensors).map((t) => this.tensor(t));
        out.value = `[${out.tensors.map(tensorText).join(',')}]`;
        break;
      case 'sparse_tensor':
        out.tensors = a.sparse_tensor ? [this.sparse(a.sparse_tensor as Obj)] : [];
        out.value = out.tensors.map(tensorText).join(',');
        break;
      case 'sparse_tensors':
        out.tensors = arr(a.sparse_tensors).map((t) => this.sparse(t));
        out.value = `[${out.tensors.map(tensorText).join(',')}]`;
        break;
      case 'graph':
        out.graphs = a.g ? [this.graph(a.g as Obj)] : [];
        out.value = 'graph';
        break;
      case 'graphs':
        out.graphs = arr(a.graphs).map((g) => this.graph(g));
        out.value = `graphs(${out.graphs.length})`;
        break;
      case 'type_proto':
        out.value = this.type(a.tp as Obj | undefined);
        break;
      case 'type_protos':
        out.value = `[${arr(a.type_protos).map((t) => this.type(t)).join(',')}]`;
        break;
      default:
        out.value = `?${type}`;
    }
    return out;
  }

  node(n: Obj, index: number): NodeInfo {
    return {
      index,
      name: str(n.name),
      opType: str(n.op_type),
      domain: str(n.domain),
      inputs: arr(n.input).map((s) => str(s)),
      outputs: arr(n.output).map((s) => str(s)),
      attrs: arr(n.attribute).map((a) => this.attr(a)),
    };
  }

  graph(g: Obj): GraphInfo {
    const initializers = new Map<string, TensorInfo>();
    for (const t of arr(g.initializer)) {
      const info = this.tensor(t);
      initializers.set(info.name, info);
    }
    for (const s of arr(g.sparse_initializer)) {
      const info = this.sparse(s);
      initializers.set(info.name, info);
    }
    return {
      name: str(g.name),
      nodes: arr(g.node).map((n, i) => this.node(n, i)),
      initializers,
      inputs: arr(g.input).map((v) => ({ name: str(v.name), type: this.type(v.type as Obj | undefined) })),
      outputs: arr(g.output).map((v) => ({ name: str(v.name), type: this.type(v.type as Obj | undefined) })),
    };
  }
}

/** Decodes the structure of the model a pointer names, from its skeleton bytes alone. */
export function decodeStructure(pointer: Pointer, skeleton: Buffer): ModelInfo {
  const { compact, payloads } = walkSkeleton(pointer, skeleton);
  const m = modelProtoType().decode(compact) as unknown as Obj;
  const d = new Decoder(pointer, payloads);
  const opsets: Record<string, number> = {};
  for (const o of arr(m.opset_import)) opsets[str(o.domain) || 'ai.onnx'] = toNumber(o.version);
  const metadata: Record<string, string> = {};
  for (const e of arr(m.metadata_props)) metadata[str(e.key)] = str(e.value);
  const producer = [str(m.producer_name), str(m.producer_version)].filter(Boolean).join(' ');
  return {
    irVersion: toNumber(m.ir_version),
    producer,
    opsets,
    metadata,
    graph: m.graph ? d.graph(m.graph as Obj) : { name: '', nodes: [], initializers: new Map(), inputs: [], outputs: [] },
    functions: arr(m.functions).map((fn) => ({
      name: str(fn.name),
      domain: str(fn.domain),
      graph: {
        name: str(fn.name),
        nodes: arr(fn.node).map((n, i) => d.node(n, i)),
        initializers: new Map(),
        inputs: arr(fn.input).map((s) => ({ name: str(s), type: '?' })),
        outputs: arr(fn.output).map((s) => ({ name: str(s), type: '?' })),
      },
    })),
    payloads,
  };
}

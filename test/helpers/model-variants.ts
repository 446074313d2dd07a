// Test helper: variants of one small MLP for diff and merge tests: weights replaced, tensors renamed
// or reshaped, a node inserted (a structure change), other dtypes. Every variant is a valid ONNX model
// that onnxruntime runs (unless a test reshapes a weight on purpose).
// Must never: be imported by production code.

import * as fs from 'node:fs';
import { scanOnnxFile } from '../../src/onnx/scan.js';
import { DT, floatsBuffer, graph, model, mlpTensors, node, tensor, valueInfo, type TensorSpec } from './onnx-builder.js';

export interface Variant {
  seed?: number;
  layers?: number;
  width?: number;
  /** new raw bytes (and optionally dims/dtype) per tensor name */
  replace?: Record<string, Buffer | { raw: Buffer; dims?: number[]; dtype?: number }>;
  /** tensor name -> new name (the graph follows) */
  rename?: Record<string, string>;
  /** insert this unary op (Relu, Sigmoid...) after the first layer: a structure change */
  insert?: string;
  /** op of the per-layer bias node (Add by default) */
  biasOp?: string;
  /** extra initializers that no node uses */
  extra?: TensorSpec[];
}

export function variantTensors(v: Variant = {}): TensorSpec[] {
  const specs = mlpTensors({ seed: v.seed ?? 1, layers: v.layers ?? 2, width: v.width ?? 16 }).map((s) => ({ ...s }));
  for (const s of specs) {
    const r = v.replace?.[s.name];
    if (r) {
      if (Buffer.isBuffer(r)) s.raw = r;
      else {
        s.raw = r.raw;
        if (r.dims) s.dims = r.dims;
        if (r.dtype !== undefined) s.dtype = r.dtype;
      }
    }
  }
  return [...specs, ...(v.extra ?? [])];
}

/** The model bytes of a variant. */
export function variantModel(v: Variant = {}): Buffer {
  const layers = v.layers ?? 2;
  const width = v.width ?? 16;
  const name = (n: string) => v.rename?.[n] ?? n;
  const specs = variantTensors(v).map((s) => ({ ...s, name: name(s.name) }));
  const nodes: Buffer[] = [];
  let h = 'x';
  for (let i = 0; i < layers; i++) {
    const out = i === layers - 1 ? 'y' : `h${i + 1}`;
    nodes.push(node({ opType: 'MatMul', inputs: [h, name(`layer${i}.weight`)], outputs: [`mm${i}`], name: `matmul_${i}` }));
    const added = i === 0 && v.insert ? `pre${i}` : out;
    nodes.push(node({ opType: v.biasOp ?? 'Add', inputs: [`mm${i}`, name(`layer${i}.bias`)], outputs: [added], name: `add_${i}` }));
    if (i === 0 && v.insert) nodes.push(node({ opType: v.insert, inputs: [added], outputs: [out], name: `act_${i}` }));
    h = out;
  }
  return model({
    graph: graph({
      name: 'mlp',
      nodes,
      initializers: specs.map(tensor),
      inputs: [valueInfo('x', DT.FLOAT, [1, width])],
      outputs: [valueInfo('y', DT.FLOAT, [1, width])],
    }),
  });
}

/** A copy of float32 bytes with `f` applied to each value. */
export function mapFloats(buf: Buffer, f: (x: number, i: number) => number): Buffer {
  const a = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  return floatsBuffer(a.map((x, i) => f(x, i)));
}

/** Float32 values of a buffer. */
export function floats(buf: Buffer): Float32Array {
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** Every tensor payload of an ONNX file, by tensor name (first occurrence). */
export function payloadsOf(file: string): Map<string, Buffer> {
  const data = fs.readFileSync(file);
  const out = new Map<string, Buffer>();
  for (const t of scanOnnxFile(file)) if (!out.has(t.name)) out.set(t.name, data.subarray(t.offset, t.offset + t.length));
  return out;
}

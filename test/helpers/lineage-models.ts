// Test helper: small model families for lineage tests. A base MLP (onnx-builder's mlpTensors) and
// models derived from it the way real ones are: fine-tuned (some tensors nudged, the rest identical),
// quantized to fp16, re-exported (same tensors, other graph bytes). Deterministic for a seed.
// Never imported by production code.

import { DT, graph, mlpTensors, model, node, perturb, tensor, valueInfo, type TensorSpec } from './onnx-builder.js';

export const WIDTH = 32;
export const LAYERS = 3;

/** An MLP model around the given initializers (names and shapes as mlpTensors makes them). */
export function mlpWith(specs: TensorSpec[], opts: { producer?: string; width?: number; layers?: number } = {}): Buffer {
  const width = opts.width ?? WIDTH;
  const layers = opts.layers ?? LAYERS;
  const nodes: Buffer[] = [];
  let h = 'x';
  for (let i = 0; i < layers; i++) {
    const out = i === layers - 1 ? 'y' : `h${i + 1}`;
    nodes.push(node({ opType: 'MatMul', inputs: [h, `layer${i}.weight`], outputs: [`mm${i}`], name: `matmul_${i}` }));
    nodes.push(node({ opType: 'Add', inputs: [`mm${i}`, `layer${i}.bias`], outputs: [out], name: `add_${i}` }));
    h = out;
  }
  const elem = specs[0]?.dtype ?? DT.FLOAT;
  return model({
    producer: opts.producer,
    graph: graph({ name: 'mlp', nodes, initializers: specs.map(tensor), inputs: [valueInfo('x', elem, [1, width])], outputs: [valueInfo('y', elem, [1, width])] }),
  });
}

/** The tensors of a base model. */
export function baseTensors(seed: number, opts: { width?: number; layers?: number } = {}): TensorSpec[] {
  return mlpTensors({ seed, layers: opts.layers ?? LAYERS, width: opts.width ?? WIDTH });
}

export function baseModel(seed: number): Buffer {
  return mlpWith(baseTensors(seed));
}

/** A fine-tune: weights nudged (fraction of elements, relative scale); biases kept identical. */
export function finetuned(parent: TensorSpec[], seed: number, opts: { fraction?: number; scale?: number } = {}): TensorSpec[] {
  return parent.map((t, i) => (t.name.endsWith('.weight') ? { ...t, raw: perturb(t.raw!, seed + i, opts.fraction ?? 0.5, opts.scale ?? 0.05) } : t));
}

function toHalf(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  const mant = u & 0x7fffff;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | (mant >>> 13);
}

/** fp16 quantization: same names and shapes, half-precision values. */
export function quantizedFp16(parent: TensorSpec[]): TensorSpec[] {
  return parent.map((t) => {
    const src = t.raw!;
    const out = Buffer.alloc(src.length / 2);
    for (let i = 0; i < src.length / 4; i++) out.writeUInt16LE(toHalf(src.readFloatLE(i * 4)), i * 2);
    return { ...t, dtype: DT.FLOAT16, raw: out };
  });
}

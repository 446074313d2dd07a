// Shared by demo and bench. Owns: the generated, seeded model families: the demo's lineage (a
// multi-MB MLP in versions, fine-tunes, a pruned and an fp16 variant) and the bench's ~1 GiB model
// pair, written with streaming writes so that no more than one layer is in memory at a time.
// Encoding goes through the test fixture encoder; nothing here uses unseeded randomness.

import * as fs from 'node:fs';
import {
  DT,
  fieldBytes,
  fieldString,
  fieldVarint,
  floatsBuffer,
  graph,
  key,
  model,
  node,
  perturb,
  seededFloats,
  subSeed,
  tensor,
  valueInfo,
  varint,
} from '../../test/helpers/onnx-builder.js';
import { letSignalsIn } from './env.js';
import { float32ToFloat16Bytes } from './fp16.js';

/** One dense layer: float32 little-endian bytes of weight [width,width] and bias [width]. */
export interface Layer {
  weight: Buffer;
  bias: Buffer;
}

export interface GeneratedModel {
  /** repository path */
  path: string;
  label: string;
  message: string;
  bytes: Buffer;
}

// ---------------------------------------------------------------------------------------------
// The demo family

/** MatMul + Add (+ Relu between layers) over the layers; input x [1,width] -> y [1,width]. */
function mlpOnnx(layers: Layer[], width: number, opts: { fp16?: boolean; name: string }): Buffer {
  const dtype = opts.fp16 ? DT.FLOAT16 : DT.FLOAT;
  const cast = (b: Buffer) => (opts.fp16 ? float32ToFloat16Bytes(b) : b);
  const nodes: Buffer[] = [];
  const inits: Buffer[] = [];
  let h = 'x';
  layers.forEach((l, i) => {
    const last = i === layers.length - 1;
    const w = `layer${i}.weight`;
    const b = `layer${i}.bias`;
    inits.push(tensor({ name: w, dtype, dims: [width, width], raw: cast(l.weight) }));
    inits.push(tensor({ name: b, dtype, dims: [width], raw: cast(l.bias) }));
    nodes.push(node({ opType: 'MatMul', inputs: [h, w], outputs: [`mm${i}`], name: `matmul_${i}` }));
    nodes.push(node({ opType: 'Add', inputs: [`mm${i}`, b], outputs: [last ? 'y' : `pre${i}`], name: `add_${i}` }));
    if (!last) nodes.push(node({ opType: 'Relu', inputs: [`pre${i}`], outputs: [`h${i + 1}`], name: `relu_${i}` }));
    h = `h${i + 1}`;
  });
  return model({
    producer: 'mgit-demo',
    graph: graph({
      name: opts.name,
      nodes,
      initializers: inits,
      inputs: [valueInfo('x', dtype, [1, width])],
      outputs: [valueInfo('y', dtype, [1, width])],
    }),
  });
}

function seededLayers(seed: number, count: number, width: number): Layer[] {
  return Array.from({ length: count }, (_, i) => ({
    weight: floatsBuffer(seededFloats(subSeed(seed, 2 * i), width * width)),
    bias: floatsBuffer(seededFloats(subSeed(seed, 2 * i + 1), width)),
  }));
}

/** Every element of the chosen layers nudged by a relative `scale` (what a round of training does). */
function train(layers: Layer[], seed: number, scale: number, which: (i: number) => boolean): Layer[] {
  return layers.map((l, i) =>
    which(i) ? { weight: perturb(l.weight, subSeed(seed, 2 * i), 1, scale), bias: perturb(l.bias, subSeed(seed, 2 * i + 1), 1, scale) } : l,
  );
}

/** Magnitude pruning: in each weight matrix the smaller half of |w| becomes 0 (biases stay). */
function pruneHalf(layers: Layer[]): Layer[] {
  return layers.map((l) => {
    const w = new Float32Array(l.weight.buffer.slice(l.weight.byteOffset, l.weight.byteOffset + l.weight.length));
    const mags = w.map(Math.abs).sort();
    const threshold = mags[Math.floor(mags.length / 2)]!;
    for (let i = 0; i < w.length; i++) if (Math.abs(w[i]!) < threshold) w[i] = 0;
    return { weight: floatsBuffer(w), bias: l.bias };
  });
}

export interface DemoFamilyOptions {
  seed?: number;
  layers?: number;
  width?: number;
}

/**
 * The demo's lineage, in commit order: models/base.onnx v1..v3 (v2 = all weights trained a little
 * further, v3 = only the last two layers), then derived models at their own paths.
 */
export function demoFamily(opts: DemoFamilyOptions = {}): GeneratedModel[] {
  const { seed = 20240601, layers: count = 4, width = 512 } = opts;
  const last = count - 1;
  const v1 = seededLayers(seed, count, width);
  const v2 = train(v1, seed + 1, 0.01, () => true);
  const v3 = train(v2, seed + 2, 0.01, (i) => i >= last - 1);
  const head = train(v3, seed + 3, 0.2, (i) => i === last);
  const full = train(v3, seed + 4, 0.005, () => true);
  const onnx = (ls: Layer[], fp16 = false) => mlpOnnx(ls, width, { name: 'demo_mlp', fp16 });
  const base = 'models/base.onnx';
  return [
    { path: base, label: 'base v1', message: 'base model v1: trained from scratch', bytes: onnx(v1) },
    { path: base, label: 'base v2', message: 'base model v2: every weight trained further', bytes: onnx(v2) },
    { path: base, label: 'base v3', message: 'base model v3: last two layers trained further', bytes: onnx(v3) },
    { path: 'models/finetune-head.onnx', label: 'finetune-head', message: 'fine-tune of base v3: head only', bytes: onnx(head) },
    { path: 'models/finetune-full.onnx', label: 'finetune-full', message: 'fine-tune of base v3: all layers', bytes: onnx(full) },
    { path: 'models/pruned.onnx', label: 'pruned', message: 'base v3 pruned: 50% of weights zeroed by magnitude', bytes: onnx(pruneHalf(v3)) },
    { path: 'models/fp16.onnx', label: 'fp16', message: 'base v3 cast to float16', bytes: onnx(v3, true) },
  ];
}

// ---------------------------------------------------------------------------------------------
// The bench's large model

export interface BigModelOptions {
  layers: number;
  width: number;
  seed: number;
  /** layers that the fine-tuned version changes */
  changed: (i: number) => boolean;
}

/**
 * Writes v1 (a chain of float32 MatMul layers, seeded N(0, 0.05) weights) and v2 (the same with the
 * `changed` layers fine-tuned) to two files in one pass. The ModelProto is assembled by hand around
 * the tensor payloads: lengths are known up front, so each layer is generated, written and dropped.
 */
export async function writeBigModelPair(v1Path: string, v2Path: string, opts: BigModelOptions): Promise<number> {
  const { layers, width, seed } = opts;
  const payload = width * width * 4;
  const names = Array.from({ length: layers }, (_, i) => `layer${i}.weight`);
  // tensor() writes dims, data_type, name, then raw_data (field 9): the header is the tensor minus raw_data.
  const heads = names.map((n) => Buffer.concat([tensor({ name: n, dtype: DT.FLOAT, dims: [width, width] }), key(9, 2), varint(payload)]));
  const initHeads = heads.map((h) => Buffer.concat([key(5, 2), varint(h.length + payload)]));
  const nodeBufs = names.map((n, i) =>
    fieldBytes(1, node({ opType: 'MatMul', inputs: [i === 0 ? 'x' : `h${i}`, n], outputs: [i === layers - 1 ? 'y' : `h${i + 1}`], name: `matmul_${i}` })),
  );
  const graphHead = Buffer.concat([...nodeBufs, fieldString(2, 'big_mlp')]);
  const graphTail = Buffer.concat([
    fieldBytes(11, valueInfo('x', DT.FLOAT, [1, width])),
    fieldBytes(12, valueInfo('y', DT.FLOAT, [1, width])),
  ]);
  const graphLen = graphHead.length + graphTail.length + heads.reduce((a, h, i) => a + initHeads[i]!.length + h.length + payload, 0);
  const modelHead = Buffer.concat([fieldVarint(1, 8), fieldString(2, 'mgit-bench'), key(7, 2), varint(graphLen), graphHead]);
  const modelTail = Buffer.concat([graphTail, fieldBytes(8, fieldVarint(2, 17))]);

  const fds = [fs.openSync(v1Path, 'w'), fs.openSync(v2Path, 'w')];
  try {
    const both = (b: Buffer) => fds.forEach((fd) => writeAll(fd, b));
    both(modelHead);
    for (let i = 0; i < layers; i++) {
      both(initHeads[i]!);
      both(heads[i]!);
      const w = floatsBuffer(seededFloats(subSeed(seed, i), width * width));
      writeAll(fds[0]!, w);
      writeAll(fds[1]!, opts.changed(i) ? perturb(w, subSeed(seed + 1, i), 1, 0.01) : w);
      await letSignalsIn();
    }
    both(modelTail);
  } finally {
    fds.forEach((fd) => fs.closeSync(fd));
  }
  return fs.statSync(v1Path).size;
}

function writeAll(fd: number, b: Buffer): void {
  for (let off = 0; off < b.length; ) off += fs.writeSync(fd, b, off, b.length - off);
}

// Built-in test kinds that need no script: `golden` (stored inputs, expected outputs, tolerance) and
// `accuracy` (a labelled dataset, a threshold), run with onnxruntime-node on the CPU. onnxruntime-node
// is loaded only when such a test runs, so mgit works without it for everything else. File formats
// are in docs/tests.md. Never writes anything but the golden file `recordGolden` is asked to fill.

import * as fs from 'node:fs';
import { MgitError } from '../errors.js';

type Ort = typeof import('onnxruntime-node');
let ortPromise: Promise<Ort> | undefined;

async function ort(): Promise<Ort> {
  ortPromise ??= import('onnxruntime-node').catch((e: unknown) => {
    throw new MgitError('ENOORT', `built-in golden and accuracy tests need onnxruntime-node (npm install onnxruntime-node): ${(e as Error).message.split('\n')[0]}`);
  });
  return ortPromise;
}

export interface TensorJson {
  dtype?: 'float32' | 'int64' | 'int32' | 'float64';
  dims: number[];
  data: number[];
}

export interface GoldenFile {
  inputs: Record<string, TensorJson>;
  outputs?: Record<string, TensorJson>;
}

export interface DatasetFile {
  /** input name; default: the model's first input */
  input?: string;
  /** output name; default: the model's first output */
  output?: string;
  /** shape of one sample, e.g. [1, 8, 8]; the batch dimension is added in front */
  dims: number[];
  /** all samples, flattened, float32 */
  x: number[];
  /** one integer label per sample */
  y: number[];
}

export interface BuiltinOutcome {
  pass: boolean;
  metrics: Record<string, number>;
  detail: string;
}

function readJson<T>(file: string, what: string): T {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new MgitError('ETESTFILE', `cannot read ${what} ${file}: ${(e as Error).message}`);
  }
}

function toTensor(o: Ort, t: TensorJson): InstanceType<Ort['Tensor']> {
  const dtype = t.dtype ?? 'float32';
  if (dtype === 'int64') return new o.Tensor('int64', BigInt64Array.from(t.data.map((v) => BigInt(v))), t.dims);
  if (dtype === 'int32') return new o.Tensor('int32', Int32Array.from(t.data), t.dims);
  if (dtype === 'float64') return new o.Tensor('float64', Float64Array.from(t.data), t.dims);
  return new o.Tensor('float32', Float32Array.from(t.data), t.dims);
}

async function session(o: Ort, model: string) {
  try {
    return await o.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  } catch (e) {
    throw new MgitError('EMODELLOAD', `onnxruntime cannot load the model: ${(e as Error).message.split('\n')[0]}`);
  }
}

async function runGoldenInputs(o: Ort, model: string, g: GoldenFile) {
  const s = await session(o, model);
  try {
    const feeds: Record<string, InstanceType<Ort['Tensor']>> = {};
    for (const [name, t] of Object.entries(g.inputs)) feeds[name] = toTensor(o, t);
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

export async function runGolden(model: string, goldenFile: string, tolerance = 1e-4): Promise<BuiltinOutcome> {
  const g = readJson<GoldenFile>(goldenFile, 'golden file');
  if (!g.outputs) throw new MgitError('ETESTFILE', `golden file ${goldenFile} has no outputs (git mgit test add ... --record fills them)`);
  const o = await ort();
  const got = await runGoldenInputs(o, model, g);
  let maxDiff = 0;
  let worst = '';
  for (const [name, want] of Object.entries(g.outputs)) {
    const t = got[name];
    if (!t) return { pass: false, metrics: {}, detail: `the model has no output ${name}` };
    if (t.dims.join(',') !== want.dims.join(',')) return { pass: false, metrics: {}, detail: `output ${name} has shape [${t.dims}], expected [${want.dims}]` };
    const data = t.data as ArrayLike<number | bigint>;
    for (let i = 0; i < want.data.length; i++) {
      const d = Math.abs(Number(data[i]) - want.data[i]);
      if (!(d <= maxDiff)) {
        maxDiff = Number.isNaN(d) ? Infinity : d;
        worst = `${name}[${i}] = ${Number(data[i])}, expected ${want.data[i]}`;
      }
    }
  }
  const pass = maxDiff <= tolerance;
  return { pass, metrics: { max_abs_diff: maxDiff }, detail: pass ? `max |diff| ${maxDiff.toExponential(2)} <= ${tolerance}` : `max |diff| ${maxDiff.toExponential(2)} > tolerance ${tolerance} (worst: ${worst})` };
}

/** Fills a golden file's outputs from a model run (the model is taken to be right). */
export async function recordGolden(model: string, goldenFile: string): Promise<void> {
  const g = readJson<GoldenFile>(goldenFile, 'golden file');
  const o = await ort();
  const got = await runGoldenInputs(o, model, g);
  g.outputs = {};
  for (const [name, t] of Object.entries(got)) {
    g.outputs[name] = { dims: [...t.dims], data: Array.from(t.data as ArrayLike<number | bigint>, Number) };
  }
  fs.writeFileSync(goldenFile, JSON.stringify(g) + '\n');
}

export async function runAccuracy(model: string, datasetFile: string, threshold: number): Promise<BuiltinOutcome> {
  const ds = readJson<DatasetFile>(datasetFile, 'dataset');
  const per = ds.dims.reduce((a, b) => a * b, 1);
  const n = ds.y.length;
  if (ds.x.length !== n * per) throw new MgitError('ETESTFILE', `dataset ${datasetFile}: x has ${ds.x.length} values, expected ${n} samples x ${per}`);
  const o = await ort();
  const s = await session(o, model);
  let ok = 0;
  try {
    const input = ds.input ?? s.inputNames[0];
    const output = ds.output ?? s.outputNames[0];
    const r = await s.run({ [input]: new o.Tensor('float32', Float32Array.from(ds.x), [n, ...ds.dims]) });
    const t = r[output];
    if (!t) throw new MgitError('ETESTFILE', `the model has no output ${output}`);
    const L = t.data as Float32Array;
    const C = L.length / n;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (L[i * C + c] > L[i * C + best]) best = c;
      if (best === ds.y[i]) ok++;
    }
  } finally {
    await s.release();
  }
  const acc = n ? ok / n : 0;
  const pass = acc >= threshold;
  return { pass, metrics: { accuracy: acc }, detail: `accuracy ${acc.toFixed(4)} ${pass ? '>=' : '<'} threshold ${threshold} (${ok}/${n})` };
}

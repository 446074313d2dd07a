// Test helper: a tiny hand-written protobuf encoder for building ONNX models.
//
// Owns: deterministic test fixtures (models, seeded weights, fine-tune perturbations)
// encoded the way protobuf's C++ serializer does (fields in number order, proto2
// repeated scalars unpacked unless ONNX marks them [packed = true]).
// Must never: depend on a protobuf/onnx package, use unseeded randomness, or be
// imported by production code.

// ---------------------------------------------------------------------------
// Wire-level encoding

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/** ONNX TensorProto.DataType numbers used by the fixtures. */
export const DT = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT64: 13,
} as const;

/** Varint of a non-negative integer, or of a negative one as 64-bit two's complement (10 bytes). */
export function varint(value: number | bigint): Buffer {
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n;
  if (v < 0n || v >= 1n << 64n) throw new RangeError(`varint out of range: ${value}`);
  const bytes: number[] = [];
  while (v >= 0x80n) {
    bytes.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  bytes.push(Number(v));
  return Buffer.from(bytes);
}

export function key(field: number, wireType: number): Buffer {
  return varint(field * 8 + wireType);
}

export function fieldVarint(field: number, value: number | bigint): Buffer {
  return Buffer.concat([key(field, WIRE_VARINT), varint(value)]);
}

export function fieldBytes(field: number, bytes: Buffer): Buffer {
  return Buffer.concat([key(field, WIRE_LEN), varint(bytes.length), bytes]);
}

export function fieldString(field: number, s: string): Buffer {
  return fieldBytes(field, Buffer.from(s, 'utf8'));
}

export function fieldFloat(field: number, f: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeFloatLE(f);
  return Buffer.concat([key(field, WIRE_FIXED32), b]);
}

export function fieldDouble(field: number, f: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(f);
  return Buffer.concat([key(field, WIRE_FIXED64), b]);
}

/** Concatenated varints: the body of a packed int32/int64/uint64 field. */
export function packedVarints(values: readonly (number | bigint)[]): Buffer {
  return Buffer.concat(values.map((v) => varint(v)));
}

export function float32Bytes(values: ArrayLike<number>): Buffer {
  const b = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) b.writeFloatLE(values[i]!, i * 4);
  return b;
}

export function float64Bytes(values: ArrayLike<number>): Buffer {
  const b = Buffer.alloc(values.length * 8);
  for (let i = 0; i < values.length; i++) b.writeDoubleLE(values[i]!, i * 8);
  return b;
}

function optional(cond: unknown, make: () => Buffer): Buffer {
  return cond ? make() : Buffer.alloc(0);
}

// ---------------------------------------------------------------------------
// ONNX messages

export interface ExternalDataRef {
  location: string;
  offset: number;
  length: number;
}

export interface TensorSpec {
  name: string;
  dtype: number;
  dims: number[];
  raw?: Buffer;
  /** TensorProto.float_data, packed. */
  floatData?: ArrayLike<number>;
  /** TensorProto.int32_data, packed varints (negative values take 10 bytes). */
  int32Data?: readonly number[];
  /** TensorProto.int64_data, packed varints. */
  int64Data?: readonly (bigint | number)[];
  /** TensorProto.double_data, packed. */
  doubleData?: ArrayLike<number>;
  /** TensorProto.uint64_data, packed varints. */
  uint64Data?: readonly (bigint | number)[];
  /** Sets external_data entries and data_location = EXTERNAL. */
  externalData?: ExternalDataRef;
  /** Write dims as one packed field instead of one varint field per dim (both are legal). */
  packedDims?: boolean;
}

/** A payload the scanner should report for a tensor, in file order. */
export interface ExpectedPayload {
  form: 'raw' | 'fixed' | 'varint';
  bytes: Buffer;
}

/** The non-empty payload fields of a tensor, in the order tensor() writes them. */
export function payloadBytes(spec: TensorSpec): ExpectedPayload[] {
  const parts: ExpectedPayload[] = [];
  if (spec.floatData) parts.push({ form: 'fixed', bytes: float32Bytes(spec.floatData) }); // 4
  if (spec.int32Data) parts.push({ form: 'varint', bytes: packedVarints(spec.int32Data) }); // 5
  if (spec.int64Data) parts.push({ form: 'varint', bytes: packedVarints(spec.int64Data) }); // 7
  if (spec.raw) parts.push({ form: 'raw', bytes: spec.raw }); // 9
  if (spec.doubleData) parts.push({ form: 'fixed', bytes: float64Bytes(spec.doubleData) }); // 10
  if (spec.uint64Data) parts.push({ form: 'varint', bytes: packedVarints(spec.uint64Data) }); // 11
  return parts.filter((p) => p.bytes.length > 0);
}

function stringEntry(field: number, k: string, v: string): Buffer {
  return fieldBytes(field, Buffer.concat([fieldString(1, k), fieldString(2, v)]));
}

/** TensorProto. */
export function tensor(spec: TensorSpec): Buffer {
  const dims = spec.packedDims
    ? optional(spec.dims.length > 0, () => fieldBytes(1, packedVarints(spec.dims)))
    : Buffer.concat(spec.dims.map((d) => fieldVarint(1, d)));
  const ext = spec.externalData;
  return Buffer.concat([
    dims,
    fieldVarint(2, spec.dtype),
    optional(spec.floatData, () => fieldBytes(4, float32Bytes(spec.floatData!))),
    optional(spec.int32Data, () => fieldBytes(5, packedVarints(spec.int32Data!))),
    optional(spec.int64Data, () => fieldBytes(7, packedVarints(spec.int64Data!))),
    optional(spec.name, () => fieldString(8, spec.name)),
    optional(spec.raw, () => fieldBytes(9, spec.raw!)),
    optional(spec.doubleData, () => fieldBytes(10, float64Bytes(spec.doubleData!))),
    optional(spec.uint64Data, () => fieldBytes(11, packedVarints(spec.uint64Data!))),
    optional(ext, () =>
      Buffer.concat([
        stringEntry(13, 'location', ext!.location),
        stringEntry(13, 'offset', String(ext!.offset)),
        stringEntry(13, 'length', String(ext!.length)),
      ]),
    ),
    optional(ext, () => fieldVarint(14, 1)),
  ]);
}

/** SparseTensorProto from encoded values/indices TensorProtos. */
export function sparseTensor(opts: { values: Buffer; indices: Buffer; dims: number[] }): Buffer {
  return Buffer.concat([
    fieldBytes(1, opts.values),
    fieldBytes(2, opts.indices),
    ...opts.dims.map((d) => fieldVarint(3, d)),
  ]);
}

// AttributeProto.AttributeType
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, INTS: 7, TENSORS: 9, GRAPHS: 10, SPARSE_TENSOR: 11 };

/** AttributeProto in field-number order: name(1), the value field, type(20); sparse values (22, 23) go after type. */
function attribute(name: string, value: Buffer, type: number, valueAfterType = false): Buffer {
  const typeField = fieldVarint(20, type);
  return Buffer.concat(valueAfterType ? [fieldString(1, name), typeField, value] : [fieldString(1, name), value, typeField]);
}

export function attrFloat(name: string, f: number): Buffer {
  return attribute(name, fieldFloat(2, f), ATTR.FLOAT);
}

export function attrInt(name: string, i: number | bigint): Buffer {
  return attribute(name, fieldVarint(3, i), ATTR.INT);
}

export function attrString(name: string, s: string): Buffer {
  return attribute(name, fieldString(4, s), ATTR.STRING);
}

export function attrTensor(name: string, tensorBuf: Buffer): Buffer {
  return attribute(name, fieldBytes(5, tensorBuf), ATTR.TENSOR);
}

export function attrGraph(name: string, graphBuf: Buffer): Buffer {
  return attribute(name, fieldBytes(6, graphBuf), ATTR.GRAPH);
}

export function attrInts(name: string, ints: readonly (number | bigint)[]): Buffer {
  return attribute(name, Buffer.concat(ints.map((i) => fieldVarint(8, i))), ATTR.INTS);
}

export function attrTensors(name: string, tensorBufs: readonly Buffer[]): Buffer {
  return attribute(name, Buffer.concat(tensorBufs.map((t) => fieldBytes(10, t))), ATTR.TENSORS);
}

export function attrGraphs(name: string, graphBufs: readonly Buffer[]): Buffer {
  return attribute(name, Buffer.concat(graphBufs.map((g) => fieldBytes(11, g))), ATTR.GRAPHS);
}

export function attrSparseTensor(name: string, sparseBuf: Buffer): Buffer {
  return attribute(name, fieldBytes(22, sparseBuf), ATTR.SPARSE_TENSOR, true);
}

/** NodeProto. `attributes` are encoded AttributeProtos (attrX helpers). */
export function node(opts: {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attributes?: Buffer[];
}): Buffer {
  return Buffer.concat([
    ...opts.inputs.map((s) => fieldString(1, s)),
    ...opts.outputs.map((s) => fieldString(2, s)),
    optional(opts.name, () => fieldString(3, opts.name!)),
    fieldString(4, opts.opType),
    ...(opts.attributes ?? []).map((a) => fieldBytes(5, a)),
    optional(opts.domain, () => fieldString(7, opts.domain!)),
  ]);
}

/** ValueInfoProto of a tensor; shape entries are dim values or symbolic dim params. */
export function valueInfo(name: string, elemType: number, shape?: (number | string)[]): Buffer {
  const dims = (shape ?? []).map((d) => fieldBytes(1, typeof d === 'number' ? fieldVarint(1, d) : fieldString(2, d)));
  const tensorType = Buffer.concat([
    fieldVarint(1, elemType),
    optional(shape, () => fieldBytes(2, Buffer.concat(dims))),
  ]);
  return Buffer.concat([fieldString(1, name), fieldBytes(2, fieldBytes(1, tensorType))]);
}

/** GraphProto. */
export function graph(opts: {
  name: string;
  nodes: Buffer[];
  initializers?: Buffer[];
  sparseInitializers?: Buffer[];
  inputs?: Buffer[];
  outputs?: Buffer[];
  valueInfos?: Buffer[];
}): Buffer {
  return Buffer.concat([
    ...opts.nodes.map((n) => fieldBytes(1, n)),
    fieldString(2, opts.name),
    ...(opts.initializers ?? []).map((t) => fieldBytes(5, t)),
    ...(opts.inputs ?? []).map((v) => fieldBytes(11, v)),
    ...(opts.outputs ?? []).map((v) => fieldBytes(12, v)),
    ...(opts.valueInfos ?? []).map((v) => fieldBytes(13, v)),
    ...(opts.sparseInitializers ?? []).map((s) => fieldBytes(15, s)),
  ]);
}

export interface OpsetId {
  domain: string;
  version: number;
}

function opsetImport(o: OpsetId): Buffer {
  return Buffer.concat([optional(o.domain, () => fieldString(1, o.domain)), fieldVarint(2, o.version)]);
}

/** FunctionProto (model-local function). */
export function functionProto(opts: {
  name: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  nodes: Buffer[];
  opsets?: OpsetId[];
}): Buffer {
  return Buffer.concat([
    fieldString(1, opts.name),
    ...opts.inputs.map((s) => fieldString(4, s)),
    ...opts.outputs.map((s) => fieldString(5, s)),
    ...opts.nodes.map((n) => fieldBytes(7, n)),
    ...(opts.opsets ?? [{ domain: '', version: 17 }]).map((o) => fieldBytes(9, opsetImport(o))),
    fieldString(10, opts.domain),
  ]);
}

/** TrainingInfoProto. */
export function trainingInfo(opts: { initialization?: Buffer; algorithm?: Buffer }): Buffer {
  return Buffer.concat([
    optional(opts.initialization, () => fieldBytes(1, opts.initialization!)),
    optional(opts.algorithm, () => fieldBytes(2, opts.algorithm!)),
  ]);
}

/** ModelProto. `opsets` are imported in addition to the default domain at `opset`. */
export function model(opts: {
  graph: Buffer;
  irVersion?: number;
  opset?: number;
  producer?: string;
  opsets?: OpsetId[];
  functions?: Buffer[];
  trainingInfo?: Buffer[];
}): Buffer {
  const opsets = [{ domain: '', version: opts.opset ?? 17 }, ...(opts.opsets ?? [])];
  return Buffer.concat([
    fieldVarint(1, opts.irVersion ?? 8),
    fieldString(2, opts.producer ?? 'mgit-test'),
    fieldBytes(7, opts.graph),
    ...opsets.map((o) => fieldBytes(8, opsetImport(o))),
    ...(opts.trainingInfo ?? []).map((t) => fieldBytes(20, t)),
    ...(opts.functions ?? []).map((f) => fieldBytes(25, f)),
  ]);
}

// ---------------------------------------------------------------------------
// Deterministic numbers

/** mulberry32: tiny, fast, good enough for fixtures. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): number {
  // Box-Muller; 1 - u keeps log() away from 0.
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Derives independent seeds for the tensors of one fixture. */
export function subSeed(seed: number, index: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
}

/** n float32 values ~ N(0, 0.05), deterministic for a seed. */
export function seededFloats(seed: number, n: number): Float32Array {
  const rand = prng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.05 * gaussian(rand);
  return out;
}

/** A Buffer view of a Float32Array's bytes (little-endian on every platform Node supports). */
export function floatsBuffer(values: Float32Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

/**
 * A "fine-tuned" copy of float32 bytes: a `fraction` of the elements (chosen by `seed`)
 * get a small relative change, x * (1 + scale * N(0,1)); the rest stay bit-identical.
 */
export function perturb(buf: Buffer, seed: number, fraction: number, scale: number): Buffer {
  if (buf.length % 4 !== 0) throw new RangeError('perturb expects float32 bytes');
  const out = Buffer.from(buf);
  const rand = prng(seed);
  for (let off = 0; off < out.length; off += 4) {
    if (rand() >= fraction) continue;
    const x = out.readFloatLE(off);
    out.writeFloatLE(x * (1 + scale * gaussian(rand)), off);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Ready-made fixtures. Each `xxxTensors()` lists the tensors its model holds, in file
// order, so tests can check scanner output against what was put in.

export interface MlpOptions {
  seed?: number;
  layers?: number;
  width?: number;
}

/** Weights of mlpModel: per layer `layerI.weight` [width,width] then `layerI.bias` [width]. */
export function mlpTensors(opts: MlpOptions = {}): TensorSpec[] {
  const { seed = 1, layers = 2, width = 16 } = opts;
  const specs: TensorSpec[] = [];
  for (let i = 0; i < layers; i++) {
    const w = seededFloats(subSeed(seed, 2 * i), width * width);
    const b = seededFloats(subSeed(seed, 2 * i + 1), width);
    specs.push({ name: `layer${i}.weight`, dtype: DT.FLOAT, dims: [width, width], raw: floatsBuffer(w) });
    specs.push({ name: `layer${i}.bias`, dtype: DT.FLOAT, dims: [width], raw: floatsBuffer(b) });
  }
  return specs;
}

/** MatMul + Add layers over initializers; input x [1,width] -> output y [1,width]. */
function mlpGraph(width: number, layers: number, initializers: Buffer[]): Buffer {
  const nodes: Buffer[] = [];
  let h = 'x';
  for (let i = 0; i < layers; i++) {
    const out = i === layers - 1 ? 'y' : `h${i + 1}`;
    nodes.push(node({ opType: 'MatMul', inputs: [h, `layer${i}.weight`], outputs: [`mm${i}`], name: `matmul_${i}` }));
    nodes.push(node({ opType: 'Add', inputs: [`mm${i}`, `layer${i}.bias`], outputs: [out], name: `add_${i}` }));
    h = out;
  }
  return graph({
    name: 'mlp',
    nodes,
    initializers,
    inputs: [valueInfo('x', DT.FLOAT, [1, width])],
    outputs: [valueInfo('y', DT.FLOAT, [1, width])],
  });
}

/** A valid, onnxruntime-runnable MLP with float32 raw_data initializers. */
export function mlpModel(opts: MlpOptions = {}): Buffer {
  const { layers = 2, width = 16 } = opts;
  if (layers < 1) throw new RangeError('mlpModel needs at least one layer');
  const inits = mlpTensors(opts).map(tensor);
  return model({ graph: mlpGraph(width, layers, inits) });
}

const FIXTURE_WIDTH = 8;

/** Tensors of constantNodeModel: the `value` of each Constant node. */
export function constantNodeTensors(): TensorSpec[] {
  const n = FIXTURE_WIDTH;
  return [
    { name: 'const_w', dtype: DT.FLOAT, dims: [n, n], raw: floatsBuffer(seededFloats(201, n * n)) },
    { name: 'const_b', dtype: DT.FLOAT, dims: [n], raw: floatsBuffer(seededFloats(202, n)) },
  ];
}

/** Weights held in Constant nodes instead of initializers (as many exporters do). */
export function constantNodeModel(): Buffer {
  const [w, b] = constantNodeTensors().map(tensor);
  const n = FIXTURE_WIDTH;
  return model({
    graph: graph({
      name: 'constants',
      nodes: [
        node({ opType: 'Constant', inputs: [], outputs: ['w'], name: 'const_w', attributes: [attrTensor('value', w!)] }),
        node({ opType: 'Constant', inputs: [], outputs: ['b'], name: 'const_b', attributes: [attrTensor('value', b!)] }),
        node({ opType: 'MatMul', inputs: ['x', 'w'], outputs: ['mm'], name: 'matmul' }),
        node({ opType: 'Add', inputs: ['mm', 'b'], outputs: ['y'], name: 'add' }),
      ],
      inputs: [valueInfo('x', DT.FLOAT, [1, n])],
      outputs: [valueInfo('y', DT.FLOAT, [1, n])],
    }),
  });
}

/** Tensors of ifSubgraphModel in file order: else-branch weight and bias, then then-branch ones. */
export function ifSubgraphTensors(): TensorSpec[] {
  const n = FIXTURE_WIDTH;
  return ['else', 'then'].flatMap((branch, i) => [
    { name: `${branch}_w`, dtype: DT.FLOAT, dims: [n, n], raw: floatsBuffer(seededFloats(301 + 2 * i, n * n)) },
    { name: `${branch}_b`, dtype: DT.FLOAT, dims: [n], raw: floatsBuffer(seededFloats(302 + 2 * i, n)) },
  ]);
}

/** An If node whose branches hold their weights in Constant nodes (the Silero VAD layout). */
export function ifSubgraphModel(): Buffer {
  const n = FIXTURE_WIDTH;
  const t = ifSubgraphTensors().map(tensor);
  const branch = (prefix: string, w: Buffer, b: Buffer): Buffer =>
    graph({
      name: `${prefix}_branch`,
      nodes: [
        node({ opType: 'Constant', inputs: [], outputs: [`${prefix}_w`], attributes: [attrTensor('value', w)] }),
        node({ opType: 'Constant', inputs: [], outputs: [`${prefix}_b`], attributes: [attrTensor('value', b)] }),
        node({ opType: 'MatMul', inputs: ['x', `${prefix}_w`], outputs: [`${prefix}_mm`] }),
        node({ opType: 'Add', inputs: [`${prefix}_mm`, `${prefix}_b`], outputs: [`${prefix}_y`] }),
      ],
      outputs: [valueInfo(`${prefix}_y`, DT.FLOAT, [1, n])],
    });
  return model({
    graph: graph({
      name: 'if_model',
      nodes: [
        node({
          opType: 'If',
          inputs: ['cond'],
          outputs: ['y'],
          name: 'if_0',
          // Attributes sorted by name, as onnx.helper writes them.
          attributes: [attrGraph('else_branch', branch('else', t[0]!, t[1]!)), attrGraph('then_branch', branch('then', t[2]!, t[3]!))],
        }),
      ],
      inputs: [valueInfo('x', DT.FLOAT, [1, n]), valueInfo('cond', DT.BOOL, [])],
      outputs: [valueInfo('y', DT.FLOAT, [1, n])],
    }),
  });
}

/** Tensors of sparseModel in file order (nodes precede initializers in a GraphProto): Constant sparse_value values + indices, dense bias, sparse initializer values + indices. */
export function sparseTensors(): TensorSpec[] {
  const n = FIXTURE_WIDTH;
  const idx = [1, 9, 18, 27, 36, 45, 54, 63];
  const cidx = [0, 5];
  return [
    { name: 'c_sparse', dtype: DT.FLOAT, dims: [cidx.length], raw: floatsBuffer(seededFloats(403, cidx.length)) },
    { name: 'c_sparse_indices', dtype: DT.INT64, dims: [cidx.length], raw: Buffer.from(new BigInt64Array(cidx.map(BigInt)).buffer) },
    { name: 'b', dtype: DT.FLOAT, dims: [n], raw: floatsBuffer(seededFloats(401, n)) },
    { name: 'w_sparse', dtype: DT.FLOAT, dims: [idx.length], raw: floatsBuffer(seededFloats(402, idx.length)) },
    { name: 'w_sparse_indices', dtype: DT.INT64, dims: [idx.length], raw: Buffer.from(new BigInt64Array(idx.map(BigInt)).buffer) },
  ];
}

/** A sparse initializer (values + indices) and a Constant node with a sparse_value attribute. */
export function sparseModel(): Buffer {
  const n = FIXTURE_WIDTH;
  const [cv, ci, b, v, i] = sparseTensors().map(tensor);
  const constant = node({
    opType: 'Constant',
    inputs: [],
    outputs: ['c'],
    name: 'const_sparse',
    attributes: [attrSparseTensor('sparse_value', sparseTensor({ values: cv!, indices: ci!, dims: [n] }))],
  });
  return model({
    graph: graph({
      name: 'sparse',
      nodes: [
        constant,
        node({ opType: 'MatMul', inputs: ['x', 'w_sparse'], outputs: ['mm'] }),
        node({ opType: 'Add', inputs: ['mm', 'b'], outputs: ['a'] }),
        node({ opType: 'Add', inputs: ['a', 'c'], outputs: ['y'] }),
      ],
      initializers: [b!],
      sparseInitializers: [sparseTensor({ values: v!, indices: i!, dims: [n, n] })],
      inputs: [valueInfo('x', DT.FLOAT, [1, n])],
      outputs: [valueInfo('y', DT.FLOAT, [1, n])],
    }),
  });
}

/** Tensors of typedFieldsModel, stored in typed packed fields instead of raw_data. */
export function typedFieldsTensors(): TensorSpec[] {
  const n = FIXTURE_WIDTH;
  return [
    { name: 'shape', dtype: DT.INT64, dims: [2], int64Data: [1, n] },
    { name: 'w', dtype: DT.FLOAT, dims: [n, n], floatData: seededFloats(501, n * n) },
    { name: 'b', dtype: DT.FLOAT, dims: [n], floatData: seededFloats(502, n) },
    { name: 'aux_f64', dtype: DT.DOUBLE, dims: [3], doubleData: [0.5, -1.25, 1e-300] },
    { name: 'aux_i32', dtype: DT.INT32, dims: [4], int32Data: [0, -1, 300, -2147483648] },
    { name: 'aux_u64', dtype: DT.UINT64, dims: [2], uint64Data: [2n ** 64n - 1n, 7n] },
  ];
}

/** Reshape + MatMul + Add over tensors in float_data / int64_data (and unused double/int32/uint64 ones). */
export function typedFieldsModel(): Buffer {
  const n = FIXTURE_WIDTH;
  return model({
    graph: graph({
      name: 'typed',
      nodes: [
        node({ opType: 'Reshape', inputs: ['x', 'shape'], outputs: ['xr'] }),
        node({ opType: 'MatMul', inputs: ['xr', 'w'], outputs: ['mm'] }),
        node({ opType: 'Add', inputs: ['mm', 'b'], outputs: ['y'] }),
      ],
      initializers: typedFieldsTensors().map(tensor),
      inputs: [valueInfo('x', DT.FLOAT, [n])],
      outputs: [valueInfo('y', DT.FLOAT, [1, n])],
    }),
  });
}

export const EXTERNAL_DATA_LOCATION = 'model.onnx.data';

/**
 * The MLP with every weight in an external file: `onnx` has data_location = EXTERNAL
 * tensors pointing into `data` (laid out back to back, in tensor order).
 */
export function externalDataModel(opts: MlpOptions = {}): { onnx: Buffer; data: Buffer } {
  const { layers = 2, width = 16 } = opts;
  const specs = mlpTensors(opts);
  let offset = 0;
  const inits = specs.map((s) => {
    const length = s.raw!.length;
    const ref = { location: EXTERNAL_DATA_LOCATION, offset, length };
    offset += length;
    return tensor({ name: s.name, dtype: s.dtype, dims: s.dims, externalData: ref });
  });
  return {
    onnx: model({ graph: mlpGraph(width, layers, inits) }),
    data: Buffer.concat(specs.map((s) => s.raw!)),
  };
}

/**
 * A model whose main graph nests `depth` graphs in total, each (but the innermost) holding
 * one If node whose then_branch is the next graph; the innermost holds `innermost`'s fields.
 * Built from prefixes (the inner graph is always the last field) so depth 10000 stays linear.
 */
export function nestedGraphModel(depth: number, innermost: Buffer = graph({ name: 'leaf', nodes: [] })): Buffer {
  const prefixes: Buffer[] = [];
  let len = innermost.length;
  for (let level = 1; level < depth; level++) {
    const attrHead = Buffer.concat([fieldString(1, 'then_branch'), key(6, WIRE_LEN), varint(len)]);
    const attrLen = attrHead.length + len;
    const nodeHead = Buffer.concat([fieldString(4, 'If'), key(5, WIRE_LEN), varint(attrLen)]);
    const nodeLen = nodeHead.length + attrLen;
    const graphHead = Buffer.concat([key(1, WIRE_LEN), varint(nodeLen)]);
    prefixes.push(Buffer.concat([graphHead, nodeHead, attrHead]));
    len = graphHead.length + nodeLen;
  }
  const head = Buffer.concat([fieldVarint(1, 8), key(7, WIRE_LEN), varint(len)]);
  return Buffer.concat([head, ...prefixes.reverse(), innermost]);
}

// ONNX tensor-payload scanner.
//
// Owns: one forward walk of a ModelProto that reports where every in-file tensor
// payload (raw_data, packed float/double/int data) lives, with its name, dtype and dims.
// Must never: read a payload into memory (payloads are skipped by seeking), recurse
// without bound, accept a file that is not a well-formed message from byte 0 to `size`,
// or throw anything other than OnnxFormatError for bad input (callers then treat the
// file as opaque bytes).

import { closeSync, fstatSync, openSync } from 'node:fs';
import {
  OnnxFormatError,
  WIRE_FIXED32,
  WIRE_FIXED64,
  WIRE_LEN,
  WIRE_VARINT,
  WireReader,
} from './wire.js';

export { OnnxFormatError } from './wire.js';

export interface TensorPayload {
  /** Absolute byte offset in the file of the first payload byte. */
  offset: number;
  /** Payload byte length (> 0). */
  length: number;
  /** TensorProto.name ('' when absent). */
  name: string;
  /** TensorProto.data_type (0 when absent). */
  dtype: number;
  /** TensorProto.dims. */
  dims: number[];
  /** raw_data; packed float_data/double_data ('fixed', little-endian); packed int32/int64/uint64_data ('varint'). */
  form: 'raw' | 'fixed' | 'varint';
}

export interface ScanOptions {
  /** Deepest graph nesting accepted (main graph = 1). */
  maxGraphDepth?: number;
  /** Most payload entries accepted. */
  maxTensors?: number;
}

const DEFAULT_MAX_GRAPH_DEPTH = 64;
const DEFAULT_MAX_TENSORS = 10_000_000;
/** Far above any real model's rank; stops a crafted dims list from eating memory. */
const MAX_RANK = 4096;

// ModelProto fields and their only valid wire types. Used both to walk and as a
// plausibility check: random bytes rarely form a message of only these fields.
const MODEL_FIELDS: ReadonlyMap<number, number> = new Map([
  [1, WIRE_VARINT], // ir_version
  [2, WIRE_LEN], // producer_name
  [3, WIRE_LEN], // producer_version
  [4, WIRE_LEN], // domain
  [5, WIRE_VARINT], // model_version
  [6, WIRE_LEN], // doc_string
  [7, WIRE_LEN], // graph
  [8, WIRE_LEN], // opset_import
  [14, WIRE_LEN], // metadata_props
  [20, WIRE_LEN], // training_info
  [25, WIRE_LEN], // functions
  [26, WIRE_LEN], // configuration
]);

// TensorProto packed data fields: field number -> payload form and element width (0 = varint).
const PACKED_DATA: ReadonlyMap<number, { form: 'fixed' | 'varint'; width: number }> = new Map([
  [4, { form: 'fixed', width: 4 }], // float_data
  [10, { form: 'fixed', width: 8 }], // double_data
  [5, { form: 'varint', width: 0 }], // int32_data
  [7, { form: 'varint', width: 0 }], // int64_data
  [11, { form: 'varint', width: 0 }], // uint64_data
]);

// Wire type of the non-packed encoding of the same fields: valid protobuf, no payload range.
const UNPACKED_WIRE: ReadonlyMap<number, number> = new Map([
  [4, WIRE_FIXED32],
  [10, WIRE_FIXED64],
  [5, WIRE_VARINT],
  [7, WIRE_VARINT],
  [11, WIRE_VARINT],
]);

// Sub-message fields each message type descends into: graph node/initializer/sparse_initializer,
// node attribute, attribute t/g/tensors/graphs/sparse_tensor(s), sparse values/indices,
// function node, training initialization/algorithm (they must be LEN-encoded).
const GRAPH_DESCEND: ReadonlySet<number> = new Set([1, 5, 15]);
const NODE_DESCEND: ReadonlySet<number> = new Set([5]);
const ATTRIBUTE_DESCEND: ReadonlySet<number> = new Set([5, 6, 10, 11, 22, 23]);
const SPARSE_DESCEND: ReadonlySet<number> = new Set([1, 2]);
const FUNCTION_DESCEND: ReadonlySet<number> = new Set([7]);
const TRAINING_DESCEND: ReadonlySet<number> = new Set([1, 2]);

/**
 * Lists every tensor payload stored inside the ONNX file open at `fd` (of `size` bytes),
 * in increasing offset order, non-overlapping, all within [0, size).
 * Throws OnnxFormatError if the file is not a plausible, well-formed ModelProto.
 */
export function scanOnnx(fd: number, size: number, options: ScanOptions = {}): TensorPayload[] {
  return new Scanner(new WireReader(fd, size), options).model();
}

/** Convenience wrapper: opens, scans and closes the file at `path`. */
export function scanOnnxFile(path: string, options: ScanOptions = {}): TensorPayload[] {
  const fd = openSync(path, 'r');
  try {
    return scanOnnx(fd, fstatSync(fd).size, options);
  } finally {
    closeSync(fd);
  }
}

class Scanner {
  private readonly out: TensorPayload[] = [];
  private graphDepth = 0;
  private readonly maxGraphDepth: number;
  private readonly maxTensors: number;

  constructor(
    private readonly r: WireReader,
    options: ScanOptions,
  ) {
    this.maxGraphDepth = options.maxGraphDepth ?? DEFAULT_MAX_GRAPH_DEPTH;
    this.maxTensors = options.maxTensors ?? DEFAULT_MAX_TENSORS;
  }

  /** Top level: walks to exactly the file size; only graph, training_info and functions hold tensors. */
  model(): TensorPayload[] {
    const r = this.r;
    let sawGraph = false;
    let firstUnknown: { field: number; offset: number } | undefined;
    while (!r.atEnd()) {
      const at = r.pos;
      const { field, wireType } = r.readTag();
      const expected = MODEL_FIELDS.get(field);
      if (expected === undefined) {
        firstUnknown ??= { field, offset: at };
        r.skip(wireType);
        continue;
      }
      if (wireType !== expected) throw r.error(`ModelProto field ${field} has wire type ${wireType}`, at);
      if (field === 7) {
        sawGraph = true;
        this.sub(() => this.graph());
      } else if (field === 20) this.sub(() => this.trainingInfo());
      else if (field === 25) this.sub(() => this.func());
      else r.skip(wireType);
    }
    // Unknown top-level fields are tolerated (newer ONNX) only next to a graph;
    // otherwise the bytes are far more likely something else that happened to parse.
    if (firstUnknown && !sawGraph) {
      throw r.error(`not an ONNX model: unknown ModelProto field ${firstUnknown.field}`, firstUnknown.offset);
    }
    return this.out;
  }

  /** Runs `body` inside the length-delimited sub-message whose length prefix comes next. */
  private sub(body: () => void): void {
    const r = this.r;
    r.enter(r.readLength());
    body();
    r.leave();
  }

  /** Reads the tag of the next field and checks message fields we descend into are LEN. */
  private tagExpectingLen(descend: ReadonlySet<number>, message: string): { field: number; wireType: number } {
    const at = this.r.pos;
    const tag = this.r.readTag();
    if (descend.has(tag.field) && tag.wireType !== WIRE_LEN) {
      throw this.r.error(`${message} field ${tag.field} has wire type ${tag.wireType}, expected 2`, at);
    }
    return tag;
  }

  private graph(): void {
    const r = this.r;
    if (++this.graphDepth > this.maxGraphDepth) {
      throw r.error(`graphs nested deeper than ${this.maxGraphDepth}`, r.pos);
    }
    while (!r.atEnd()) {
      const { field, wireType } = this.tagExpectingLen(GRAPH_DESCEND, 'GraphProto');
      if (field === 1) this.sub(() => this.node());
      else if (field === 5) this.sub(() => this.tensor());
      else if (field === 15) this.sub(() => this.sparseTensor());
      else r.skip(wireType);
    }
    this.graphDepth--;
  }

  private node(): void {
    const r = this.r;
    while (!r.atEnd()) {
      const { field, wireType } = this.tagExpectingLen(NODE_DESCEND, 'NodeProto');
      if (field === 5) this.sub(() => this.attribute());
      else r.skip(wireType);
    }
  }

  private attribute(): void {
    const r = this.r;
    while (!r.atEnd()) {
      const { field, wireType } = this.tagExpectingLen(ATTRIBUTE_DESCEND, 'AttributeProto');
      if (field === 5 || field === 10) this.sub(() => this.tensor());
      else if (field === 6 || field === 11) this.sub(() => this.graph());
      else if (field === 22 || field === 23) this.sub(() => this.sparseTensor());
      else r.skip(wireType);
    }
  }

  private sparseTensor(): void {
    const r = this.r;
    while (!r.atEnd()) {
      const { field, wireType } = this.tagExpectingLen(SPARSE_DESCEND, 'SparseTensorProto');
      if (field === 1 || field === 2) this.sub(() => this.tensor());
      else r.skip(wireType);
    }
  }

  private func(): void {
    const r = this.r;
    while (!r.atEnd()) {
      const { field, wireType } = this.tagExpectingLen(FUNCTION_DESCEND, 'FunctionProto');
      if (field === 7) this.sub(() => this.node());
      else r.skip(wireType);
    }
  }

  private trainingInfo(): void {
    const r = this.r;
    while (!r.atEnd()) {
      const { field, wireType } = this.tagExpectingLen(TRAINING_DESCEND, 'TrainingInfoProto');
      if (field === 1 || field === 2) this.sub(() => this.graph());
      else r.skip(wireType);
    }
  }

  /**
   * TensorProto: fields come in any order, so payload ranges are collected first and
   * emitted once name/dtype/dims are known. Tensors hold no nested tensors, so emitting
   * at the end keeps the output in file order.
   */
  private tensor(): void {
    const r = this.r;
    let name = '';
    let dtype = 0;
    const dims: number[] = [];
    const ranges: { offset: number; length: number; form: TensorPayload['form'] }[] = [];
    while (!r.atEnd()) {
      const at = r.pos;
      const { field, wireType } = r.readTag();
      if (field === 1) this.dims(wireType, dims, at);
      else if (field === 2) {
        expectWire(r, field, wireType, WIRE_VARINT, at);
        dtype = r.readVarint();
      } else if (field === 8) {
        expectWire(r, field, wireType, WIRE_LEN, at);
        name = r.readString();
      } else if (field === 9) {
        expectWire(r, field, wireType, WIRE_LEN, at);
        const length = r.readLength();
        if (length > 0) ranges.push({ offset: r.pos, length, form: 'raw' });
        r.skipBytes(length);
      } else if (PACKED_DATA.has(field) && wireType === WIRE_LEN) {
        const { form, width } = PACKED_DATA.get(field)!;
        const length = r.readLength();
        if (width > 0 && length % width !== 0) {
          throw r.error(`packed field ${field} of ${length} bytes is not a multiple of ${width}`, at);
        }
        if (length > 0) ranges.push({ offset: r.pos, length, form });
        r.skipBytes(length);
      } else if (PACKED_DATA.has(field)) {
        // Unpacked repeated values: legal, but no contiguous payload; they stay in the rest of the file.
        expectWire(r, field, wireType, UNPACKED_WIRE.get(field)!, at);
        r.skip(wireType);
      } else r.skip(wireType);
    }
    for (const range of ranges) this.emit({ ...range, name, dtype, dims: dims.slice() });
  }

  /** dims (repeated int64): either one varint per field or a packed list. */
  private dims(wireType: number, dims: number[], at: number): void {
    const r = this.r;
    if (wireType === WIRE_VARINT) {
      this.pushDim(dims, at);
    } else if (wireType === WIRE_LEN) {
      r.enter(r.readLength());
      while (!r.atEnd()) this.pushDim(dims, r.pos);
      r.leave();
    } else {
      throw r.error(`TensorProto dims has wire type ${wireType}`, at);
    }
  }

  private pushDim(dims: number[], at: number): void {
    if (dims.length >= MAX_RANK) throw this.r.error(`tensor rank exceeds ${MAX_RANK}`, at);
    dims.push(this.r.readVarint());
  }

  private emit(p: TensorPayload): void {
    if (this.out.length >= this.maxTensors) {
      throw new OnnxFormatError(`more than ${this.maxTensors} tensor payloads at byte offset ${p.offset}`);
    }
    this.out.push(p);
  }
}

function expectWire(r: WireReader, field: number, got: number, want: number, at: number): void {
  if (got !== want) throw r.error(`TensorProto field ${field} has wire type ${got}, expected ${want}`, at);
}

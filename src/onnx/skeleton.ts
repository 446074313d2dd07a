// Reads an ONNX model's structure from its pointer and skeleton alone, without any tensor chunk.
//
// Owns: one walk over the "hollow" model (skeleton bytes at their file offsets, tensor payloads absent)
// that produces (1) a compact ModelProto, the same message with every large payload replaced by a marker
// entry in the tensor's external_data (key `mgit.payload`), which the schema decoder reads in memory the
// size of the skeleton; and (2) the list of every payload in the file, large (a pointer tensor part) and
// small (payloads under the pointer's minimum tensor size stay in the skeleton: biases of small layers,
// shape constants), with name, dtype, dims and, for small ones, their bytes. Merge uses (2) so that a
// small bias changed on both sides is a tensor conflict, not a structure conflict.
// Must never: read a byte inside a large payload (they are not there), write the compact form anywhere a
// user could mistake it for their model, or accept a pointer whose tensor parts do not line up with
// TensorProto payload fields.

import type { Pointer } from '../codec/pointer.js';
import { OnnxFormatError } from './wire.js';

export type PayloadForm = 'raw' | 'fixed' | 'varint';

export interface Payload {
  /** absolute offset of the first payload byte in the model file */
  offset: number;
  length: number;
  form: PayloadForm;
  name: string;
  /** TensorProto.data_type */
  dtype: number;
  dims: number[];
  /** index into pointer.parts when this payload is a tensor part (large), else undefined */
  part?: number;
  /** the bytes, for small payloads (they live in the skeleton) */
  bytes?: Buffer;
}

export interface SkeletonWalk {
  compact: Buffer;
  payloads: Payload[];
}

/** The external_data key of the markers that stand for payloads in the compact model. */
export const PAYLOAD_MARKER = 'mgit.payload';

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;
const MAX_DEPTH = 64 * 4;

type Kind = 'model' | 'graph' | 'node' | 'attribute' | 'tensor' | 'sparse' | 'function' | 'training';

// The sub-messages that can hold tensors (the same paths the clean scanner follows).
const DESCEND: Record<Exclude<Kind, 'tensor'>, ReadonlyMap<number, Kind>> = {
  model: new Map<number, Kind>([
    [7, 'graph'],
    [20, 'training'],
    [25, 'function'],
  ]),
  graph: new Map<number, Kind>([
    [1, 'node'],
    [5, 'tensor'],
    [15, 'sparse'],
  ]),
  node: new Map<number, Kind>([[5, 'attribute']]),
  attribute: new Map<number, Kind>([
    [5, 'tensor'],
    [6, 'graph'],
    [10, 'tensor'],
    [11, 'graph'],
    [22, 'sparse'],
    [23, 'sparse'],
  ]),
  sparse: new Map<number, Kind>([
    [1, 'tensor'],
    [2, 'tensor'],
  ]),
  function: new Map<number, Kind>([[7, 'node']]),
  training: new Map<number, Kind>([
    [1, 'graph'],
    [2, 'graph'],
  ]),
};

// TensorProto packed payload fields and their forms.
const PACKED: ReadonlyMap<number, PayloadForm> = new Map<number, PayloadForm>([
  [4, 'fixed'],
  [10, 'fixed'],
  [5, 'varint'],
  [7, 'varint'],
  [11, 'varint'],
]);

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Buffer.from(out);
}

function lenField(field: number, body: Buffer): Buffer {
  return Buffer.concat([varint(field * 8 + WIRE_LEN), varint(body.length), body]);
}

/** Random access to the skeleton bytes of a model, by file offset. */
class HollowFile {
  private readonly starts: number[] = [];
  private readonly skStarts: number[] = [];
  private readonly lengths: number[] = [];
  private seg = 0;

  constructor(
    readonly size: number,
    private readonly skeleton: Buffer,
    pointer: Pointer,
  ) {
    let pos = 0;
    let sk = 0;
    for (const part of pointer.parts) {
      if (part.kind === 'gap') {
        this.starts.push(pos);
        this.skStarts.push(sk);
        this.lengths.push(part.length);
        sk += part.length;
        pos += part.length;
      } else {
        pos += part.pieces.reduce((a, p) => a + p.length, 0);
      }
    }
    if (sk !== skeleton.length) throw new OnnxFormatError(`skeleton holds ${skeleton.length} bytes, the pointer's gaps ${sk}`);
  }

  private locate(pos: number): number {
    const s = this.seg;
    if (s < this.starts.length && pos >= this.starts[s]! && pos < this.starts[s]! + this.lengths[s]!) return s;
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (pos < this.starts[mid]!) hi = mid - 1;
      else if (pos >= this.starts[mid]! + this.lengths[mid]!) lo = mid + 1;
      else return (this.seg = mid);
    }
    throw new OnnxFormatError(`structure byte at offset ${pos} lies inside a tensor payload: pointer and model disagree`);
  }

  byte(pos: number): number {
    const s = this.locate(pos);
    return this.skeleton[this.skStarts[s]! + pos - this.starts[s]!]!;
  }

  bytes(pos: number, n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const s = this.locate(pos);
    const off = pos - this.starts[s]!;
    if (off + n > this.lengths[s]!) throw new OnnxFormatError(`field at offset ${pos} runs into a tensor payload: pointer and model disagree`);
    return this.skeleton.subarray(this.skStarts[s]! + off, this.skStarts[s]! + off + n);
  }
}

class Walker {
  pos = 0;
  readonly payloads: Payload[] = [];
  private depth = 0;
  private readonly partAt = new Map<number, number>();
  matchedParts = 0;

  constructor(
    private readonly file: HollowFile,
    pointer: Pointer,
  ) {
    let pos = 0;
    pointer.parts.forEach((part, i) => {
      if (part.kind === 'gap') pos += part.length;
      else {
        this.partAt.set(pos, i);
        pos += part.pieces.reduce((a, p) => a + p.length, 0);
      }
    });
  }

  private fail(what: string, at = this.pos): never {
    throw new OnnxFormatError(`${what} at byte offset ${at}`);
  }

  varint(end: number): number {
    let result = 0;
    let mul = 1;
    const start = this.pos;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) this.fail('truncated varint', start);
      const b = this.file.byte(this.pos++);
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
    return this.fail('varint longer than 10 bytes', start);
  }

  /** Skips one field value of `wire` type; returns the content range for LEN fields. */
  skipValue(wire: number, end: number): { start: number; length: number } | undefined {
    switch (wire) {
      case WIRE_VARINT:
        this.varint(end);
        return undefined;
      case WIRE_FIXED64:
        this.advance(8, end);
        return undefined;
      case WIRE_FIXED32:
        this.advance(4, end);
        return undefined;
      case WIRE_LEN: {
        const length = this.varint(end);
        const start = this.pos;
        this.advance(length, end);
        return { start, length };
      }
      default:
        return this.fail(`unsupported wire type ${wire}`);
    }
  }

  private advance(n: number, end: number): void {
    if (n > end - this.pos) this.fail(`field of ${n} bytes overruns its message end ${end}`);
    this.pos += n;
  }

  /** Re-encodes the message in [pos, end) of the given kind. */
  message(kind: Kind, end: number): Buffer {
    if (++this.depth > MAX_DEPTH) this.fail('messages nested too deeply');
    const out = kind === 'tensor' ? this.tensor(end) : this.container(kind, end);
    this.depth--;
    return out;
  }

  private container(kind: Exclude<Kind, 'tensor'>, end: number): Buffer {
    const out: Buffer[] = [];
    const descend = DESCEND[kind];
    while (this.pos < end) {
      const tagStart = this.pos;
      const key = this.varint(end);
      const tag = this.file.bytes(tagStart, this.pos - tagStart);
      const field = Math.floor(key / 8);
      const wire = key % 8;
      const sub = descend.get(field);
      if (sub !== undefined && wire === WIRE_LEN) {
        const length = this.varint(end);
        if (length > end - this.pos) this.fail(`sub-message of ${length} bytes overruns its message end`);
        const subEnd = this.pos + length;
        const body = this.message(sub, subEnd);
        if (this.pos !== subEnd) this.fail('sub-message did not end where its length said');
        out.push(tag, varint(body.length), body);
      } else {
        this.skipValue(wire, end);
        out.push(this.file.bytes(tagStart, this.pos - tagStart));
      }
    }
    return Buffer.concat(out);
  }

  private tensor(end: number): Buffer {
    const out: Buffer[] = [];
    let name = '';
    let dtype = 0;
    const dims: number[] = [];
    const found: { start: number; length: number; form: PayloadForm }[] = [];
    while (this.pos < end) {
      const tagStart = this.pos;
      const key = this.varint(end);
      const tagLength = this.pos - tagStart;
      const field = Math.floor(key / 8);
      const wire = key % 8;
      const range = this.skipValue(wire, end);
      const isPayload = range && (field === 9 || PACKED.has(field));
      if (isPayload && this.partAt.has(range.start)) {
        found.push({ start: range.start, length: range.length, form: field === 9 ? 'raw' : PACKED.get(field)! });
        continue; // large payload: left out of the compact form, replaced by a marker below
      }
      const raw = this.file.bytes(tagStart, this.pos - tagStart);
      out.push(raw);
      if (isPayload && range.length > 0) found.push({ start: range.start, length: range.length, form: field === 9 ? 'raw' : PACKED.get(field)! });
      if (field === 8 && range) name = this.file.bytes(range.start, range.length).toString('utf8');
      else if (field === 2 && wire === WIRE_VARINT) dtype = readVarintFrom(raw, tagLength);
      else if (field === 1 && wire === WIRE_VARINT) dims.push(readVarintFrom(raw, tagLength));
      else if (field === 1 && range) dims.push(...readPackedVarints(this.file.bytes(range.start, range.length)));
    }
    for (const p of found) {
      const part = this.partAt.get(p.start);
      const index = this.payloads.length;
      if (part !== undefined) this.matchedParts++;
      this.payloads.push({
        offset: p.start,
        length: p.length,
        form: p.form,
        name,
        dtype,
        dims: dims.slice(),
        part,
        bytes: part === undefined ? Buffer.from(this.file.bytes(p.start, p.length)) : undefined,
      });
      const entry = Buffer.concat([lenField(1, Buffer.from(PAYLOAD_MARKER)), lenField(2, Buffer.from(String(index)))]);
      out.push(lenField(13, entry));
    }
    return Buffer.concat(out);
  }
}

function readVarintFrom(buf: Buffer, at: number): number {
  let result = 0;
  let mul = 1;
  for (let i = at; i < buf.length && i < at + 10; i++) {
    result += (buf[i]! & 0x7f) * mul;
    if ((buf[i]! & 0x80) === 0) break;
    mul *= 128;
  }
  return result;
}

function readPackedVarints(buf: Buffer): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < buf.length) {
    let result = 0;
    let mul = 1;
    for (;;) {
      const b = buf[i++];
      if (b === undefined) throw new OnnxFormatError('truncated packed dims');
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) break;
      mul *= 128;
    }
    out.push(result);
  }
  return out;
}

/**
 * Walks the model a pointer describes, given its skeleton bytes. Throws OnnxFormatError when the pointer
 * is not an ONNX pointer or its tensor parts are not exactly TensorProto payloads.
 */
export function walkSkeleton(pointer: Pointer, skeleton: Buffer): SkeletonWalk {
  if (pointer.format !== 'onnx') throw new OnnxFormatError('not an ONNX model (format raw)');
  const file = new HollowFile(pointer.size, skeleton, pointer);
  const w = new Walker(file, pointer);
  const compact = w.message('model', pointer.size);
  const parts = pointer.parts.filter((p) => p.kind === 'tensor').length;
  if (w.matchedParts !== parts) {
    throw new OnnxFormatError(`${parts - w.matchedParts} tensor part(s) of the pointer are not payloads of the model's structure`);
  }
  return { compact, payloads: w.payloads };
}

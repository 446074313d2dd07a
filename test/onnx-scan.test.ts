// Tests for the ONNX wire reader, dtype table and tensor-payload scanner.
//
// Owns: checking scanOnnx against models built by test/helpers/onnx-builder.ts (exact
// offsets and bytes), against hostile input (truncation, random bytes, deep nesting),
// and, when MGIT_CORPUS is set, against real models via an independent in-memory walker.
// Must never: write outside its own temp directory or need network/Python.

import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import { dtypeFromName, dtypeName, dtypeSize, planeWidth } from '../src/onnx/dtypes.js';
import { scanOnnx, scanOnnxFile, type ScanOptions, type TensorPayload } from '../src/onnx/scan.js';
import { MAX_INLINE_BYTES, OnnxFormatError, WireReader } from '../src/onnx/wire.js';
import {
  attrGraphs,
  attrInt,
  attrInts,
  attrTensor,
  attrTensors,
  constantNodeModel,
  constantNodeTensors,
  DT,
  externalDataModel,
  fieldBytes,
  fieldFloat,
  fieldString,
  fieldVarint,
  float32Bytes,
  floatsBuffer,
  functionProto,
  graph,
  ifSubgraphModel,
  ifSubgraphTensors,
  key,
  mlpModel,
  mlpTensors,
  model,
  nestedGraphModel,
  node,
  packedVarints,
  payloadBytes,
  perturb,
  prng,
  seededFloats,
  sparseModel,
  sparseTensors,
  tensor,
  trainingInfo,
  typedFieldsModel,
  typedFieldsTensors,
  valueInfo,
  varint,
  type TensorSpec,
} from './helpers/onnx-builder.js';

const tmp = mkdtempSync(join(tmpdir(), 'mgit-onnx-scan-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

let fileCounter = 0;
function writeTemp(buf: Buffer, name = `m${fileCounter++}.onnx`): string {
  const path = join(tmp, name);
  writeFileSync(path, buf);
  return path;
}

function scanBuffer(buf: Buffer, options?: ScanOptions): TensorPayload[] {
  return scanOnnxFile(writeTemp(buf), options);
}

/** Opens a WireReader over `buf` (written to a temp file) and closes it afterwards. */
function withReader<T>(buf: Buffer, fn: (r: WireReader) => T, windowSize?: number): T {
  const fd = openSync(writeTemp(buf), 'r');
  try {
    return fn(new WireReader(fd, buf.length, windowSize));
  } finally {
    closeSync(fd);
  }
}

function isFormatError(e: unknown): boolean {
  return e instanceof OnnxFormatError && e.code === 'EONNXFORMAT' && /byte offset \d+/.test(e.message);
}

function assertWellFormed(payloads: TensorPayload[], size: number): void {
  let end = 0;
  for (const p of payloads) {
    assert.ok(Number.isSafeInteger(p.offset) && Number.isSafeInteger(p.length), 'integer ranges');
    assert.ok(p.length > 0, 'non-empty payload');
    assert.ok(p.offset >= end, `sorted and non-overlapping at ${p.offset}`);
    end = p.offset + p.length;
    assert.ok(end <= size, 'within the file');
  }
}

/** Payloads expected for `specs` (in file order), checked byte for byte against the file. */
function assertPayloads(buf: Buffer, payloads: TensorPayload[], specs: TensorSpec[]): void {
  assertWellFormed(payloads, buf.length);
  const expected = specs.flatMap((s) => payloadBytes(s).map((p) => ({ ...p, name: s.name, dtype: s.dtype, dims: s.dims })));
  assert.equal(payloads.length, expected.length, 'payload count');
  payloads.forEach((p, i) => {
    const e = expected[i]!;
    assert.deepEqual(
      { name: p.name, dtype: p.dtype, dims: p.dims, form: p.form, length: p.length },
      { name: e.name, dtype: e.dtype, dims: e.dims, form: e.form, length: e.bytes.length },
    );
    assert.ok(buf.subarray(p.offset, p.offset + p.length).equals(e.bytes), `bytes of ${p.name}`);
    // Long random payloads occur once, so the offset must be exactly where the bytes are.
    if (e.bytes.length >= 16) assert.equal(p.offset, buf.indexOf(e.bytes), `offset of ${p.name}`);
  });
}

function expectFormatError(fn: () => unknown, pattern?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isFormatError(e), `expected OnnxFormatError with an offset, got ${String(e)}`);
    if (pattern) assert.match((e as Error).message, pattern);
    return true;
  });
}

// ---------------------------------------------------------------------------

describe('wire reader', () => {
  test('decodes varints up to 2^53-1 and rejects larger or over-long ones', () => {
    const values = [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER];
    withReader(Buffer.concat(values.map((v) => varint(v))), (r) => {
      for (const v of values) assert.equal(r.readVarint(), v);
      assert.ok(r.atEnd());
    });
    expectFormatError(() => withReader(varint(2n ** 53n), (r) => r.readVarint()), /exceeds 2\^53/);
    expectFormatError(() => withReader(Buffer.alloc(11, 0x80), (r) => r.readVarint()), /longer than 10/);
    expectFormatError(() => withReader(Buffer.from([0x80, 0x80]), (r) => r.readVarint()), /end of message/);
    // A negative int64 is a legal 10-byte varint: it can be skipped, just not read as a number.
    withReader(varint(-1), (r) => {
      r.skip(0);
      assert.equal(r.pos, 10);
    });
  });

  test('reads across window boundaries and seeks past skipped bytes', () => {
    const name = 'x'.repeat(100);
    const buf = Buffer.concat([fieldString(8, name), fieldVarint(2, 2 ** 40), fieldBytes(9, Buffer.alloc(1000, 7)), fieldString(3, 'end')]);
    withReader(
      buf,
      (r) => {
        assert.deepEqual(r.readTag(), { field: 8, wireType: 2 });
        assert.equal(r.readString(), name);
        assert.deepEqual(r.readTag(), { field: 2, wireType: 0 });
        assert.equal(r.readVarint(), 2 ** 40);
        assert.deepEqual(r.readTag(), { field: 9, wireType: 2 });
        r.skip(2);
        assert.deepEqual(r.readTag(), { field: 3, wireType: 2 });
        assert.equal(r.readString(), 'end');
        assert.ok(r.atEnd());
      },
      16,
    );
  });

  test('skips every non-group wire type and refuses groups', () => {
    const buf = Buffer.concat([fieldVarint(1, -5), fieldFloat(2, 1.5), key(3, 1), Buffer.alloc(8), fieldBytes(4, Buffer.alloc(3))]);
    withReader(buf, (r) => {
      while (!r.atEnd()) r.skip(r.readTag().wireType);
      assert.equal(r.pos, buf.length);
    });
    expectFormatError(() => withReader(Buffer.concat([key(1, 3), key(1, 4)]), (r) => r.skip(r.readTag().wireType)), /wire type 3/);
    expectFormatError(() => withReader(key(1, 6), (r) => r.readTag()), /wire type 6/);
    expectFormatError(() => withReader(Buffer.from([0x00]), (r) => r.readTag()), /field number 0/);
  });

  test('bounds in-memory reads and enforces sub-message limits', () => {
    expectFormatError(() => withReader(Buffer.alloc(4), (r) => r.readBytes(MAX_INLINE_BYTES + 1)), /too large/);
    const inner = Buffer.concat([fieldVarint(1, 5), fieldVarint(2, 6)]);
    const buf = Buffer.concat([fieldBytes(1, inner), fieldVarint(3, 9)]);
    withReader(buf, (r) => {
      r.readTag();
      r.enter(r.readLength());
      assert.equal(r.depth, 1);
      r.readTag();
      assert.equal(r.readVarint(), 5);
      expectFormatError(() => r.leave(), /expected/); // one field left unread
    });
    withReader(buf, (r) => {
      r.readTag();
      r.enter(r.readLength());
      r.skipBytes(inner.length);
      expectFormatError(() => r.readByte(), /end of message/);
      expectFormatError(() => r.skipBytes(1), /past message end/);
      r.leave();
      assert.deepEqual(r.readTag(), { field: 3, wireType: 0 });
    });
    // A length prefix larger than what is left in the enclosing message.
    expectFormatError(() => withReader(Buffer.concat([key(1, 2), varint(50), Buffer.alloc(10)]), (r) => (r.readTag(), r.readLength())), /overruns/);
  });

  test('a file shorter than its declared size is a format error', () => {
    const buf = mlpModel();
    const fd = openSync(writeTemp(buf), 'r');
    try {
      expectFormatError(() => scanOnnx(fd, buf.length + 100));
    } finally {
      closeSync(fd);
    }
  });
});

describe('dtypes', () => {
  test('names, sizes and plane widths', () => {
    assert.equal(dtypeName(1), 'float32');
    assert.equal(dtypeName(16), 'bfloat16');
    assert.equal(dtypeName(24), 'float8e8m0');
    assert.equal(dtypeName(99), 'type99');
    assert.equal(dtypeName(0), 'type0');
    assert.equal(dtypeSize(8), 0);
    assert.equal(dtypeSize(15), 16);
    assert.equal(dtypeSize(99), 1);
    assert.deepEqual([1, 7, 10, 14, 15, 16, 2, 9, 21, 99].map(planeWidth), [4, 8, 2, 4, 8, 2, 1, 1, 1, 1]);
  });

  test('dtypeFromName inverts dtypeName', () => {
    for (let n = 0; n <= 40; n++) assert.equal(dtypeFromName(dtypeName(n)), n);
    assert.equal(dtypeFromName('float'), undefined);
    assert.equal(dtypeFromName('type01'), undefined);
  });
});

// ---------------------------------------------------------------------------

describe('scanOnnx on builder models', () => {
  test('MLP initializers (raw_data)', () => {
    for (const opts of [{}, { seed: 7, layers: 3, width: 32 }]) {
      const buf = mlpModel(opts);
      assertPayloads(buf, scanBuffer(buf), mlpTensors(opts));
    }
  });

  test('Constant-node tensors', () => {
    const buf = constantNodeModel();
    assertPayloads(buf, scanBuffer(buf), constantNodeTensors());
  });

  test('Constant nodes inside If subgraphs', () => {
    const buf = ifSubgraphModel();
    assertPayloads(buf, scanBuffer(buf), ifSubgraphTensors());
  });

  test('sparse initializers and sparse_value attributes: values and indices', () => {
    const buf = sparseModel();
    assertPayloads(buf, scanBuffer(buf), sparseTensors());
  });

  test('typed packed fields: fixed (float/double) and varint (int32/int64/uint64)', () => {
    const buf = typedFieldsModel();
    const payloads = scanBuffer(buf);
    assertPayloads(buf, payloads, typedFieldsTensors());
    assert.deepEqual(
      payloads.map((p) => p.form),
      ['varint', 'fixed', 'fixed', 'fixed', 'varint', 'varint'],
    );
  });

  test('external-data tensors yield no payload', () => {
    const { onnx, data } = externalDataModel();
    assert.deepEqual(scanBuffer(onnx), []);
    assert.equal(data.length, mlpTensors().reduce((n, s) => n + s.raw!.length, 0));
    // Next to an inline tensor, only the inline one is reported.
    const inline: TensorSpec = { name: 'inline', dtype: DT.FLOAT, dims: [4], raw: floatsBuffer(seededFloats(9, 4)) };
    const ext = tensor({ name: 'ext', dtype: DT.FLOAT, dims: [4], externalData: { location: 'w.bin', offset: 0, length: 16 } });
    const buf = model({ graph: graph({ name: 'g', nodes: [], initializers: [ext, tensor(inline)] }) });
    assertPayloads(buf, scanBuffer(buf), [inline]);
  });

  test('functions, training info, repeated tensor and graph attributes', () => {
    const specs: TensorSpec[] = [1, 2, 3, 4, 5].map((i) => ({
      name: `t${i}`,
      dtype: DT.FLOAT,
      dims: [2, 3],
      raw: floatsBuffer(seededFloats(600 + i, 6)),
    }));
    const [t1, t2, t3, t4, t5] = specs.map(tensor);
    const g = graph({ name: 'main', nodes: [node({ opType: 'Loop', inputs: [], outputs: ['o'], attributes: [attrTensors('ts', [t1!, t2!])] })] });
    const body = graph({ name: 'body', nodes: [], initializers: [t4!] });
    const fn = functionProto({
      name: 'F',
      domain: 'custom',
      inputs: [],
      outputs: ['c'],
      nodes: [node({ opType: 'Constant', inputs: [], outputs: ['c'], attributes: [attrTensor('value', t3!), attrGraphs('bodies', [body])] })],
    });
    const ti = trainingInfo({ initialization: graph({ name: 'init', nodes: [], initializers: [t5!] }) });
    const buf = model({ graph: g, functions: [fn], trainingInfo: [ti], opsets: [{ domain: 'custom', version: 1 }] });
    // Model fields are in number order: graph (7), training_info (20), functions (25).
    assertPayloads(buf, scanBuffer(buf), [specs[0]!, specs[1]!, specs[4]!, specs[2]!, specs[3]!]);
  });

  test('tensor fields in any order, packed dims, several payload fields, unknown fields', () => {
    const raw = floatsBuffer(seededFloats(700, 6));
    const floats = seededFloats(701, 6);
    const t = Buffer.concat([
      fieldBytes(99, Buffer.from('future')), // unknown field
      fieldBytes(9, raw), // raw_data before name/dims/dtype
      fieldBytes(1, packedVarints([2, 3])),
      fieldBytes(4, float32Bytes(floats)), // a second payload field
      key(98, 5),
      Buffer.alloc(4), // unknown fixed32
      fieldString(8, 'late'),
      fieldVarint(2, DT.FLOAT),
    ]);
    const unpacked = Buffer.concat([
      fieldVarint(1, 3),
      fieldVarint(2, DT.FLOAT),
      fieldFloat(4, 1),
      fieldFloat(4, 2),
      fieldFloat(4, 3), // float_data, unpacked
      fieldVarint(7, 5), // int64_data, unpacked
      fieldString(8, 'unpacked'),
      fieldBytes(9, Buffer.alloc(0)), // empty raw_data
    ]);
    const strings = Buffer.concat([fieldVarint(1, 2), fieldVarint(2, 8), fieldString(6, 'a'), fieldString(6, 'b'), fieldString(8, 's')]);
    const g = Buffer.concat([graph({ name: 'g', nodes: [] }), fieldBytes(5, unpacked), fieldBytes(5, t), fieldBytes(5, strings), fieldBytes(77, Buffer.alloc(5))]);
    const buf = model({ graph: g });
    const payloads = scanBuffer(buf);
    assertWellFormed(payloads, buf.length);
    assert.equal(payloads.length, 2);
    assert.deepEqual(payloads.map((p) => [p.name, p.dtype, p.dims, p.form]), [
      ['late', DT.FLOAT, [2, 3], 'raw'],
      ['late', DT.FLOAT, [2, 3], 'fixed'],
    ]);
    assert.ok(buf.subarray(payloads[0]!.offset, payloads[0]!.offset + payloads[0]!.length).equals(raw));
    assert.ok(buf.subarray(payloads[1]!.offset, payloads[1]!.offset + payloads[1]!.length).equals(float32Bytes(floats)));
  });

  test('attributes of other types are skipped', () => {
    const spec: TensorSpec = { name: 'w', dtype: DT.FLOAT, dims: [3], raw: floatsBuffer(seededFloats(800, 3)) };
    const n = node({
      opType: 'Conv',
      inputs: ['x', 'w'],
      outputs: ['y'],
      attributes: [attrInt('group', -1), attrInts('pads', [0, 1, -2, 3]), attrTensor('value', tensor(spec))],
    });
    const buf = model({ graph: graph({ name: 'g', nodes: [n], inputs: [valueInfo('x', DT.FLOAT, ['N', 3])] }) });
    assertPayloads(buf, scanBuffer(buf), [spec]);
  });

  test('empty file and metadata-only models have no tensors', () => {
    assert.deepEqual(scanBuffer(Buffer.alloc(0)), []);
    assert.deepEqual(scanBuffer(Buffer.concat([fieldVarint(1, 8), fieldString(2, 'x'), fieldBytes(8, fieldVarint(2, 17))])), []);
  });
});

describe('scanOnnx on hostile input', () => {
  test('plausibility: unknown top-level fields only next to a graph, known fields need their wire type', () => {
    const g = fieldBytes(7, graph({ name: 'g', nodes: [] }));
    expectFormatError(() => scanBuffer(fieldVarint(9, 1)), /unknown ModelProto field 9/);
    assert.deepEqual(scanBuffer(Buffer.concat([g, fieldVarint(9, 1)])), []);
    expectFormatError(() => scanBuffer(fieldVarint(7, 1)), /wire type 0/); // graph as a varint
    expectFormatError(() => scanBuffer(fieldBytes(1, Buffer.alloc(1))), /wire type 2/); // ir_version as bytes
    // Inside a graph, a node field that is not a message.
    expectFormatError(() => scanBuffer(fieldBytes(7, fieldVarint(1, 3))), /GraphProto field 1/);
  });

  test('truncated models are rejected', () => {
    const buf = mlpModel();
    const payloads = scanBuffer(buf);
    const mid = payloads[0]!.offset + (payloads[0]!.length >> 1);
    expectFormatError(() => scanBuffer(buf.subarray(0, mid)), /overruns/);
    // Every cut inside the graph field must fail (cuts between top-level fields are valid shorter models).
    const graphStart = Buffer.concat([fieldVarint(1, 8), fieldString(2, 'mgit-test')]).length; // ir_version, producer
    const graphEnd = buf.length - fieldBytes(8, fieldVarint(2, 17)).length; // opset_import comes last
    for (let cut = graphStart + 1; cut < graphEnd; cut += 7) {
      expectFormatError(() => scanBuffer(buf.subarray(0, cut)));
    }
  });

  test('packed float data of a wrong length and oversized dims are rejected', () => {
    const bad = Buffer.concat([fieldVarint(2, 1), fieldBytes(4, Buffer.alloc(6))]);
    expectFormatError(() => scanBuffer(model({ graph: Buffer.concat([fieldBytes(5, bad)]) })), /multiple of 4/);
    const huge = Buffer.concat([fieldVarint(1, 2n ** 53n), fieldBytes(9, Buffer.alloc(4))]);
    expectFormatError(() => scanBuffer(model({ graph: fieldBytes(5, huge) })), /2\^53/);
    const negative = Buffer.concat([fieldVarint(1, -1), fieldBytes(9, Buffer.alloc(4))]);
    expectFormatError(() => scanBuffer(model({ graph: fieldBytes(5, negative) })));
  });

  test('random bytes never crash, hang or yield bad ranges', () => {
    const rand = prng(12345);
    const sizes = [1, 2, 7, 64, 255, 1000, 4097, 20000, 65537, 100000];
    let rejected = 0;
    for (const size of sizes) {
      const buf = Buffer.alloc(size);
      for (let i = 0; i < size; i++) buf[i] = Math.floor(rand() * 256);
      try {
        assertWellFormed(scanBuffer(buf), size);
      } catch (e) {
        assert.ok(isFormatError(e), `random ${size} bytes: ${String(e)}`);
        rejected++;
      }
    }
    assert.ok(rejected >= 8, `most random buffers are rejected (${rejected}/10)`);
  });

  test('mutated models never crash or yield bad ranges', () => {
    const rand = prng(777);
    const bases = [sparseModel(), ifSubgraphModel(), typedFieldsModel()];
    for (let i = 0; i < 300; i++) {
      const buf = Buffer.from(bases[i % bases.length]!);
      const edits = 1 + Math.floor(rand() * 4);
      for (let k = 0; k < edits; k++) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
      try {
        assertWellFormed(scanBuffer(buf), buf.length);
      } catch (e) {
        assert.ok(isFormatError(e), `mutant ${i}: ${String(e)}`);
      }
    }
  });

  test('graph nesting is bounded (depth 10000 fails cleanly, 64 works)', () => {
    expectFormatError(() => scanBuffer(nestedGraphModel(10000)), /nested deeper than 64/);
    const spec: TensorSpec = { name: 'deep', dtype: DT.FLOAT, dims: [2], raw: floatsBuffer(seededFloats(900, 2)) };
    const leaf = graph({ name: 'leaf', nodes: [], initializers: [tensor(spec)] });
    const ok = nestedGraphModel(64, leaf);
    assertPayloads(ok, scanBuffer(ok), [spec]);
    expectFormatError(() => scanBuffer(nestedGraphModel(65, leaf)), /nested deeper/);
    expectFormatError(() => scanBuffer(ok, { maxGraphDepth: 10 }), /nested deeper than 10/);
  });

  test('tensor count is bounded', () => {
    const buf = mlpModel({ layers: 6, width: 4 });
    assert.equal(scanBuffer(buf, { maxTensors: 12 }).length, 12);
    expectFormatError(() => scanBuffer(buf, { maxTensors: 11 }), /more than 11/);
  });
});

describe('builder helpers', () => {
  test('seededFloats is deterministic, ~N(0, 0.05); perturb changes a fraction slightly', () => {
    const a = seededFloats(42, 20000);
    assert.deepEqual(a, seededFloats(42, 20000));
    assert.notDeepEqual(a, seededFloats(43, 20000));
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    const std = Math.sqrt(a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length);
    assert.ok(Math.abs(mean) < 0.003 && Math.abs(std - 0.05) < 0.003, `mean ${mean} std ${std}`);
    const buf = floatsBuffer(a);
    const p = perturb(buf, 1, 0.1, 0.01);
    assert.ok(p.equals(perturb(buf, 1, 0.1, 0.01)));
    let changed = 0;
    for (let off = 0; off < buf.length; off += 4) {
      const x = buf.readFloatLE(off);
      const y = p.readFloatLE(off);
      if (x !== y) changed++;
      assert.ok(Math.abs(y - x) <= Math.abs(x) * 0.1, 'small relative change');
    }
    assert.ok(changed > 1500 && changed < 2500, `changed ${changed}`);
  });
});

// ---------------------------------------------------------------------------
// Real models. The reference walker below reads the whole file into memory and walks
// it with plain recursion: a second, naive implementation to cross-check the scanner.

interface RefPayload extends TensorPayload {
  graphDepth: number;
}

function referenceScan(buf: Buffer): RefPayload[] {
  const out: RefPayload[] = [];
  const readVarint = (pos: { i: number }): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = buf[pos.i++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
  };
  // Calls visit(field, wireType, valueStart, valueEnd, varintValue) for each field of [start, end).
  const fields = (start: number, end: number, visit: (f: number, wt: number, s: number, e: number, v: bigint) => void): void => {
    const pos = { i: start };
    while (pos.i < end) {
      const k = Number(readVarint(pos));
      const f = k >>> 3;
      const wt = k & 7;
      let v = 0n;
      const s = pos.i;
      if (wt === 0) v = readVarint(pos);
      else if (wt === 1) pos.i += 8;
      else if (wt === 5) pos.i += 4;
      else if (wt === 2) {
        const n = Number(readVarint(pos));
        visit(f, wt, pos.i, pos.i + n, v);
        pos.i += n;
        continue;
      } else throw new Error(`wire type ${wt}`);
      visit(f, wt, s, pos.i, v);
    }
  };
  const tensorAt = (s: number, e: number, depth: number): void => {
    let name = '';
    let dtype = 0;
    const dims: number[] = [];
    const found: { offset: number; length: number; form: TensorPayload['form'] }[] = [];
    const forms: Record<number, TensorPayload['form']> = { 9: 'raw', 4: 'fixed', 10: 'fixed', 5: 'varint', 7: 'varint', 11: 'varint' };
    fields(s, e, (f, wt, vs, ve, v) => {
      if (f === 1 && wt === 0) dims.push(Number(v));
      else if (f === 1 && wt === 2) dims.push(...packedDims(vs, ve));
      else if (f === 2) dtype = Number(v);
      else if (f === 8) name = buf.toString('utf8', vs, ve);
      else if (forms[f] && wt === 2 && ve > vs) found.push({ offset: vs, length: ve - vs, form: forms[f]! });
    });
    for (const p of found) out.push({ ...p, name, dtype, dims: [...dims], graphDepth: depth });
  };
  const packedDims = (s: number, e: number): number[] => {
    const pos = { i: s };
    const d: number[] = [];
    while (pos.i < e) d.push(Number(readVarint(pos)));
    return d;
  };
  const sparseAt = (s: number, e: number, depth: number): void =>
    fields(s, e, (f, wt, vs, ve) => (f === 1 || f === 2) && wt === 2 && tensorAt(vs, ve, depth));
  const nodeAt = (s: number, e: number, depth: number): void =>
    fields(s, e, (f, wt, vs, ve) => {
      if (f !== 5 || wt !== 2) return;
      fields(vs, ve, (af, awt, as, ae) => {
        if (awt !== 2) return;
        if (af === 5 || af === 10) tensorAt(as, ae, depth);
        else if (af === 6 || af === 11) graphAt(as, ae, depth + 1);
        else if (af === 22 || af === 23) sparseAt(as, ae, depth);
      });
    });
  const graphAt = (s: number, e: number, depth: number): void =>
    fields(s, e, (f, wt, vs, ve) => {
      if (wt !== 2) return;
      if (f === 1) nodeAt(vs, ve, depth);
      else if (f === 5) tensorAt(vs, ve, depth);
      else if (f === 15) sparseAt(vs, ve, depth);
    });
  fields(0, buf.length, (f, wt, vs, ve) => {
    if (wt !== 2) return;
    if (f === 7) graphAt(vs, ve, 1);
    else if (f === 20) fields(vs, ve, (tf, twt, ts, te) => (tf === 1 || tf === 2) && twt === 2 && graphAt(ts, te, 1));
    else if (f === 25) fields(vs, ve, (ff, fwt, fs, fe) => ff === 7 && fwt === 2 && nodeAt(fs, fe, 1));
  });
  return out;
}

function listOnnx(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...listOnnx(path));
    else if (entry.endsWith('.onnx')) found.push(path);
  }
  return found.sort();
}

describe('scanOnnx on the model corpus', () => {
  const corpus = process.env['MGIT_CORPUS'];

  test('every corpus model scans and matches the reference walker', (t) => {
    if (!corpus) return t.skip('MGIT_CORPUS not set: corpus tests skipped');
    const files = listOnnx(corpus);
    assert.ok(files.length > 0, `no .onnx files under ${corpus}`);
    for (const file of files) {
      const buf = readFileSync(file);
      const payloads = scanOnnxFile(file);
      assertWellFormed(payloads, buf.length);
      assert.ok(payloads.length > 0, `${file}: no payloads`);
      const ref = referenceScan(buf).map(({ graphDepth: _depth, ...p }) => p);
      assert.deepEqual(payloads, ref, `${file}: differs from the reference walker`);
      for (const p of payloads) {
        // raw_data of a fixed-size type must hold exactly prod(dims) elements.
        const size = dtypeSize(p.dtype);
        if (p.form !== 'raw' || size === 0 || p.dtype === 0 || p.dtype >= 21) continue;
        const count = p.dims.reduce((a, d) => a * d, 1);
        assert.equal(p.length, count * size, `${file}: ${p.name} length vs dims`);
      }
    }
  });

  test('Silero weights in Constant nodes inside If subgraphs are found', (t) => {
    if (!corpus) return t.skip('MGIT_CORPUS not set: corpus tests skipped');
    const silero = listOnnx(join(corpus, 'real')).filter((f) => f.includes('/silero/'));
    assert.ok(silero.length > 0, 'no silero models in the corpus');
    let withSubgraphWeights = 0;
    for (const file of silero) {
      const payloads = scanOnnxFile(file);
      assert.ok(payloads.length > 0, `${file}: no payloads`);
      const deep = referenceScan(readFileSync(file)).filter((p) => p.graphDepth > 1);
      // Every payload the reference sees inside a subgraph is among the scanner's payloads.
      const offsets = new Set(payloads.map((p) => p.offset));
      for (const p of deep) assert.ok(offsets.has(p.offset), `${file}: subgraph tensor ${p.name} missed`);
      if (deep.some((p) => p.length >= 1024)) withSubgraphWeights++;
    }
    assert.ok(withSubgraphWeights > 0, 'no silero model with weights inside subgraphs');
  });
});

// Pointer format v1 against fixed vectors (docs/pointer-spec.md): canonical emission, strict parsing,
// the limits that protect against hostile pointers.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  escapeName,
  formatPointer,
  looksLikePointer,
  parsePointer,
  pointerChunks,
  pointerVersion,
  TENSOR_PIECE_BYTES,
  unescapeName,
  type Pointer,
} from '../src/codec/pointer.js';
import { PointerError } from '../src/errors.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const H = '0123456789abcdef'.repeat(4);

// The fixed vector: a model with a 300-byte skeleton, two tensors (one with a name that needs
// escaping), the skeleton split around them.
const VECTOR =
  'mgit-pointer v1\n' +
  'format onnx\n' +
  'size 1324\n' +
  `sha256 ${H}\n` +
  `skeleton ${A} 300\n` +
  'gap 100\n' +
  `tensor ${B} 512 float32 [8,16] conv1.weight\n` +
  'gap 150\n' +
  `tensor ${C} 512 int64:varint [] layer%201/w%25%0A%C3%A9\n` +
  'gap 50\n';

const VECTOR_OBJ: Pointer = {
  format: 'onnx',
  size: 1324,
  sha256: H,
  skeleton: [{ chunk: A, length: 300 }],
  parts: [
    { kind: 'gap', length: 100 },
    { kind: 'tensor', name: 'conv1.weight', dtype: 'float32', dims: [8, 16], pieces: [{ chunk: B, length: 512 }] },
    { kind: 'gap', length: 150 },
    { kind: 'tensor', name: 'layer 1/w%\né', dtype: 'int64:varint', dims: [], pieces: [{ chunk: C, length: 512 }] },
    { kind: 'gap', length: 50 },
  ],
};

test('formats the fixed vector canonically and parses it back', () => {
  assert.equal(formatPointer(VECTOR_OBJ), VECTOR);
  assert.deepEqual(parsePointer(VECTOR), VECTOR_OBJ);
});

test('tolerates CRLF and trailing blanks but only emits LF', () => {
  const crlf = VECTOR.replace(/\n/g, ' \r\n');
  assert.deepEqual(parsePointer(crlf), VECTOR_OBJ);
  assert.equal(formatPointer(parsePointer(crlf)), VECTOR);
});

test('escapes names byte-wise and round-trips every byte value', () => {
  assert.equal(escapeName(''), '-');
  assert.equal(escapeName('-'), '%2D');
  assert.equal(escapeName('a b'), 'a%20b');
  const all = Buffer.from(Array.from({ length: 0x80 }, (_, i) => i)).toString('latin1') + 'é☃';
  assert.equal(unescapeName(escapeName(all)), all);
  assert.throws(() => unescapeName('a%2'), PointerError);
  assert.throws(() => unescapeName('a%2a'), PointerError, 'lowercase escapes are not canonical');
  assert.throws(() => unescapeName('%41'), PointerError, 'escaping a plain character is not canonical');
});

test('recognises pointers by header and version', () => {
  assert.equal(pointerVersion(Buffer.from(VECTOR)), 1);
  assert.equal(pointerVersion(Buffer.from('mgit-pointer v7\nformat x\n')), 7);
  assert.equal(looksLikePointer(Buffer.from('version https://git-lfs.github.com/spec/v1\n')), false);
  assert.equal(pointerVersion(Buffer.from('\x08\x07ONNX')), undefined);
});

test('refuses an unknown version with a message that says to upgrade', () => {
  assert.throws(() => parsePointer('mgit-pointer v2\nformat onnx\n'), /version 2 .*upgrade mgit/);
});

test('refuses pointers that break the spec', () => {
  const bad: [string, string | RegExp][] = [
    [VECTOR.replace('size 1324', 'size 1325'), /parts cover 1324 bytes but size is 1325/],
    [VECTOR.replace('size 1324', 'size 99999999999999999999'), /bad size/],
    [VECTOR.replace('gap 50\n', 'gap 51\n'), /gaps cover/],
    [VECTOR.replace(`sha256 ${H}`, `sha256 ${H.toUpperCase()}`), /bad sha256/],
    [VECTOR.replace('[8,16]', '[8,016]'), /bad dim/],
    [VECTOR.replace('float32', 'Float32'), /bad dtype/],
    [VECTOR.replace('format onnx', 'format zip'), /unknown format/],
    [VECTOR + 'extra line\n', /unknown line/],
    [VECTOR.replace('gap 150\n', 'gap 75\ngap 75\n'), /not adjacent/],
    [VECTOR.replace(`tensor ${B} 512`, `tensor ${B} 100`).replace('size 1324', 'size 912'), /under 128 bytes/],
    [VECTOR.replace('\ngap 100\n', '\ngap  100\n'), /./],
    ['mgit-pointer v1\n' + 'x'.repeat(10000) + '\n', /too long/],
  ];
  for (const [text, why] of bad) assert.throws(() => parsePointer(text), (e: Error) => e instanceof PointerError && (typeof why === 'string' ? e.message.includes(why) : why.test(e.message)), text.slice(0, 200));
});

test('a huge declared size is rejected before anything is allocated', () => {
  const p = `mgit-pointer v1\nformat raw\nsize 9007199254740993\nsha256 ${H}\n`;
  assert.throws(() => parsePointer(p), PointerError);
});

test('tensor pieces: all but the last are exactly one piece long', () => {
  const big: Pointer = {
    format: 'onnx',
    size: TENSOR_PIECE_BYTES + 1000,
    sha256: H,
    skeleton: [],
    parts: [{ kind: 'tensor', name: 'w', dtype: 'float32', dims: [1], pieces: [{ chunk: A, length: TENSOR_PIECE_BYTES }, { chunk: B, length: 1000 }] }],
  };
  const text = formatPointer(big);
  assert.match(text, /\ncont b{64} 1000\n$/);
  assert.deepEqual(parsePointer(text), big);
  const wrong = text.replace(`tensor ${A} ${TENSOR_PIECE_BYTES}`, `tensor ${A} 1000`).replace(`size ${TENSOR_PIECE_BYTES + 1000}`, 'size 2000');
  assert.throws(() => parsePointer(wrong), /piece 0 has length/);
});

test('pointerChunks lists each chunk once in file order', () => {
  const p = parsePointer(VECTOR);
  assert.deepEqual(pointerChunks(p).map((c) => c.chunk), [A, B, C]);
});

// Pointer format v1 (docs/pointer-spec.md): the small text blob git stores in place of a model.
// Pure: emits the one canonical form and parses strictly (tolerating CR and trailing blanks, as
// pointers may pass through CRLF conversion). Knows nothing of git, disks or chunk encodings; every
// threshold that shapes a pointer is a constant here, never configuration.

import { PointerError } from '../errors.js';

export const POINTER_HEADER = 'mgit-pointer v1';
const HEADER_PREFIX = 'mgit-pointer v';

/** Tensor payloads smaller than this stay in the skeleton (spec constant). */
export const MIN_TENSOR_BYTES = 128;
/** Tensors larger than this are split into pieces of this size (element-aligned for every dtype). */
export const TENSOR_PIECE_BYTES = 16 * 1024 * 1024;
/** The skeleton (all bytes outside tensor payloads) is stored in pieces of this size. */
export const SKELETON_PIECE_BYTES = 4 * 1024 * 1024;

/** Parser limits: a pointer is untrusted input. */
export const MAX_POINTER_BYTES = 64 * 1024 * 1024;
const MAX_LINE = 8192;
const MAX_FILE_SIZE = Number.MAX_SAFE_INTEGER;

export type Format = 'onnx' | 'raw';

export interface ChunkRef {
  chunk: string;
  length: number;
}

/** A tensor payload in the file: one or more pieces, each a chunk. */
export interface TensorPart {
  kind: 'tensor';
  name: string;
  dtype: string; // e.g. float32, int64:varint
  dims: number[];
  pieces: ChunkRef[];
}

/** Bytes taken, in order, from the skeleton stream. */
export interface GapPart {
  kind: 'gap';
  length: number;
}

export interface Pointer {
  format: Format;
  size: number;
  sha256: string;
  skeleton: ChunkRef[];
  parts: (TensorPart | GapPart)[];
}

const HEX64 = /^[0-9a-f]{64}$/;
const DTYPE = /^[a-z][a-z0-9]*(:varint)?$/;
const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

// ---------------------------------------------------------------------------------------------
// Names: protobuf strings (UTF-8), escaped byte-wise so a pointer stays one token per field.

export function escapeName(name: string): string {
  if (name === '') return '-';
  if (name === '-') return '%2D';
  let out = '';
  for (const b of Buffer.from(name, 'utf8')) {
    out += b > 0x20 && b < 0x7f && b !== 0x25 ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** A name that escaping leaves as it is: printable ASCII without '%' (and not the empty-name mark). */
const PLAIN_NAME = /^[\x21-\x24\x26-\x7e]+$/;

export function unescapeName(token: string): string {
  if (token === '-') return '';
  if (PLAIN_NAME.test(token)) return token; // most names: nothing to decode, canonical by construction
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c === 0x25) {
      const hex = token.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) throw new PointerError(`bad escape in name ${JSON.stringify(token)}`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c > 0x20 && c < 0x7f) {
      bytes.push(c);
    } else {
      throw new PointerError(`bad character in name ${JSON.stringify(token)}`);
    }
  }
  const name = Buffer.from(bytes).toString('utf8');
  if (escapeName(name) !== token) throw new PointerError(`name ${JSON.stringify(token)} is not in canonical form`);
  return name;
}

function formatDims(dims: number[]): string {
  return `[${dims.join(',')}]`;
}

function parseDims(token: string): number[] {
  if (!token.startsWith('[') || !token.endsWith(']')) throw new PointerError(`bad dims ${token}`);
  const inner = token.slice(1, -1);
  if (inner === '') return [];
  return inner.split(',').map((d) => parseDecimal(d, 'dim'));
}

function parseDecimal(token: string, what: string): number {
  if (!DECIMAL.test(token)) throw new PointerError(`bad ${what} ${JSON.stringify(token)}`);
  const n = Number(token);
  if (n > MAX_FILE_SIZE) throw new PointerError(`${what} ${token} too large`);
  return n;
}

function parseChunk(token: string): string {
  if (!HEX64.test(token)) throw new PointerError(`bad chunk id ${JSON.stringify(token)}`);
  return token;
}

// ---------------------------------------------------------------------------------------------

export function formatPointer(p: Pointer): string {
  const lines = [POINTER_HEADER, `format ${p.format}`, `size ${p.size}`, `sha256 ${p.sha256}`];
  for (const s of p.skeleton) lines.push(`skeleton ${s.chunk} ${s.length}`);
  for (const part of p.parts) {
    if (part.kind === 'gap') {
      lines.push(`gap ${part.length}`);
    } else {
      const [first, ...rest] = part.pieces;
      lines.push(`tensor ${first.chunk} ${first.length} ${part.dtype} ${formatDims(part.dims)} ${escapeName(part.name)}`);
      for (const r of rest) lines.push(`cont ${r.chunk} ${r.length}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** True when the bytes begin like a pointer of any version (used to pass pointers through clean). */
export function looksLikePointer(head: Uint8Array): boolean {
  const prefix = Buffer.from(HEADER_PREFIX);
  if (head.length < prefix.length + 2) return false;
  return Buffer.from(head.subarray(0, prefix.length)).equals(prefix) && head[prefix.length] >= 0x30 && head[prefix.length] <= 0x39;
}

/** The pointer-spec version in the header, or undefined when the bytes are not a pointer. */
export function pointerVersion(head: Uint8Array): number | undefined {
  if (!looksLikePointer(head)) return undefined;
  const text = Buffer.from(head.subarray(0, 32)).toString('latin1');
  const m = /^mgit-pointer v([0-9]{1,6})[ \t]*\r?\n/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * Parses a pointer. Throws PointerError for anything that is not exactly a v1 pointer: callers that
 * must pass unknown content through check `looksLikePointer` first.
 */
export function parsePointer(data: Uint8Array | string): Pointer {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length > MAX_POINTER_BYTES) throw new PointerError(`pointer is ${buf.length} bytes, over the ${MAX_POINTER_BYTES} limit`);
  const version = pointerVersion(buf);
  if (version === undefined) throw new PointerError('missing header');
  if (version !== 1) throw new PointerError(`pointer version ${version} is not supported by this mgit (it reads v1): upgrade mgit`);
  const text = buf.toString('latin1');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const fields = lines.map((l, i) => {
    if (l.length > MAX_LINE) throw new PointerError(`line ${i + 1} is too long`);
    return l.replace(/[ \t\r]+$/, '').split(' ');
  });
  const expect = (i: number, key: string): string => {
    const f = fields[i];
    if (!f || f[0] !== key || f.length !== 2) throw new PointerError(`line ${i + 1}: expected "${key} <value>"`);
    return f[1];
  };
  const format = expect(1, 'format');
  if (format !== 'onnx' && format !== 'raw') throw new PointerError(`unknown format ${format}`);
  const size = parseDecimal(expect(2, 'size'), 'size');
  const sha256 = expect(3, 'sha256');
  if (!HEX64.test(sha256)) throw new PointerError('bad sha256');

  const skeleton: ChunkRef[] = [];
  const parts: (TensorPart | GapPart)[] = [];
  let i = 4;
  for (; i < fields.length && fields[i][0] === 'skeleton'; i++) {
    const f = fields[i];
    if (f.length !== 3) throw new PointerError(`line ${i + 1}: expected "skeleton <chunk> <length>"`);
    skeleton.push({ chunk: parseChunk(f[1]), length: parseDecimal(f[2], 'length') });
  }
  for (; i < fields.length; i++) {
    const f = fields[i];
    const last = parts[parts.length - 1];
    switch (f[0]) {
      case 'gap':
        if (f.length !== 2) throw new PointerError(`line ${i + 1}: expected "gap <length>"`);
        parts.push({ kind: 'gap', length: parseDecimal(f[1], 'length') });
        break;
      case 'tensor':
        if (f.length !== 6) throw new PointerError(`line ${i + 1}: expected "tensor <chunk> <length> <dtype> <dims> <name>"`);
        if (!DTYPE.test(f[3])) throw new PointerError(`line ${i + 1}: bad dtype ${f[3]}`);
        parts.push({
          kind: 'tensor',
          pieces: [{ chunk: parseChunk(f[1]), length: parseDecimal(f[2], 'length') }],
          dtype: f[3],
          dims: parseDims(f[4]),
          name: unescapeName(f[5]),
        });
        break;
      case 'cont':
        if (f.length !== 3 || !last || last.kind !== 'tensor') throw new PointerError(`line ${i + 1}: "cont" must follow a tensor line`);
        last.pieces.push({ chunk: parseChunk(f[1]), length: parseDecimal(f[2], 'length') });
        break;
      default:
        throw new PointerError(`line ${i + 1}: unknown line "${f[0].slice(0, 40)}"`);
    }
  }
  const p: Pointer = { format: format as Format, size, sha256, skeleton, parts };
  validate(p);
  if (formatPointer(p) !== text.replace(/[ \t\r]+\n/g, '\n').replace(/\n?$/, '\n')) {
    throw new PointerError('not in canonical form');
  }
  return p;
}

/** Checks the arithmetic of a pointer: lengths add up, pieces are as the spec cuts them. */
export function validate(p: Pointer): void {
  const skeletonBytes = p.skeleton.reduce((a, s) => a + s.length, 0);
  p.skeleton.forEach((s, i) => {
    const lastPiece = i === p.skeleton.length - 1;
    if (s.length === 0 || s.length > SKELETON_PIECE_BYTES || (!lastPiece && s.length !== SKELETON_PIECE_BYTES)) {
      throw new PointerError(`skeleton piece ${i} has length ${s.length}`);
    }
  });
  let gaps = 0;
  let total = 0;
  let prevGap = false;
  for (const part of p.parts) {
    if (part.kind === 'gap') {
      if (part.length === 0 || prevGap) throw new PointerError('gaps must be non-empty and not adjacent');
      gaps += part.length;
      total += part.length;
      prevGap = true;
    } else {
      prevGap = false;
      part.pieces.forEach((piece, i) => {
        const lastPiece = i === part.pieces.length - 1;
        if (piece.length === 0 || piece.length > TENSOR_PIECE_BYTES || (!lastPiece && piece.length !== TENSOR_PIECE_BYTES)) {
          throw new PointerError(`tensor ${JSON.stringify(part.name)} piece ${i} has length ${piece.length}`);
        }
        total += piece.length;
      });
      const bytes = part.pieces.reduce((a, x) => a + x.length, 0);
      if (bytes < MIN_TENSOR_BYTES) throw new PointerError(`tensor ${JSON.stringify(part.name)} is under ${MIN_TENSOR_BYTES} bytes`);
      if (p.format !== 'onnx') throw new PointerError('tensor lines need format onnx');
    }
  }
  if (gaps !== skeletonBytes) throw new PointerError(`gaps cover ${gaps} bytes but the skeleton holds ${skeletonBytes}`);
  if (total !== p.size) throw new PointerError(`parts cover ${total} bytes but size is ${p.size}`);
}

/** Every chunk a pointer needs, in file order, without repeats. */
export function pointerChunks(p: Pointer): ChunkRef[] {
  const seen = new Set<string>();
  const out: ChunkRef[] = [];
  const add = (c: ChunkRef) => {
    if (!seen.has(c.chunk)) {
      seen.add(c.chunk);
      out.push(c);
    }
  };
  p.skeleton.forEach(add);
  for (const part of p.parts) if (part.kind === 'tensor') part.pieces.forEach(add);
  return out;
}

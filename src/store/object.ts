// The stored form of one chunk (docs/store-format.md). A chunk's id is the sha256 of its raw bytes;
// how those bytes are kept is private to the store and recorded in the object header, so a later
// repack may re-encode a chunk without any pointer changing. Pure: no disk, no git.
//
//   offset 0  magic "MGC" + format version (1)
//          4  encoding: 0 raw, 1 byte planes + zstd
//          5  plane width (1..16)
//          6  reserved (0, 0)
//          8  raw length, u64 little-endian
//         16  payload

import { fromPlanes, toPlanes } from '../codec/planes.js';
import { zstdCompress, zstdDecompress } from '../codec/zstd.js';

export const OBJECT_MAGIC = Buffer.from('MGC\x01', 'latin1');
export const HEADER_BYTES = 16;

export const enum Encoding {
  Raw = 0,
  Planes = 1,
}

export interface ObjectHeader {
  encoding: number;
  width: number;
  rawLength: number;
}

export function readHeader(obj: Uint8Array): ObjectHeader {
  if (obj.length < HEADER_BYTES || !Buffer.from(obj.subarray(0, 4)).equals(OBJECT_MAGIC)) {
    throw new Error('not an mgit chunk object (bad magic)');
  }
  const view = Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength);
  const rawLength = Number(view.readBigUInt64LE(8));
  if (!Number.isSafeInteger(rawLength)) throw new Error('raw length out of range');
  return { encoding: obj[4], width: obj[5], rawLength };
}

function header(encoding: Encoding, width: number, rawLength: number): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  OBJECT_MAGIC.copy(h, 0);
  h[4] = encoding;
  h[5] = width;
  h.writeBigUInt64LE(BigInt(rawLength), 8);
  return h;
}

/**
 * Encodes a chunk standalone: byte planes of the given width then zstd level 1 (measured best on
 * plane-split weights, docs/store-format.md), or raw when compression does not pay.
 */
export function encodeStandalone(raw: Uint8Array, width: number): Buffer[] {
  if (raw.length >= 64) {
    const z = zstdCompress(toPlanes(raw, width), 1);
    if (z.length < raw.length - raw.length / 64) return [header(Encoding.Planes, width, raw.length), z];
  }
  return [header(Encoding.Raw, 1, raw.length), Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)];
}

/** Chunk ids an object refers to (delta bases); standalone encodings have none. */
export function objectBases(obj: Uint8Array): string[] {
  readHeader(obj);
  return [];
}

/** Decodes an object to the chunk's raw bytes. The caller verifies the hash. */
export function decodeObject(obj: Uint8Array, maxLength: number): Buffer {
  const h = readHeader(obj);
  if (h.rawLength > maxLength) throw new Error(`object claims ${h.rawLength} bytes, over the ${maxLength} limit`);
  const payload = obj.subarray(HEADER_BYTES);
  switch (h.encoding) {
    case Encoding.Raw:
      if (payload.length !== h.rawLength) throw new Error('raw payload length mismatch');
      return Buffer.from(payload);
    case Encoding.Planes:
      if (h.width < 1 || h.width > 16) throw new Error(`bad plane width ${h.width}`);
      return fromPlanes(zstdDecompress(payload, h.rawLength), h.width);
    default:
      throw new Error(`unknown encoding ${h.encoding} (written by a newer mgit?)`);
  }
}

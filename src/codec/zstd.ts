// The one place that knows which zstd implementation runs. Node's built-in zstd (node:zlib, Node >= 22.15)
// is used where it exists; on Node 20 the native zstd-napi addon (compiled from its bundled sources at
// install) takes its place. Both write standard zstd frames, so stores move freely between them.
// Callers give the expected decompressed size, so a hostile frame cannot make us allocate more.

import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';

interface Codec {
  name: string;
  compress(data: Uint8Array, level: number): Buffer;
  decompress(data: Uint8Array, size: number): Buffer;
}

type NodeZstd = {
  zstdCompressSync?: (b: Uint8Array, o: object) => Buffer;
  zstdDecompressSync?: (b: Uint8Array, o: object) => Buffer;
  constants: Record<string, number>;
};

function builtin(): Codec | undefined {
  const z = zlib as unknown as NodeZstd;
  if (!z.zstdCompressSync || !z.zstdDecompressSync) return undefined;
  const c = z.constants;
  const compress = z.zstdCompressSync;
  const decompress = z.zstdDecompressSync;
  return {
    name: `node:zlib (zstd, node ${process.versions.node})`,
    compress: (data, level) =>
      compress(data, { params: { [c.ZSTD_c_compressionLevel]: level }, chunkSize: 1 << 20 }),
    decompress: (data, size) =>
      decompress(data, { maxOutputLength: Math.max(size, 1), chunkSize: Math.min(Math.max(size, 64), 1 << 20) }),
  };
}

function napi(): Codec | undefined {
  try {
    const require = createRequire(import.meta.url);
    const m = require('zstd-napi') as {
      compress(b: Uint8Array, o?: object): Buffer;
      Decompressor: new () => { decompress(b: Uint8Array): Buffer; setParameters(p: object): void };
    };
    const d = new m.Decompressor();
    return {
      name: 'zstd-napi',
      compress: (data, level) => m.compress(data, { compressionLevel: level }),
      decompress: (data) => d.decompress(data),
    };
  } catch {
    return undefined;
  }
}

let codec: Codec | undefined;

function get(): Codec {
  codec ??= builtin() ?? napi();
  if (!codec) {
    throw new Error('no zstd implementation: use Node >= 22.15, or install the optional dependency zstd-napi (npm install zstd-napi)');
  }
  return codec;
}

export function zstdName(): string {
  return get().name;
}

export function zstdCompress(data: Uint8Array, level = 1): Buffer {
  return get().compress(data, level);
}

/**
 * The content size a zstd frame header declares, or undefined when the header leaves it out
 * (RFC 8878 section 3.1.1.1). Checked before decompressing so a frame cannot ask for more memory
 * than the caller expects.
 */
export function zstdFrameContentSize(frame: Uint8Array): number | undefined {
  if (frame.length < 6 || frame[0] !== 0x28 || frame[1] !== 0xb5 || frame[2] !== 0x2f || frame[3] !== 0xfd) {
    throw new Error('not a zstd frame');
  }
  const fhd = frame[4];
  const fcsFlag = fhd >> 6;
  const single = (fhd >> 5) & 1;
  const dictFlag = fhd & 3;
  let p = 5 + (single ? 0 : 1) + [0, 1, 2, 4][dictFlag];
  const fcsBytes = [single ? 1 : 0, 2, 4, 8][fcsFlag];
  if (fcsBytes === 0) return undefined;
  if (p + fcsBytes > frame.length) throw new Error('truncated zstd frame header');
  let v = 0;
  for (let i = fcsBytes - 1; i >= 0; i--) v = v * 256 + frame[p + i];
  return fcsBytes === 2 ? v + 256 : v;
}

/** Decompresses a frame that must hold exactly `size` bytes; anything else throws. */
export function zstdDecompress(data: Uint8Array, size: number): Buffer {
  const declared = zstdFrameContentSize(data);
  if (declared !== undefined && declared !== size) {
    throw new Error(`zstd frame declares ${declared} bytes, expected ${size}`);
  }
  const out = get().decompress(data, size);
  if (out.length !== size) throw new Error(`zstd frame holds ${out.length} bytes, expected ${size}`);
  return out;
}

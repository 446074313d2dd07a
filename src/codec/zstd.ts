// The one place that knows which zstd implementation runs. The native zstd-napi addon (an optional
// dependency, compiled from its bundled zstd sources at install) is preferred on every Node version:
// it supports raw-content dictionaries, which the delta encodings use. Where it is missing, Node's
// built-in zstd (node:zlib, Node >= 22.15) takes its place. Both write standard zstd frames.
// Callers give the expected decompressed size, so a hostile frame cannot make us allocate more.

import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';

/** Largest window a frame may ask for when decoding (128 MiB): bounds decoder memory. */
const WINDOW_LOG_MAX = 27;

/** Window and match-finder table sizes for dictionary compression (log2). */
interface DictParams {
  windowLog: number;
  hashLog: number;
}

interface Codec {
  name: string;
  compress(data: Uint8Array, level: number, dict?: Uint8Array, p?: DictParams): Buffer;
  decompress(data: Uint8Array, size: number, dict?: Uint8Array): Buffer;
  /** Decompresses into `dst`, which the frame must fill exactly; returns the bytes written. */
  decompressInto(data: Uint8Array, dst: Uint8Array, dict?: Uint8Array): number;
}

type NapiBinding = {
  DCtx: new () => {
    setParameter(p: number, v: number): void;
    decompress(dst: Uint8Array, src: Uint8Array): number;
    decompressUsingDict(dst: Uint8Array, src: Uint8Array, dict: Uint8Array): number;
  };
  DParameter: Record<string, number>;
};

type NapiModule = {
  Compressor: new () => { setParameters(p: object): void; loadDictionary(d: Uint8Array): void; compress(b: Uint8Array): Buffer };
  Decompressor: new () => { setParameters(p: object): void; loadDictionary(d: Uint8Array): void; decompress(b: Uint8Array): Buffer };
};

function napi(): Codec | undefined {
  let m: NapiModule;
  try {
    m = createRequire(import.meta.url)('zstd-napi') as NapiModule;
  } catch {
    return undefined;
  }
  const plain = new m.Compressor();
  let plainLevel = -1;
  const dec = new m.Decompressor();
  dec.setParameters({ windowLogMax: WINDOW_LOG_MAX });
  // The low-level context decompresses into a buffer of ours, and takes a raw-content dictionary by
  // reference: loading one into a Decompressor copies it (a 9 MB dictionary for each chunk, on digits).
  const binding = createRequire(import.meta.url)('zstd-napi/binding') as NapiBinding;
  const dctx = new binding.DCtx();
  dctx.setParameter(binding.DParameter.windowLogMax, WINDOW_LOG_MAX);
  return {
    name: 'zstd-napi',
    compress: (data, level, dict, p) => {
      if (!dict) {
        if (plainLevel !== level) {
          plain.setParameters({ compressionLevel: level });
          plainLevel = level;
        }
        return plain.compress(data);
      }
      const c = new m.Compressor();
      c.setParameters({ compressionLevel: level, windowLog: p?.windowLog ?? 0, hashLog: p?.hashLog ?? 0, chainLog: p?.hashLog ?? 0 });
      c.loadDictionary(dict);
      return c.compress(data);
    },
    decompress: (data, _size, dict) => {
      if (!dict) return dec.decompress(data);
      const d = new m.Decompressor();
      d.setParameters({ windowLogMax: WINDOW_LOG_MAX });
      d.loadDictionary(dict);
      return d.decompress(data);
    },
    decompressInto: (data, dst, dict) => (dict ? dctx.decompressUsingDict(dst, data, dict) : dctx.decompress(dst, data)),
  };
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
    compress: (data, level, dict, p) =>
      compress(data, {
        params: {
          [c.ZSTD_c_compressionLevel]: level,
          ...(p ? { [c.ZSTD_c_windowLog]: p.windowLog, [c.ZSTD_c_hashLog]: p.hashLog, [c.ZSTD_c_chainLog]: p.hashLog } : {}),
        },
        chunkSize: 1 << 20,
        ...(dict ? { dictionary: dict } : {}),
      }),
    decompress: (data, size, dict) =>
      decompress(data, {
        maxOutputLength: Math.max(size, 1),
        chunkSize: Math.min(Math.max(size, 64), 1 << 20),
        params: { [c.ZSTD_d_windowLogMax]: WINDOW_LOG_MAX },
        ...(dict ? { dictionary: dict } : {}),
      }),
    decompressInto(data, dst, dict) {
      const out = this.decompress(data, dst.length, dict);
      if (out.length > dst.length) throw new Error(`zstd frame holds over ${dst.length} bytes`);
      dst.set(out);
      return out.length;
    },
  };
}

let codec: Codec | undefined;

function get(): Codec {
  codec ??= napi() ?? builtin();
  if (!codec) {
    throw new Error('no zstd implementation: install the optional dependency zstd-napi (npm install zstd-napi), or use Node >= 22.15');
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
 * Compresses with `dict` as a raw-content dictionary: matches may point into the dictionary, so data
 * that repeats slices of it costs little. The window covers dictionary and data, and the match
 * finder's tables grow with the dictionary: at a level's default sizes a multi-megabyte dictionary
 * overwrites its own entries and most matches are lost (measured: 876 KB against 6.7 KB for a 2 MB
 * block of a 6 MB dictionary's weights).
 */
export function zstdCompressWithDict(data: Uint8Array, dict: Uint8Array, level = 3): Buffer {
  const need = Math.ceil(Math.log2(Math.max(1024, dict.length + data.length)));
  const windowLog = Math.min(WINDOW_LOG_MAX, Math.max(10, need));
  return get().compress(data, level, dict, { windowLog, hashLog: Math.min(24, Math.max(17, need)) });
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
  const p = 5 + (single ? 0 : 1) + [0, 1, 2, 4][dictFlag];
  const fcsBytes = [single ? 1 : 0, 2, 4, 8][fcsFlag];
  if (fcsBytes === 0) return undefined;
  if (p + fcsBytes > frame.length) throw new Error('truncated zstd frame header');
  let v = 0;
  for (let i = fcsBytes - 1; i >= 0; i--) v = v * 256 + frame[p + i];
  return fcsBytes === 2 ? v + 256 : v;
}

/** Decompresses a frame that must hold exactly `size` bytes; anything else throws. */
export function zstdDecompress(data: Uint8Array, size: number, dict?: Uint8Array): Buffer {
  const declared = zstdFrameContentSize(data);
  if (declared === undefined) throw new Error('zstd frame does not declare its size');
  if (declared !== size) throw new Error(`zstd frame declares ${declared} bytes, expected ${size}`);
  const out = get().decompress(data, size, dict);
  if (out.length !== size) throw new Error(`zstd frame holds ${out.length} bytes, expected ${size}`);
  return out;
}

/**
 * Decompresses a frame into `dst`, which it must fill exactly (the frame's declared size is checked
 * first): decoding puts streams straight into the kernels' scratch memory, with no buffer of their own.
 */
export function zstdDecompressInto(data: Uint8Array, dst: Uint8Array, dict?: Uint8Array): void {
  const declared = zstdFrameContentSize(data);
  if (declared === undefined) throw new Error('zstd frame does not declare its size');
  if (declared !== dst.length) throw new Error(`zstd frame declares ${declared} bytes, expected ${dst.length}`);
  const n = get().decompressInto(data, dst, dict);
  if (n !== dst.length) throw new Error(`zstd frame holds ${n} bytes, expected ${dst.length}`);
}

// The WebAssembly kernels (kernels.wat), for decoding: byte planes joined 16 elements at a time with
// SIMD shuffles, masked XOR without branches, int8 and float16 prediction several lanes at a time.
// Each thread gets its own instance and memory, a scratch area that decoding reuses from one chunk to
// the next: streams are decompressed straight into it, so a checkout allocates one fresh buffer per
// chunk (its bytes) instead of four. Encoding (clean, repack) still runs the JavaScript loops.
// The JavaScript loops stay as the reference and the fallback (MGIT_KERNELS=js, or no kernels.wasm).

import * as fs from 'node:fs';

interface Exports {
  memory: WebAssembly.Memory;
  join4(src: number, stride: number, groups: number, dst: number): void;
  join4x(src: number, stride: number, groups: number, dst: number, x: number): void;
  join2(src: number, stride: number, groups: number, dst: number): void;
  join2x(src: number, stride: number, groups: number, dst: number, x: number): void;
  unmask4(cls: number, count: number, res: number, base: number, out: number): number;
  unmask2(cls: number, count: number, res: number, base: number, out: number): number;
  quant(base: number, count: number, rows: number, s: number, xor: number, out: number): void;
  cast(base: number, count: number, kind: number, dst: number): void;
}

const PAGE = 65536;
/**
 * Scratch kept from one job to the next; beyond this a job's end gives the memory back (dropKernels):
 * a prestarted filter that rebuilt digits would otherwise wait with 20 MB of it in each thread.
 */
const KEEP_BYTES = 8 * 1024 * 1024;

export class Kernels {
  private view: Uint8Array;

  constructor(readonly k: Exports) {
    this.view = new Uint8Array(k.memory.buffer);
  }

  /**
   * The scratch memory, at least `bytes` long. Growing it detaches every earlier view: callers reserve
   * all they need first, then take views.
   */
  reserve(bytes: number): Uint8Array {
    const have = this.k.memory.buffer.byteLength;
    if (bytes > have) this.k.memory.grow(Math.ceil((bytes - have) / PAGE));
    if (this.view.buffer !== this.k.memory.buffer) this.view = new Uint8Array(this.k.memory.buffer);
    return this.view;
  }

  get size(): number {
    return this.k.memory.buffer.byteLength;
  }
}

let compiled: WebAssembly.Module | null | undefined;
let instance: Kernels | undefined;

/** This thread's kernels, or undefined when they cannot run here (then the JavaScript loops do). */
export function kernels(): Kernels | undefined {
  if (instance) return instance;
  if (compiled === undefined) {
    compiled = null;
    if (process.env.MGIT_KERNELS !== 'js') {
      try {
        compiled = new WebAssembly.Module(fs.readFileSync(new URL('./kernels.wasm', import.meta.url)));
      } catch {
        compiled = null; // not built (tsc alone), or no WebAssembly SIMD: the reference loops
      }
    }
  }
  if (!compiled) return undefined;
  instance = new Kernels(new WebAssembly.Instance(compiled, {}).exports as unknown as Exports);
  return instance;
}

/** Whether the kernels run in this process (for `git mgit version` and the tests). */
export function kernelsName(): string {
  return kernels() ? 'wasm-simd' : 'js';
}

/** Lets a large scratch memory go (between jobs): the next chunk starts a small one. */
export function dropKernels(): void {
  if (instance && instance.size > KEEP_BYTES) instance = undefined;
}

/** 16-byte alignment for scratch offsets (SIMD loads need none, but they run faster aligned). */
export function align16(n: number): number {
  return (n + 15) & ~15;
}

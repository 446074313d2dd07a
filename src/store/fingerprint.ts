// Finds which stored tensors occur inside a block of bytes that has no tensor structure of its own
// (an ONNX external-data file, a skeleton): each indexed tensor is keyed by 8 bytes at its start and at
// every 64 KiB inside it (a block may begin in the middle of a tensor), and a block is scanned at every
// 4-byte-aligned offset. The hits become dictionary bases for the block, so
// a `.onnx.data` file holding the same weights as a model already stored costs almost nothing.
// Collisions only add candidates; the encoder keeps whatever is smallest.

const MIN_TENSOR = 4096;
const MAX_PER_KEY = 4;
const STRIDE = 64 * 1024;

function key(w0: number, w1: number): number {
  return (Math.imul(w0, 0x9e3779b1) ^ w1) >>> 0;
}

export class FingerprintIndex {
  private readonly map = new Map<number, string[]>();

  add(id: string, raw: Uint8Array): void {
    if (raw.length < MIN_TENSOR) return;
    for (let off = 0; off + 8 <= raw.length; off += STRIDE) {
      const w0 = raw[off] | (raw[off + 1] << 8) | (raw[off + 2] << 16) | (raw[off + 3] << 24);
      const w1 = raw[off + 4] | (raw[off + 5] << 8) | (raw[off + 6] << 16) | (raw[off + 7] << 24);
      if (w0 === 0 && w1 === 0) continue; // zeros start everything
      const k = key(w0, w1);
      const list = this.map.get(k) ?? [];
      if (!list.includes(id) && list.length < MAX_PER_KEY) list.push(id);
      this.map.set(k, list);
    }
  }

  get size(): number {
    return this.map.size;
  }

  /** Indexed tensors whose first bytes occur in `block`, in order of first occurrence. */
  find(block: Uint8Array, limit = 8): string[] {
    const out: string[] = [];
    if (this.map.size === 0 || block.length < 8) return out;
    const b = block.byteOffset % 4 === 0 ? block : new Uint8Array(block);
    const words = new Uint32Array(b.buffer, b.byteOffset, b.length >>> 2);
    for (let i = 0; i + 1 < words.length && out.length < limit; i++) {
      if (words[i] === 0 && words[i + 1] === 0) continue;
      const hit = this.map.get(key(words[i], words[i + 1]));
      if (hit) for (const id of hit) if (!out.includes(id) && out.length < limit) out.push(id);
    }
    return out;
  }
}

// pkt-line framing (gitprotocol-common): a 4-hex-digit length that counts itself, then the payload;
// "0000" is a flush. Payloads are at most 65516 bytes. Pure framing over Node streams; knows nothing
// of what the packets mean.

import type { Readable, Writable } from 'node:stream';

export const MAX_PACKET_DATA = 65516;
export const FLUSH = null;
export type Packet = Buffer | null;

export class PktLineError extends Error {}

/** Reads packets from a stream. `read()` returns null for a flush and throws at EOF mid-packet. */
export class PktReader {
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer>;
  private ended = false;

  constructor(stream: Readable) {
    this.it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  private async fill(n: number): Promise<boolean> {
    while (this.buf.length < n) {
      if (this.ended) return false;
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        return false;
      }
      this.buf = this.buf.length === 0 ? r.value : Buffer.concat([this.buf, r.value]);
    }
    return true;
  }

  /** The next packet; undefined at a clean EOF (between packets). */
  async read(): Promise<Packet | undefined> {
    if (!(await this.fill(4))) {
      if (this.buf.length === 0) return undefined;
      throw new PktLineError('unexpected EOF in pkt-line header');
    }
    const hex = this.buf.toString('latin1', 0, 4);
    if (!/^[0-9a-f]{4}$/.test(hex)) throw new PktLineError(`bad pkt-line header ${JSON.stringify(hex)}`);
    const len = parseInt(hex, 16);
    if (len === 0) {
      this.buf = this.buf.subarray(4);
      return FLUSH;
    }
    if (len < 4 || len > MAX_PACKET_DATA + 4) throw new PktLineError(`bad pkt-line length ${len}`);
    if (!(await this.fill(len))) throw new PktLineError('unexpected EOF in pkt-line payload');
    const data = this.buf.subarray(4, len);
    this.buf = this.buf.subarray(len);
    return data;
  }

  /** A text packet without its trailing LF; a flush is null. */
  async readText(): Promise<string | null | undefined> {
    const p = await this.read();
    if (p === undefined || p === null) return p;
    const s = p.toString('utf8');
    return s.endsWith('\n') ? s.slice(0, -1) : s;
  }

  /** key=value lines up to a flush. undefined at EOF before the first line. */
  async readKeyValues(): Promise<Map<string, string> | undefined> {
    const out = new Map<string, string>();
    for (;;) {
      const line = await this.readText();
      if (line === undefined) {
        if (out.size === 0) return undefined;
        throw new PktLineError('unexpected EOF in a key=value list');
      }
      if (line === null) return out;
      const eq = line.indexOf('=');
      if (eq < 0) throw new PktLineError(`expected key=value, got ${JSON.stringify(line)}`);
      out.set(line.slice(0, eq), line.slice(eq + 1));
    }
  }

  /** Content packets up to the next flush. */
  async *readContent(): AsyncGenerator<Buffer> {
    for (;;) {
      const p = await this.read();
      if (p === undefined) throw new PktLineError('unexpected EOF in content');
      if (p === null) return;
      yield p;
    }
  }
}

/** Writes packets, honouring backpressure. */
export class PktWriter {
  constructor(private readonly stream: Writable) {}

  private async raw(data: Uint8Array): Promise<void> {
    if (!this.stream.write(data)) await this.drained();
  }

  /** Resolves when the stream has room again (backpressure). */
  private drained(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onDrain = () => {
        this.stream.off('error', onError);
        resolve();
      };
      const onError = (e: Error) => {
        this.stream.off('drain', onDrain);
        reject(e);
      };
      this.stream.once('drain', onDrain);
      this.stream.once('error', onError);
    });
  }

  /** Writes data as packets; large data is written in corked batches (one writev per batch). */
  async packet(data: Uint8Array): Promise<void> {
    const BATCH = 16;
    for (let off = 0; off < data.length; ) {
      this.stream.cork();
      let ok = true;
      for (let n = 0; n < BATCH && off < data.length; n++) {
        const piece = data.subarray(off, Math.min(off + MAX_PACKET_DATA, data.length));
        this.stream.write(Buffer.from((piece.length + 4).toString(16).padStart(4, '0'), 'latin1'));
        ok = this.stream.write(piece);
        off += piece.length;
      }
      this.stream.uncork();
      if (!ok) await this.drained();
    }
  }

  /**
   * Writes content given in pieces of any size as packets: small pieces are gathered into full
   * packets (a model's many small tensors and skeleton gaps would otherwise cost a write each), large
   * ones go out as they are. Returns the number of bytes written.
   */
  async content(pieces: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<number> {
    let total = 0;
    let pending = Buffer.allocUnsafe(MAX_PACKET_DATA);
    let used = 0;
    for await (const piece of pieces) {
      total += piece.length;
      if (piece.length >= MAX_PACKET_DATA / 2) {
        if (used) await this.packet(pending.subarray(0, used));
        if (used) pending = Buffer.allocUnsafe(MAX_PACKET_DATA); // the stream may still hold the last one
        used = 0;
        await this.packet(piece);
        continue;
      }
      for (let off = 0; off < piece.length; ) {
        const n = Math.min(piece.length - off, MAX_PACKET_DATA - used);
        pending.set(piece.subarray(off, off + n), used);
        used += n;
        off += n;
        if (used === MAX_PACKET_DATA) {
          await this.packet(pending);
          pending = Buffer.allocUnsafe(MAX_PACKET_DATA);
          used = 0;
        }
      }
    }
    if (used) await this.packet(pending.subarray(0, used));
    return total;
  }

  async text(line: string): Promise<void> {
    await this.packet(Buffer.from(line + '\n', 'utf8'));
  }

  /**
   * A flush packet. `written`: resolves only once the stream has handed it (and so everything before
   * it) to the file descriptor, after which the buffers written so far may be reused.
   */
  async flush(written = false): Promise<void> {
    const packet = Buffer.from('0000', 'latin1');
    if (!written) return this.raw(packet);
    await new Promise<void>((resolve, reject) => {
      this.stream.write(packet, (e) => (e ? reject(e) : resolve()));
    });
  }
}

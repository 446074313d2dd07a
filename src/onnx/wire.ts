// Protobuf wire-format reader over a file descriptor.
//
// Owns: positional, buffered decoding of tags, varints, length-delimited fields and
// nested-message limits, reading the file through a small fixed window.
// Must never: load the whole file, read a large field into memory (payloads are
// skipped by seeking), or throw anything other than OnnxFormatError for bad input.

import { readSync } from 'node:fs';

/** Every malformed-input error of the ONNX layer; callers fall back to opaque bytes. */
export class OnnxFormatError extends Error {
  readonly code = 'EONNXFORMAT';
  constructor(message: string) {
    super(message);
    this.name = 'OnnxFormatError';
  }
}

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_START_GROUP = 3;
export const WIRE_END_GROUP = 4;
export const WIRE_FIXED32 = 5;

export interface Tag {
  field: number;
  wireType: number;
}

/** Window size: big enough that tag/name reads rarely refill, small enough to be cheap. */
const WINDOW = 64 * 1024;
/** Largest field readBytes() will materialise; anything bigger is a payload and must be skipped. */
export const MAX_INLINE_BYTES = 16 * 1024 * 1024;
/** Protobuf field numbers are 29-bit. */
const MAX_FIELD_NUMBER = 2 ** 29 - 1;

export class WireReader {
  private readonly fd: number;
  private readonly size: number;
  private readonly buf: Buffer;
  private bufStart = 0; // file offset of buf[0]
  private bufLen = 0; // valid bytes in buf
  private position = 0;
  // Ends of the enclosing length-delimited messages; the innermost is last.
  private readonly limits: number[] = [];

  constructor(fd: number, size: number, windowSize = WINDOW) {
    if (!Number.isSafeInteger(size) || size < 0) throw new OnnxFormatError(`invalid file size ${size}`);
    this.fd = fd;
    this.size = size;
    this.buf = Buffer.allocUnsafe(Math.max(16, windowSize));
  }

  /** Absolute file offset of the next byte to be read. */
  get pos(): number {
    return this.position;
  }

  /** End (exclusive) of the innermost message being read, or the file size at top level. */
  get limit(): number {
    return this.limits.length > 0 ? this.limits[this.limits.length - 1]! : this.size;
  }

  /** Number of entered (not yet left) sub-messages. */
  get depth(): number {
    return this.limits.length;
  }

  /** True when the innermost message (or the file) has been fully consumed. */
  atEnd(): boolean {
    return this.position >= this.limit;
  }

  readByte(): number {
    const p = this.position;
    if (p >= this.limit) throw this.error(`unexpected end of message (limit ${this.limit})`, p);
    let i = p - this.bufStart;
    if (i < 0 || i >= this.bufLen) {
      this.fill(p);
      i = 0;
    }
    this.position = p + 1;
    return this.buf[i]!;
  }

  /** Unsigned varint as a JS number; values beyond 2^53-1 are rejected, not rounded. */
  readVarint(): number {
    const start = this.position;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.readByte();
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) {
        if (result > Number.MAX_SAFE_INTEGER) throw this.error('varint exceeds 2^53', start);
        return result;
      }
      mul *= 128;
    }
    throw this.error('varint longer than 10 bytes', start);
  }

  /** Consumes a varint of any 64-bit value without converting it (e.g. negative int64s). */
  skipVarint(): void {
    const start = this.position;
    for (let i = 0; i < 10; i++) {
      const b = this.readByte();
      if ((b & 0x80) === 0) {
        // The 10th byte carries only bit 63; anything more overflows 64 bits.
        if (i === 9 && b > 1) throw this.error('varint overflows 64 bits', start);
        return;
      }
    }
    throw this.error('varint longer than 10 bytes', start);
  }

  readTag(): Tag {
    const start = this.position;
    const key = this.readVarint();
    const wireType = key % 8;
    const field = Math.floor(key / 8);
    if (field === 0 || field > MAX_FIELD_NUMBER) throw this.error(`invalid field number ${field}`, start);
    if (wireType === 6 || wireType === 7) throw this.error(`invalid wire type ${wireType}`, start);
    return { field, wireType };
  }

  /** Reads a length prefix and checks the field fits in the enclosing message. */
  readLength(): number {
    const start = this.position;
    const n = this.readVarint();
    if (n > this.limit - this.position) {
      throw this.error(`length-delimited field of ${n} bytes overruns its message end ${this.limit}`, start);
    }
    return n;
  }

  /** Moves forward n bytes without reading them (this is how payloads are skipped). */
  skipBytes(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.limit - this.position) {
      throw this.error(`cannot skip ${n} bytes past message end ${this.limit}`, this.position);
    }
    this.position += n;
  }

  /** Skips the value of a field whose tag was just read. */
  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.skipVarint();
        return;
      case WIRE_FIXED64:
        this.skipBytes(8);
        return;
      case WIRE_LEN:
        this.skipBytes(this.readLength());
        return;
      case WIRE_FIXED32:
        this.skipBytes(4);
        return;
      default:
        // Groups are deprecated and never used by ONNX; refusing them keeps the walker simple.
        throw this.error(`unsupported wire type ${wireType}`, this.position);
    }
  }

  /** Copies n bytes into a new Buffer; only for small fields like names. */
  readBytes(n: number): Buffer {
    if (n > MAX_INLINE_BYTES) throw this.error(`field of ${n} bytes too large to read into memory`, this.position);
    if (!Number.isSafeInteger(n) || n < 0 || n > this.limit - this.position) {
      throw this.error(`field of ${n} bytes overruns message end ${this.limit}`, this.position);
    }
    const out = Buffer.allocUnsafe(n);
    let done = 0;
    while (done < n) {
      const p = this.position;
      let i = p - this.bufStart;
      if (i < 0 || i >= this.bufLen) {
        this.fill(p);
        i = 0;
      }
      const take = Math.min(n - done, this.bufLen - i);
      this.buf.copy(out, done, i, i + take);
      done += take;
      this.position = p + take;
    }
    return out;
  }

  /** Reads a length-delimited field as UTF-8 text. */
  readString(): string {
    return this.readBytes(this.readLength()).toString('utf8');
  }

  /** Enters a sub-message of `length` bytes starting at the current position. */
  enter(length: number): void {
    if (!Number.isSafeInteger(length) || length < 0 || length > this.limit - this.position) {
      throw this.error(`sub-message of ${length} bytes overruns message end ${this.limit}`, this.position);
    }
    this.limits.push(this.position + length);
  }

  /** Leaves the innermost sub-message, which must have been consumed exactly. */
  leave(): void {
    const end = this.limits.pop();
    if (end === undefined) throw this.error('leave() without enter()', this.position);
    if (this.position !== end) throw this.error(`sub-message ends at ${this.position}, expected ${end}`, this.position);
  }

  error(what: string, offset: number): OnnxFormatError {
    return new OnnxFormatError(`${what} at byte offset ${offset}`);
  }

  private fill(p: number): void {
    const want = Math.min(this.buf.length, this.size - p);
    let got = 0;
    while (got < want) {
      // I/O failures propagate as they are: they are not a format problem.
      const n = readSync(this.fd, this.buf, got, want - got, p + got);
      if (n === 0) throw this.error(`file shorter than its declared size ${this.size}`, p + got);
      got += n;
    }
    this.bufStart = p;
    this.bufLen = got;
  }
}

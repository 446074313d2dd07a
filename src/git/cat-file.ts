// One long-lived `git cat-file --batch` process: reading many blobs through it is 5-100x faster than
// a process per blob (docs/dependencies.md). Requests are pipelined and answered in order. Blobs over
// `maxKeep` bytes are streamed past without being held in memory (no pointer is that large).

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { GitError } from '../errors.js';

export interface BatchObject {
  oid: string;
  type: string;
  size: number;
  /** undefined when missing, or when larger than maxKeep */
  data?: Buffer;
  missing?: boolean;
}

interface Pending {
  resolve(o: BatchObject): void;
  reject(e: Error): void;
  maxKeep: number;
}

export class CatFile {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly queue: Pending[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private current?: { obj: BatchObject; remaining: number; parts: Buffer[]; keep: boolean };
  private failed?: Error;
  private stderr = '';

  constructor(cwd?: string) {
    this.proc = spawn('git', ['cat-file', '--batch'], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout.on('data', (d: Buffer) => this.onData(d));
    this.proc.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.proc.on('error', (e) => this.fail(e));
    this.proc.on('close', (code) => {
      if (this.queue.length) this.fail(new GitError(['cat-file', '--batch'], this.stderr, code));
    });
    this.proc.stdin.on('error', (e) => this.fail(e));
  }

  private fail(e: Error): void {
    this.failed ??= e;
    for (const p of this.queue.splice(0)) p.reject(e);
  }

  /** Reads an object by name (oid, or any revision expression). */
  read(name: string, maxKeep = 64 * 1024 * 1024): Promise<BatchObject> {
    if (this.failed) return Promise.reject(this.failed);
    if (/[\n\r]/.test(name)) return Promise.reject(new Error('object name with a newline'));
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject, maxKeep });
      this.proc.stdin.write(name + '\n');
    });
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      if (this.current) {
        const c = this.current;
        const n = Math.min(c.remaining, this.buf.length);
        if (c.keep && n > 0) c.parts.push(this.buf.subarray(0, n));
        c.remaining -= n;
        this.buf = this.buf.subarray(n);
        if (c.remaining > 0) return;
        if (this.buf.length < 1) return; // wait for the LF that ends the content
        this.buf = this.buf.subarray(1);
        if (c.keep) c.obj.data = Buffer.concat(c.parts);
        this.current = undefined;
        this.queue.shift()!.resolve(c.obj);
        continue;
      }
      const nl = this.buf.indexOf(10);
      if (nl < 0) return;
      const line = this.buf.toString('utf8', 0, nl);
      this.buf = this.buf.subarray(nl + 1);
      const head = this.queue[0];
      if (!head) return this.fail(new Error(`unexpected cat-file output: ${line}`));
      const m = /^([0-9a-f]{40,64}) (\S+) (\d+)$/.exec(line);
      if (!m) {
        this.queue.shift()!.resolve({ oid: line.split(' ')[0], type: 'missing', size: 0, missing: true });
        continue;
      }
      const size = Number(m[3]);
      this.current = { obj: { oid: m[1], type: m[2], size }, remaining: size, parts: [], keep: size <= head.maxKeep };
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.proc.exitCode !== null) return resolve();
      this.proc.once('close', () => resolve());
      this.proc.stdin.end();
    });
  }
}

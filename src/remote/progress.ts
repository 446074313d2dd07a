// One progress line on stderr, redrawn in place, only when stderr is a terminal: logs and pipes stay
// clean. Shows counts, bytes and throughput. Never writes to stdout.

import { humanBytes } from '../format.js';

export class Progress {
  private readonly tty: boolean;
  private readonly start = performance.now();
  private last = 0;
  private shown = false;
  done = 0;
  bytes = 0;

  constructor(
    private readonly label: string,
    public total: number,
    private readonly unit: string,
    enabled = true,
  ) {
    this.tty = enabled && !!process.stderr.isTTY && process.env.MGIT_NO_PROGRESS !== '1';
  }

  add(count: number, bytes: number): void {
    this.done += count;
    this.bytes += bytes;
    this.draw(false);
  }

  private draw(final: boolean): void {
    if (!this.tty) return;
    const now = performance.now();
    if (!final && now - this.last < 100) return;
    this.last = now;
    const secs = (now - this.start) / 1000;
    const rate = secs > 0 ? this.bytes / secs : 0;
    process.stderr.write(`\rmgit: ${this.label}: ${this.done}/${this.total} ${this.unit}, ${humanBytes(this.bytes)}, ${humanBytes(rate)}/s\x1b[K`);
    this.shown = true;
  }

  finish(): void {
    if (!this.tty) return;
    if (this.shown || this.done > 0) {
      this.draw(true);
      process.stderr.write('\n');
    }
  }

  get seconds(): number {
    return (performance.now() - this.start) / 1000;
  }
}

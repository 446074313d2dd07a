// Debug tracing, like GIT_TRACE: MGIT_TRACE=1 writes to stderr, MGIT_TRACE=/abs/path appends to a file.
// Never stdout: for the filter and the remote helper, stdout is the protocol.

import * as fs from 'node:fs';

export function trace(msg: string): void {
  // read at each call, not at load: a prestarted filter (src/prestart.ts) loads modules before it
  // has the environment of the git command it serves
  const target = process.env.MGIT_TRACE;
  if (!target || target === '0' || target === 'false') return;
  const line = `${new Date().toISOString()} mgit[${process.pid}] ${msg}\n`;
  if (target.startsWith('/')) {
    try {
      fs.appendFileSync(target, line);
    } catch {
      // tracing must never break the command being traced
    }
  } else {
    process.stderr.write(line);
  }
}

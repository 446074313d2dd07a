// Debug tracing, like GIT_TRACE: MGIT_TRACE=1 writes to stderr, MGIT_TRACE=/abs/path appends to a file.
// Never stdout: for the filter and the remote helper, stdout is the protocol.

import * as fs from 'node:fs';

const target = process.env.MGIT_TRACE;
const enabled = !!target && target !== '0' && target !== 'false';

export function trace(msg: string): void {
  if (!enabled) return;
  const line = `${new Date().toISOString()} mgit[${process.pid}] ${msg}\n`;
  if (target!.startsWith('/')) {
    try {
      fs.appendFileSync(target!, line);
    } catch {
      // tracing must never break the command being traced
    }
  } else {
    process.stderr.write(line);
  }
}

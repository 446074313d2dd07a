// Errors a user can act on. Each has a stable `code` so callers switch on it, never on message text.
// The process boundaries (CLI, filter process, remote helper) print `message` without a stack trace
// for any MgitError and map it to an exit code or a protocol status; anything else is a bug.

export class MgitError extends Error {
  readonly code: string;
  readonly exitCode: number;
  constructor(code: string, message: string, exitCode = 1) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** A chunk that a pointer needs is not in the local store. */
export class ChunkMissingError extends MgitError {
  constructor(readonly chunk: string, detail = '') {
    super('ECHUNKMISSING', `chunk ${chunk} is not in the local store${detail ? ` (${detail})` : ''}`);
  }
}

/** A stored chunk does not decode to the bytes its id names. */
export class ChunkCorruptError extends MgitError {
  constructor(readonly chunk: string, why: string) {
    super('ECHUNKCORRUPT', `chunk ${chunk} is corrupt: ${why}`);
  }
}

/** Text that looks like a pointer (it has the header) but breaks the spec. */
export class PointerError extends MgitError {
  constructor(message: string) {
    super('EPOINTER', `invalid mgit pointer: ${message}`);
  }
}

/** A git command failed where mgit needed it. */
export class GitError extends MgitError {
  constructor(readonly args: readonly string[], readonly stderr: string, readonly status: number | null) {
    super('EGIT', `git ${args.join(' ')} failed${status === null ? '' : ` (exit ${status})`}: ${stderr.trim() || 'no message'}`);
  }
}

/** Bad command-line use: printed with a hint, exit 129 like git's usage errors. */
export class UsageError extends MgitError {
  constructor(message: string) {
    super('EUSAGE', message, 129);
  }
}

export function isMgitError(e: unknown): e is MgitError {
  return e instanceof MgitError;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Shared chunk storage failed as a whole (unreachable, access refused, misconfigured): retrying the
 * same operation will fail the same way until the cause is fixed, so callers stop at the first one.
 */
export class StorageError extends MgitError {
  constructor(code: 'ESTORAGE' | 'ESTORAGEUNREACHABLE' | 'ESTORAGEAUTH' | 'ESTORAGECONFIG', message: string) {
    super(code, message);
  }
}

/** A chunk that should be on shared storage is not there, or is there but damaged. */
export class StorageChunkError extends MgitError {
  constructor(code: 'ECHUNKMISSING' | 'ECHUNKCORRUPT', readonly chunk: string, message: string) {
    super(code, message);
  }
}

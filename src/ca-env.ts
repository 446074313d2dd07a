// NODE_EXTRA_CA_CERTS, deferred. The scripts in bin/ move it to MGIT_EXTRA_CA_CERTS before Node starts,
// because Node parses that certificate file at every start (about 70 ms for a system bundle), and git
// starts mgit for every add, status, checkout and hook. Only S3 transfers use TLS: they load the file
// when a client is made. The processes mgit starts (model tests, creation commands, git) get the
// variable back, so they see the environment the user set.

import * as fs from 'node:fs';

const DEFERRED = 'MGIT_EXTRA_CA_CERTS';

/** What the scripts in bin/ do before Node starts, done to an environment (a prestarted filter's job). */
export function deferCaEnv(env: NodeJS.ProcessEnv): void {
  if (!env.NODE_EXTRA_CA_CERTS) return;
  env[DEFERRED] = env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_EXTRA_CA_CERTS;
}

/** Puts NODE_EXTRA_CA_CERTS back into this process's environment, for the processes it starts. */
export function restoreCaEnv(): void {
  const file = process.env[DEFERRED];
  if (file && !process.env.NODE_EXTRA_CA_CERTS) process.env.NODE_EXTRA_CA_CERTS = file;
}

/**
 * The certificates NODE_EXTRA_CA_CERTS named when this process was started through bin/, or undefined
 * when it named none (Node then loaded them itself, or there are none). Like Node, an unreadable
 * file is a warning, not an error.
 */
export function deferredExtraCa(warn: (msg: string) => void): string | undefined {
  const file = process.env[DEFERRED];
  if (!file) return undefined;
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    warn(`ignoring extra certificates from ${file}: ${(e as Error).message}`);
    return undefined;
  }
}

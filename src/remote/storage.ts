// Shared chunk storage: the one small interface behind which a directory and S3 sit, and the parsing
// of storage locations. A storage holds stored objects (the local store's encoded form, verified by
// whoever reads them) under their chunk ids; it never interprets them. Layout (docs/remote.md):
//
//   <root>/mgit-storage          "mgit chunk storage v1": format marker, written on first upload
//   <root>/objects/ab/cdef...    one object per chunk, the same name scheme as the local store
//
// Must never: accept an id that is not 64 lowercase hex digits (ids become paths and keys), or make an
// object visible before all of its bytes are written.

import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StorageError } from '../errors.js';

export const STORAGE_MARKER = 'mgit-storage';
export const STORAGE_FORMAT = 'mgit chunk storage v1';

/** Objects larger than this are refused before they are read: no chunk object can be (64 MiB raw + header). */
export const MAX_OBJECT_BYTES = 64 * 1024 * 1024 + 4096;

export interface Storage {
  /** For messages: the directory or s3:// URL. */
  readonly url: string;
  /** Which of these objects storage holds (existence checks in parallel; S3 has no batch HEAD). */
  has(ids: string[]): Promise<Set<string>>;
  /** The stored object, or undefined when storage does not hold it. */
  get(id: string): Promise<Buffer | undefined>;
  /** Stores an object; readers see all of it or nothing. Idempotent. The transfer is checked end to end. */
  put(id: string, obj: Buffer): Promise<void>;
  /** Checks the format marker and writes it when storage is new (before the first upload). */
  prepareForWrite(): Promise<void>;
  close(): Promise<void>;
}

export type StorageSpec = { kind: 'dir'; dir: string } | { kind: 's3'; bucket: string; prefix: string };

export interface S3Settings {
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
}

/**
 * Parses a storage location: `s3://bucket[/prefix]`, `file:///abs/path`, or a directory path (relative
 * paths are taken from `base`, the repository's top level or git dir).
 */
export function parseStorageUrl(value: string, base: string): StorageSpec {
  const v = value.trim();
  if (/^s3:\/\//i.test(v)) {
    const m = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(v);
    const bucket = m?.[1] ?? '';
    if (!/^[a-z0-9][a-z0-9.\-_]{1,62}$/.test(bucket)) throw new StorageError('ESTORAGECONFIG', `invalid S3 bucket name in ${JSON.stringify(value)}`);
    const prefix = (m?.[2] ?? '').replace(/^\/+|\/+$/g, '');
    if (prefix.split('/').some((p) => p === '.' || p === '..')) throw new StorageError('ESTORAGECONFIG', `invalid S3 prefix in ${JSON.stringify(value)}`);
    return { kind: 's3', bucket, prefix };
  }
  if (/^file:\/\//i.test(v)) {
    try {
      return { kind: 'dir', dir: fileURLToPath(v) };
    } catch (e) {
      throw new StorageError('ESTORAGECONFIG', `invalid file URL ${JSON.stringify(value)}: ${(e as Error).message}`);
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) {
    throw new StorageError('ESTORAGECONFIG', `unsupported storage URL ${JSON.stringify(value)}: use a directory, file:// or s3://bucket/prefix`);
  }
  if (v === '') throw new StorageError('ESTORAGECONFIG', 'empty storage location');
  return { kind: 'dir', dir: path.resolve(base, v) };
}

export function describeSpec(spec: StorageSpec): string {
  return spec.kind === 'dir' ? spec.dir : `s3://${spec.bucket}${spec.prefix ? '/' + spec.prefix : ''}`;
}

/** The key or relative path of an object: objects/ab/cdef... */
export function objectKey(id: string): string {
  if (!/^[0-9a-f]{64}$/.test(id)) throw new Error(`invalid chunk id ${JSON.stringify(id)}`);
  return `objects/${id.slice(0, 2)}/${id.slice(2)}`;
}

/** Checks a marker's text: storage written by a newer mgit is refused rather than misread. */
export function checkMarker(text: string, url: string): void {
  const first = text.split('\n')[0].trim();
  if (first === STORAGE_FORMAT) return;
  const m = /^mgit chunk storage v(\d+)$/.exec(first);
  if (m) throw new StorageError('ESTORAGE', `storage ${url} has format v${m[1]}, written by a newer mgit: upgrade mgit`);
  throw new StorageError('ESTORAGE', `${url} holds a ${STORAGE_MARKER} file that is not mgit's: is this the right storage location?`);
}

export async function openStorage(spec: StorageSpec, s3?: S3Settings): Promise<Storage> {
  if (spec.kind === 'dir') {
    const { DirectoryStorage } = await import('./dir-storage.js');
    return new DirectoryStorage(spec.dir);
  }
  const { S3Storage } = await import('./s3-storage.js');
  return S3Storage.open(spec.bucket, spec.prefix, s3 ?? {});
}

// Chunk storage on any S3-compatible object store, through the AWS SDK (loaded only when S3 is used:
// it costs ~170 ms to import). Credentials come from the standard AWS chain (environment, profiles,
// SSO, instance roles) and are never read from or written to the repository. Every upload carries
// Content-MD5, so the server refuses bytes damaged in transit; a PUT is atomic on S3, so a transfer
// cut mid-way leaves nothing behind. Errors are mapped to what the user can act on: unreachable,
// access refused, no such bucket.

import { createHash } from 'node:crypto';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { deferredExtraCa } from '../ca-env.js';
import { StorageError } from '../errors.js';
import { trace } from '../trace.js';
import { mapLimit } from './pool.js';
import { checkMarker, MAX_OBJECT_BYTES, objectKey, STORAGE_FORMAT, STORAGE_MARKER, type S3Settings, type Storage } from './storage.js';

type SDK = typeof import('@aws-sdk/client-s3');
type Client = InstanceType<SDK['S3Client']>;

const CHECK_CONCURRENCY = 32;

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED']);

export class S3Storage implements Storage {
  readonly url: string;

  private constructor(
    private readonly sdk: SDK,
    private readonly client: Client,
    readonly bucket: string,
    readonly prefix: string,
    private readonly endpointLabel: string,
  ) {
    this.url = `s3://${bucket}${prefix ? '/' + prefix : ''}`;
  }

  static async open(bucket: string, prefix: string, settings: S3Settings): Promise<S3Storage> {
    // The SDK warns on every start under Node 20 that future releases will need Node 22; mgit pins a
    // release that supports 20, so the warning is noise in a remote helper's output.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const sdk: SDK = await import('@aws-sdk/client-s3');
    const envEndpoint = process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL;
    const endpoint = settings.endpoint || undefined;
    // A custom endpoint is almost always a self-hosted server (Ceph, MinIO), which wants path-style URLs.
    const forcePathStyle = settings.forcePathStyle ?? !!(endpoint || envEndpoint);
    const base = {
      endpoint,
      forcePathStyle,
      // S3-compatible servers often lack the SDK's newer default checksums (CRC32 trailers); we send
      // Content-MD5 ourselves and verify every object we read against its id.
      requestChecksumCalculation: 'WHEN_REQUIRED' as const,
      responseChecksumValidation: 'WHEN_REQUIRED' as const,
      maxAttempts: Number(process.env.MGIT_S3_MAX_ATTEMPTS) || 3,
      // A server that stops answering mid-request (e.g. a full cluster blocks writes) must end in an
      // error, not a hang: a socket idle this long is given up (then retried, then reported).
      requestHandler: { connectionTimeout: 10_000, socketTimeout: Number(process.env.MGIT_S3_IDLE_TIMEOUT_MS) || 120_000, httpsAgent: httpsAgent() },
    };
    let region = settings.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined;
    let client = new sdk.S3Client({ ...base, region });
    if (!region) {
      try {
        region = await client.config.region();
      } catch {
        region = undefined;
      }
      if (!region) {
        client.destroy();
        client = new sdk.S3Client({ ...base, region: 'us-east-1' }); // any region name works with most servers
      }
    }
    trace(`s3 storage ${bucket}/${prefix} endpoint=${endpoint ?? envEndpoint ?? 'aws'} pathStyle=${forcePathStyle}`);
    return new S3Storage(sdk, client, bucket, prefix, endpoint ?? envEndpoint ?? 'AWS');
  }

  private key(rel: string): string {
    return this.prefix ? `${this.prefix}/${rel}` : rel;
  }

  async prepareForWrite(): Promise<void> {
    const key = this.key(STORAGE_MARKER);
    const text = await this.getText(key);
    if (text !== undefined) return checkMarker(text, this.url);
    try {
      await this.client.send(new this.sdk.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: STORAGE_FORMAT + '\n', IfNoneMatch: '*' }));
    } catch (e) {
      if (status(e) === 412) return; // another writer created it first
      throw this.mapError(e, 'write the storage marker');
    }
  }

  private async getText(key: string): Promise<string | undefined> {
    try {
      const r = await this.client.send(new this.sdk.GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return (await r.Body?.transformToString('utf8')) ?? '';
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw this.mapError(e, 'read the storage marker');
    }
  }

  async has(ids: string[]): Promise<Set<string>> {
    const present = new Set<string>();
    await mapLimit(ids, CHECK_CONCURRENCY, async (id) => {
      try {
        const r = await this.client.send(new this.sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.key(objectKey(id)) }));
        if ((r.ContentLength ?? 1) > 0) present.add(id);
      } catch (e) {
        if (!isNotFound(e)) throw this.mapError(e, `check object ${id}`);
      }
    });
    return present;
  }

  async get(id: string): Promise<Buffer | undefined> {
    try {
      const r = await this.client.send(new this.sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.key(objectKey(id)) }));
      if ((r.ContentLength ?? 0) > MAX_OBJECT_BYTES) {
        (r.Body as { destroy?: () => void } | undefined)?.destroy?.();
        throw new StorageError('ESTORAGE', `object ${id} on storage ${this.url} is ${r.ContentLength} bytes, more than any chunk object can be`);
      }
      const bytes = await r.Body!.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (e) {
      if (e instanceof StorageError) throw e;
      if (isNotFound(e)) return undefined;
      throw this.mapError(e, `download object ${id}`);
    }
  }

  async put(id: string, obj: Buffer): Promise<void> {
    const md5 = createHash('md5').update(obj).digest('base64');
    try {
      await this.client.send(
        new this.sdk.PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key(objectKey(id)),
          Body: obj,
          ContentLength: obj.length,
          ContentMD5: md5,
          ContentType: 'application/octet-stream',
        }),
      );
    } catch (e) {
      throw this.mapError(e, `upload object ${id}`);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private mapError(e: unknown, what: string): Error {
    if (e instanceof StorageError) return e;
    const err = e as { name?: string; message?: string; code?: string; Code?: string };
    const name = err.name ?? 'Error';
    const code = err.code ?? '';
    const st = status(e);
    const msg = err.message && err.message !== 'UnknownError' ? err.message : name;
    trace(`s3 ${what}: ${name} ${code} ${st ?? ''} ${err.message}`);
    if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(msg)) {
      return new StorageError('ESTORAGEAUTH', `no AWS credentials for storage ${this.url}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE`);
    }
    if (st === 403 || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || name === 'AccessDenied') {
      const why = name === 'Unknown' || name === 'UnknownError' ? '403 Forbidden' : name;
      return new StorageError('ESTORAGEAUTH', `storage ${this.url} at ${this.endpointLabel} refused access (${why}) to ${what}: check the AWS credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE)`);
    }
    if (name === 'NoSuchBucket') {
      return new StorageError('ESTORAGECONFIG', `bucket ${this.bucket} does not exist at ${this.endpointLabel}: create it, or fix the storage setting (${this.url})`);
    }
    if (NETWORK_CODES.has(code) || name === 'TimeoutError' || /socket hang up|ECONNRESET|ECONNREFUSED|getaddrinfo|timed? ?out/i.test(msg)) {
      return new StorageError('ESTORAGEUNREACHABLE', `cannot reach storage ${this.url} at ${this.endpointLabel} to ${what}: ${code || msg}`);
    }
    if (name === 'BadDigest' || name === 'InvalidDigest') {
      return new StorageError('ESTORAGE', `storage ${this.url} received damaged bytes when asked to ${what} (${name}); run the command again`);
    }
    return new StorageError('ESTORAGE', `storage ${this.url} failed to ${what}: ${name}${st ? ` (HTTP ${st})` : ''}${msg !== name ? `: ${msg}` : ''}`);
  }
}

function status(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function isNotFound(e: unknown): boolean {
  const name = (e as { name?: string })?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || (status(e) === 404 && name !== 'NoSuchBucket');
}

/**
 * The extra certificate authorities of NODE_EXTRA_CA_CERTS (deferred by bin/, see src/ca-env.ts) on
 * top of Node's own, as Node would have trusted them; undefined keeps the SDK's default agent.
 */
function httpsAgent(): Agent | undefined {
  const extra = deferredExtraCa((msg) => process.stderr.write(`mgit: warning: ${msg}\n`));
  return extra ? new Agent({ keepAlive: true, maxSockets: 50, ca: [...rootCertificates, extra] }) : undefined;
}

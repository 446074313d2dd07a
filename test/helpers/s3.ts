// Test helper for S3 storage: a real S3 server (Ceph's radosgw on 127.0.0.1, started by
// ceph-rgw-up.sh when none answers, stopped again by whoever started it), buckets, and listings.
// The scripts are ../shared/tools (beside the project, where CI keeps them; MGIT_CEPH_TOOLS overrides)
// or the copies in test/tools. Set MGIT_SKIP_S3=1 to skip the S3 tests in quick local runs; anywhere
// else a server that cannot be started fails them.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT } from './git-repo.js';

export const S3_PORT = Number(process.env.MGIT_S3_PORT ?? 7480);
export const S3_ENDPOINT = `http://127.0.0.1:${S3_PORT}`;
export const S3_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'mgitkey', AWS_SECRET_ACCESS_KEY: 'mgitsecret', AWS_REGION: 'us-east-1' };

export const skipS3 = process.env.MGIT_SKIP_S3 === '1' ? 'MGIT_SKIP_S3=1: S3 tests skipped' : false;

function toolsDir(): string {
  const candidates = [process.env.MGIT_CEPH_TOOLS, path.join(PROJECT, '..', 'shared', 'tools'), path.join(PROJECT, 'test', 'tools')];
  for (const c of candidates) if (c && fs.existsSync(path.join(c, 'ceph-rgw-up.sh'))) return c;
  throw new Error('ceph-rgw-up.sh not found (looked in MGIT_CEPH_TOOLS, ../shared/tools, test/tools)');
}

// ceph-osd sometimes sends its first monitor command before it has the cluster's fsid and exits
// ("wrong fsid"); skipping those start-up commands (the script places the OSD itself) avoids the race.
const CEPH_ARGS = '--osd-class-update-on-start=false --osd-crush-update-on-start=false';

function sh(script: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const p = spawn('bash', [script], {
      env: { ...process.env, PORT: String(S3_PORT), CEPH_ARGS, S3_KEY: S3_CREDENTIALS.AWS_ACCESS_KEY_ID, S3_SECRET: S3_CREDENTIALS.AWS_SECRET_ACCESS_KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    p.stdout.on('data', (d) => (output += d));
    p.stderr.on('data', (d) => (output += d));
    p.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

export async function s3Answers(): Promise<boolean> {
  try {
    const r = await fetch(S3_ENDPOINT + '/', { signal: AbortSignal.timeout(2000) });
    return r.status > 0;
  } catch {
    return false;
  }
}

/** Makes sure an S3 server answers; returns true when this call started it (and so must stop it). */
export async function ensureS3(): Promise<boolean> {
  if (await s3Answers()) return false;
  const dir = toolsDir();
  let last = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    const up = await sh(path.join(dir, 'ceph-rgw-up.sh'));
    if (up.code === 0 && (await s3Answers())) return true;
    last = up.output;
    await sh(path.join(dir, 'ceph-rgw-down.sh'));
  }
  throw new Error(`could not start the S3 server with ${dir}/ceph-rgw-up.sh (set MGIT_SKIP_S3=1 to skip S3 tests):\n${last.slice(-2000)}`);
}

export async function stopS3(): Promise<void> {
  await sh(path.join(toolsDir(), 'ceph-rgw-down.sh'));
}

type SDK = typeof import('@aws-sdk/client-s3');

async function client(): Promise<{ sdk: SDK; c: InstanceType<SDK['S3Client']> }> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const sdk = await import('@aws-sdk/client-s3');
  const c = new sdk.S3Client({
    endpoint: S3_ENDPOINT,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: S3_CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: S3_CREDENTIALS.AWS_SECRET_ACCESS_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return { sdk, c };
}

let bucketCount = 0;

/** A new, empty bucket. */
export async function newBucket(tag: string): Promise<string> {
  const name = `mgit-${tag}-${process.pid}-${Date.now().toString(36)}-${bucketCount++}`.toLowerCase().slice(0, 63);
  const { sdk, c } = await client();
  await c.send(new sdk.CreateBucketCommand({ Bucket: name }));
  c.destroy();
  return name;
}

/** Chunk ids stored under `prefix` in a bucket. */
export async function s3Ids(bucket: string, prefix: string): Promise<string[]> {
  const { sdk, c } = await client();
  const ids: string[] = [];
  let token: string | undefined;
  const base = `${prefix ? prefix + '/' : ''}objects/`;
  do {
    const r = await c.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: base, ContinuationToken: token }));
    for (const o of r.Contents ?? []) ids.push(o.Key!.slice(base.length).replace('/', ''));
    token = r.NextContinuationToken;
  } while (token);
  c.destroy();
  return ids.sort();
}

export async function s3Put(bucket: string, key: string, body: Buffer): Promise<void> {
  const { sdk, c } = await client();
  await c.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  c.destroy();
}

export async function s3Get(bucket: string, key: string): Promise<Buffer> {
  const { sdk, c } = await client();
  const r = await c.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
  const b = Buffer.from(await r.Body!.transformToByteArray());
  c.destroy();
  return b;
}

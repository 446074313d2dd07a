// Sharing through S3 storage against a real S3 server (Ceph radosgw on 127.0.0.1, started here when
// none answers and stopped at the end): push, clone, pull, push again; a clone over a non-path URL that
// finds its storage only in .mgitconfig; wrong credentials, unreachable storage and a transfer cut
// mid-way (a TCP proxy that drops every connection) each fail with a clear message and move no ref,
// and re-running completes, uploading only what is missing; a chunk corrupted on S3 is named.
// MGIT_SKIP_S3=1 skips this file; otherwise a server that cannot be started fails it.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { mlpModel } from './helpers/onnx-builder.js';
import { run, TestRepo } from './helpers/git-repo.js';
import { bareRepo, changeTensor, chunksAt, clone, remoteRefs, runAsync, sha, userEnv } from './helpers/remote.js';
import { ensureS3, newBucket, S3_CREDENTIALS, S3_ENDPOINT, s3Get, s3Ids, s3Put, skipS3, stopS3 } from './helpers/s3.js';

const A_OPTS = { seed: 11, layers: 3, width: 32 };
const A = mlpModel(A_OPTS);
const B = mlpModel({ seed: 12, layers: 2, width: 48 });

let started = false;
before(async () => {
  if (!skipS3) started = await ensureS3();
});
after(async () => {
  if (started) await stopS3();
});

const opts = { skip: skipS3 };

function s3Env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return userEnv({ ...S3_CREDENTIALS, AWS_EC2_METADATA_DISABLED: 'true', ...extra });
}

function sameFile(dir: string, rel: string, want: Buffer): void {
  assert.equal(sha(fs.readFileSync(path.join(dir, rel))), sha(want), `${rel} differs in ${dir}`);
}

const union = (...l: string[][]) => [...new Set(l.flat())].sort();

/** A source repository with models, an mgit:: remote and S3 storage set in its git config. */
function source(env: NodeJS.ProcessEnv, bucket: string, files: Record<string, Buffer>): { src: TestRepo; bare: string } {
  const bare = bareRepo(env);
  const src = TestRepo.create({ env });
  for (const [p, b] of Object.entries(files)) src.write(p, b);
  src.commitAll('models');
  src.git('remote', 'add', 'origin', `mgit::${bare}`);
  src.git('config', 'remote.origin.mgitStorage', `s3://${bucket}/team/models`);
  src.git('config', 'mgit.s3.endpoint', S3_ENDPOINT);
  return { src, bare };
}

test('push, clone, pull and push again through mgit:: with S3 storage', opts, async () => {
  const env = s3Env();
  const bucket = await newBucket('roundtrip');
  const { src, bare } = source(env, bucket, { 'models/a.onnx': A, 'models/b.onnx': B });
  const push1 = src.tryGit('push', '-u', 'origin', 'main');
  assert.equal(push1.status, 0, push1.stderr);
  const first = union(chunksAt(src.dir, env, 'HEAD:models/a.onnx'), chunksAt(src.dir, env, 'HEAD:models/b.onnx'));
  assert.deepEqual(await s3Ids(bucket, 'team/models'), first);
  assert.equal((await s3Get(bucket, 'team/models/mgit-storage')).toString(), 'mgit chunk storage v1\n');

  // The clone's storage setting comes from the user's own config here (the next test uses .mgitconfig).
  const c = clone(`mgit::${bare}`, env, ['-c', `remote.origin.mgitStorage=s3://${bucket}/team/models`, '-c', `mgit.s3.endpoint=${S3_ENDPOINT}`]);
  assert.equal(c.status, 0, c.stderr);
  sameFile(c.dir, 'models/a.onnx', A);
  sameFile(c.dir, 'models/b.onnx', B);

  const A2 = changeTensor(A, A_OPTS, 2, 7);
  src.write('models/a.onnx', A2);
  src.commitAll('a changed');
  const fresh = chunksAt(src.dir, env, 'HEAD:models/a.onnx').filter((id) => !first.includes(id));
  const push2 = src.tryGit('push');
  assert.equal(push2.status, 0, push2.stderr);
  assert.match(push2.stderr, new RegExp(`uploaded ${fresh.length} chunk object`));
  assert.deepEqual(await s3Ids(bucket, 'team/models'), union(first, fresh), 'only the new chunk moved');

  const pull = run('git', ['pull', '-q'], { cwd: c.dir, env });
  assert.equal(pull.status, 0, pull.stderr);
  sameFile(c.dir, 'models/a.onnx', A2);
  assert.equal(run('git', ['status', '--porcelain'], { cwd: c.dir, env }).stdout, '');
});

test('a clone over a non-path URL finds S3 storage named only in .mgitconfig, with no set-up', opts, async () => {
  const env = s3Env();
  const bucket = await newBucket('mgitconfig');
  const bare = bareRepo(env);
  const src = TestRepo.create({ env });
  src.write('.mgitconfig', `[mgit]\n\tstorage = s3://${bucket}/shared\n[mgit "s3"]\n\tendpoint = ${S3_ENDPOINT}\n`);
  src.write('m/a.onnx', A);
  src.write('m/b.onnx', B);
  src.commitAll('models and their storage');
  src.git('remote', 'add', 'origin', `mgit::file://${bare}`);
  const push = src.tryGit('push', '-u', 'origin', 'main');
  assert.equal(push.status, 0, push.stderr);
  assert.equal((await s3Ids(bucket, 'shared')).length > 0, true);

  for (const url of [`mgit::file://${bare}`, `file://${bare}`]) {
    const fresh = s3Env(); // another user: credentials in the environment, nothing else
    const c = clone(url, fresh);
    assert.equal(c.status, 0, `${url}: ${c.stderr}`);
    sameFile(c.dir, 'm/a.onnx', A);
    sameFile(c.dir, 'm/b.onnx', B);
  }
});

test('wrong credentials, missing credentials and unreachable storage: a clear error, no ref moved, and re-running completes', opts, async () => {
  const env = s3Env();
  const bucket = await newBucket('failures');
  const { src, bare } = source(env, bucket, { 'a.onnx': A });

  const wrong = run('git', ['push', '-u', 'origin', 'main'], { cwd: src.dir, env: { ...env, AWS_SECRET_ACCESS_KEY: 'not-the-secret' } });
  assert.notEqual(wrong.status, 0);
  assert.match(wrong.stderr, /storage s3:\/\/\S+ at http:\/\/127\.0\.0\.1:\d+ refused access \(\S+\).*check the AWS credentials/);
  assert.equal(remoteRefs(bare, env).size, 0);

  const none = { ...env };
  delete none.AWS_ACCESS_KEY_ID;
  delete none.AWS_SECRET_ACCESS_KEY;
  const missing = run('git', ['push', '-u', 'origin', 'main'], { cwd: src.dir, env: none });
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /no AWS credentials for storage s3:\/\//);
  assert.equal(remoteRefs(bare, env).size, 0);

  src.git('config', 'mgit.s3.endpoint', 'http://127.0.0.1:9'); // nothing listens on the discard port
  const down = run('git', ['push', '-u', 'origin', 'main'], { cwd: src.dir, env: { ...env, MGIT_S3_MAX_ATTEMPTS: '1' } });
  assert.notEqual(down.status, 0);
  assert.match(down.stderr, /cannot reach storage s3:\/\/\S+ at http:\/\/127\.0\.0\.1:9 .*ECONNREFUSED/);
  assert.match(down.stderr, /\[remote rejected\] main -> main \(mgit: chunks not uploaded: cannot reach storage \(see above\)\)/);
  assert.equal(remoteRefs(bare, env).size, 0);

  src.git('config', 'mgit.s3.endpoint', S3_ENDPOINT);
  const ok = src.tryGit('push', '-u', 'origin', 'main');
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(remoteRefs(bare, env).get('refs/heads/main'), src.git('rev-parse', 'HEAD').trim());
});

/** A TCP proxy to the S3 server that, after `cutAfter` bytes from clients, drops every connection and stops listening. */
async function cuttingProxy(cutAfter: number): Promise<{ port: number; wasCut: () => boolean; close: () => void }> {
  const sockets = new Set<net.Socket>();
  let forwarded = 0;
  let cut = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(new URL(S3_ENDPOINT).port), '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    upstream.on('data', (d) => client.write(d));
    client.on('data', (d) => {
      if (cut) return;
      forwarded += d.length;
      if (forwarded > cutAfter) {
        cut = true;
        server.close();
        for (const s of sockets) s.destroy();
        return;
      }
      upstream.write(d);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    wasCut: () => cut,
    close: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

test('a transfer cut mid-way fails the push with no ref moved; pushing again uploads only what is missing', opts, async () => {
  const env = s3Env({ MGIT_S3_MAX_ATTEMPTS: '2' });
  const bucket = await newBucket('cut');
  const big = mlpModel({ seed: 21, layers: 10, width: 64 });
  const { src, bare } = source(env, bucket, { 'big.onnx': big });
  src.git('config', 'mgit.transfers', '2');
  const total = chunksAt(src.dir, env, 'HEAD:big.onnx').length;
  const proxy = await cuttingProxy(Math.floor(big.length / 2));
  src.git('config', 'mgit.s3.endpoint', `http://127.0.0.1:${proxy.port}`);
  let r;
  try {
    r = await runAsync('git', ['push', '-u', 'origin', 'main'], { cwd: src.dir, env });
  } finally {
    proxy.close();
  }
  assert.ok(proxy.wasCut(), 'the proxy cut the transfer');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /cannot reach storage s3:\/\//);
  assert.equal(remoteRefs(bare, env).size, 0, 'no ref moved');
  const partial = (await s3Ids(bucket, 'team/models')).length;
  assert.ok(partial > 0 && partial < total, `${partial} of ${total} objects arrived before the cut`);

  src.git('config', 'mgit.s3.endpoint', S3_ENDPOINT);
  const again = src.tryGit('push', '-u', 'origin', 'main');
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, new RegExp(`uploaded ${total - partial} chunk object\\(s\\).*; ${partial} already there`));
  const c = clone(`mgit::${bare}`, env, ['-c', `remote.origin.mgitStorage=s3://${bucket}/team/models`, '-c', `mgit.s3.endpoint=${S3_ENDPOINT}`]);
  assert.equal(c.status, 0, c.stderr);
  sameFile(c.dir, 'big.onnx', big);
});

test('a chunk corrupted on S3 is named on download and the rest of the checkout completes', opts, async () => {
  const env = s3Env();
  const bucket = await newBucket('corrupt');
  const { src, bare } = source(env, bucket, { 'a.onnx': A, 'b.onnx': B });
  assert.equal(src.tryGit('push', '-u', 'origin', 'main').status, 0);
  const aChunks = chunksAt(src.dir, env, 'HEAD:a.onnx');
  const bad = chunksAt(src.dir, env, 'HEAD:b.onnx').filter((id) => !aChunks.includes(id)).sort()[0];
  const key = `team/models/objects/${bad.slice(0, 2)}/${bad.slice(2)}`;
  const obj = await s3Get(bucket, key);
  obj[obj.length - 1] ^= 0x5a;
  await s3Put(bucket, key, obj);

  const c = clone(`mgit::${bare}`, env, ['-c', `remote.origin.mgitStorage=s3://${bucket}/team/models`, '-c', `mgit.s3.endpoint=${S3_ENDPOINT}`]);
  assert.notEqual(c.status, 0);
  assert.match(c.stderr, new RegExp(`b\\.onnx: chunk ${bad} on storage s3://${bucket}/team/models is corrupt`));
  sameFile(c.dir, 'a.onnx', A);
  assert.equal(fs.existsSync(path.join(c.dir, 'b.onnx')), false);
});

// The pieces of sharing that need no git: storage locations, the helper's protocol parsing, the
// directory storage's guarantees, and how uploads and downloads handle real delta chains.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ChunkStore, sha256 } from '../src/store/store.js';
import { encodeObject, encodeStandalone } from '../src/store/object.js';
import { Transform } from '../src/store/transforms.js';
import { DirectoryStorage } from '../src/remote/dir-storage.js';
import { parsePorcelain, parsePushSpec } from '../src/remote/helper.js';
import { gitDirOf, localRepoPath } from '../src/remote/locate.js';
import { parseStorageUrl } from '../src/remote/storage.js';
import { Downloader, uploadObjects } from '../src/remote/transfer.js';
import { parseLsRemote } from '../src/git/remote.js';
import { seededFloats, floatsBuffer } from './helpers/onnx-builder.js';
import { tempDir } from './helpers/git-repo.js';

test('storage locations: s3 URLs, file URLs, directories (relative to the repository)', () => {
  assert.deepEqual(parseStorageUrl('s3://team-models/prefix/a/', '/r'), { kind: 's3', bucket: 'team-models', prefix: 'prefix/a' });
  assert.deepEqual(parseStorageUrl('s3://bkt', '/r'), { kind: 's3', bucket: 'bkt', prefix: '' });
  assert.deepEqual(parseStorageUrl('file:///mnt/share/x', '/r'), { kind: 'dir', dir: '/mnt/share/x' });
  assert.deepEqual(parseStorageUrl('/mnt/share/x', '/r'), { kind: 'dir', dir: '/mnt/share/x' });
  assert.deepEqual(parseStorageUrl('../chunks', '/srv/repo'), { kind: 'dir', dir: '/srv/chunks' });
  assert.throws(() => parseStorageUrl('s3://Bad_Bucket!/x', '/r'), /invalid S3 bucket/);
  assert.throws(() => parseStorageUrl('s3://bkt/../x', '/r'), /invalid S3 prefix/);
  assert.throws(() => parseStorageUrl('https://example.com/x', '/r'), /unsupported storage URL/);
});

test('which remote URLs are local paths (their default storage is beside them)', () => {
  assert.equal(localRepoPath('/srv/models.git', '/cwd'), '/srv/models.git');
  assert.equal(localRepoPath('mgit::/srv/models.git', '/cwd'), '/srv/models.git');
  assert.equal(localRepoPath('file:///srv/models.git', '/cwd'), '/srv/models.git');
  assert.equal(localRepoPath('../m.git', '/a/b'), '/a/m.git');
  assert.equal(localRepoPath('https://host/m.git', '/cwd'), undefined);
  assert.equal(localRepoPath('ssh://host/m.git', '/cwd'), undefined);
  assert.equal(localRepoPath('git@host:m.git', '/cwd'), undefined);
  const bare = tempDir('bare');
  fs.mkdirSync(path.join(bare, 'objects'));
  fs.writeFileSync(path.join(bare, 'HEAD'), 'ref: refs/heads/main\n');
  assert.equal(gitDirOf(bare), bare);
  assert.equal(gitDirOf(tempDir('empty')), undefined);
});

test('helper protocol: push specs, porcelain outcomes in the spellings transport-helper.c expects, ls-remote', () => {
  assert.deepEqual(parsePushSpec('+refs/heads/a:refs/heads/b'), { force: true, src: 'refs/heads/a', dst: 'refs/heads/b' });
  assert.deepEqual(parsePushSpec(':refs/heads/gone'), { force: false, src: '', dst: 'refs/heads/gone' });
  const out = parsePorcelain(
    [
      'To /srv/x.git',
      '*\tabc:refs/heads/new\t[new branch]',
      ' \tabc:refs/heads/ff\t1111..2222',
      '+\tabc:refs/heads/forced\t1111...2222 (forced update)',
      '=\tabc:refs/heads/same\t[up to date]',
      '!\tabc:refs/heads/behind\t[rejected] (non-fast-forward)',
      '!\tabc:refs/heads/raced\t[rejected] (fetch first)',
      '!\tabc:refs/heads/hooked\t[remote rejected] (pre-receive hook declined)',
      'Done',
    ].join('\n'),
  );
  assert.equal(out.get('refs/heads/new'), 'ok refs/heads/new');
  assert.equal(out.get('refs/heads/ff'), 'ok refs/heads/ff');
  assert.equal(out.get('refs/heads/forced'), 'ok refs/heads/forced forced update');
  assert.equal(out.get('refs/heads/same'), 'ok refs/heads/same up to date');
  assert.equal(out.get('refs/heads/behind'), 'error refs/heads/behind non-fast forward');
  assert.equal(out.get('refs/heads/raced'), 'error refs/heads/raced fetch first');
  assert.equal(out.get('refs/heads/hooked'), 'error refs/heads/hooked pre-receive hook declined');
  const ls = parseLsRemote(`ref: refs/heads/main\tHEAD\n${'a'.repeat(40)}\tHEAD\n${'a'.repeat(40)}\trefs/heads/main\n`);
  assert.deepEqual(ls.symrefs.get('HEAD'), 'refs/heads/main');
  assert.equal(ls.refs.length, 2);
});

function emptyStore(): ChunkStore {
  const store = new ChunkStore(path.join(tempDir('store'), 'mgit'));
  fs.mkdirSync(store.objects, { recursive: true });
  fs.mkdirSync(store.tmp, { recursive: true });
  return store;
}

function putStandalone(store: ChunkStore, raw: Buffer): string {
  return store.putEncoded(sha256(raw), encodeStandalone(raw, 4), raw).id;
}

function storeWith(n: number): { store: ChunkStore; ids: string[] } {
  const store = emptyStore();
  const ids = Array.from({ length: n }, (_, i) => putStandalone(store, floatsBuffer(seededFloats(100 + i, 256))));
  return { store, ids };
}

/** A chain k <- d1 <- d2 of real XOR deltas (each version a small change of the one before). */
function deltaChain(store: ChunkStore): { k: string; d1: string; d2: string } {
  const v0 = floatsBuffer(seededFloats(300, 2048));
  const v1 = Buffer.from(v0);
  v1.writeFloatLE(1.5, 64);
  const v2 = Buffer.from(v1);
  v2.writeFloatLE(-2.5, 128);
  const k = putStandalone(store, v0);
  const d1 = sha256(v1);
  store.putEncoded(d1, encodeObject(v1, { transform: Transform.XorPlanes, width: 4, bases: [{ id: k, bytes: v0, depth: 0 }] })!, v1);
  const d2 = sha256(v2);
  store.putEncoded(d2, encodeObject(v2, { transform: Transform.XorPlanes, width: 4, bases: [{ id: d1, bytes: v1, depth: 1 }] })!, v2);
  assert.deepEqual(store.basesOf(d2), [d1]);
  assert.deepEqual(store.basesOf(d1), [k]);
  return { k, d1, d2 };
}

test('directory storage: atomic objects, a format marker, and storage written by a newer mgit is refused', async () => {
  const root = path.join(tempDir('dirstore'), 'chunks');
  const s = new DirectoryStorage(root);
  assert.deepEqual([...(await s.has(['a'.repeat(64)]))], [], 'new storage holds nothing');
  await assert.rejects(s.get('a'.repeat(64)), /does not exist/);
  await s.prepareForWrite();
  const obj = Buffer.from('MGC\x01 any bytes: storage does not interpret objects');
  const id = sha256(obj);
  await s.put(id, obj);
  assert.deepEqual([...(await s.has([id, 'b'.repeat(64)]))], [id]);
  assert.deepEqual(await s.get(id), obj);
  assert.equal(await s.get('b'.repeat(64)), undefined);
  assert.deepEqual(fs.readdirSync(path.join(root, 'tmp')), [], 'no temp files left');
  await assert.rejects(s.put('../../etc/passwd', obj), /invalid chunk id/);

  fs.writeFileSync(path.join(root, 'mgit-storage'), 'mgit chunk storage v9\n');
  await assert.rejects(new DirectoryStorage(root).get(id), /format v9, written by a newer mgit/);
  await assert.rejects(new DirectoryStorage(path.join(tempDir('nope'), 'a', 'b')).prepareForWrite(), /parent .* does not exist/);
});

test('uploads take delta bases along, send each base before the objects that need it, and refuse objects whose base is missing', async () => {
  const store = emptyStore();
  const { k, d1, d2 } = deltaChain(store);
  const lonely = putStandalone(store, floatsBuffer(seededFloats(400, 512)));
  const order: string[] = [];
  const storage = new DirectoryStorage(path.join(tempDir('dst'), 'chunks'));
  const put = storage.put.bind(storage);
  storage.put = async (id, obj) => {
    order.push(id);
    await put(id, obj);
  };
  const r = await uploadObjects(store, storage, [d2, lonely], { jobs: 4, progress: false });
  assert.equal(r.needed, 4, 'the bases are part of the upload');
  assert.equal(r.uploaded, 4);
  assert.ok(order.indexOf(k) < order.indexOf(d1) && order.indexOf(d1) < order.indexOf(d2), `bases first: ${order.map((x) => x.slice(0, 6))}`);

  // What landed is self-sufficient: a fresh store downloads d2 alone and gets its whole chain, verified.
  const fresh = emptyStore();
  assert.equal(await new Downloader(fresh, storage, 2).ensureAll([d2]), undefined);
  assert.ok(fresh.has(k) && fresh.has(d1) && fresh.has(d2));
  assert.deepEqual(fresh.get(d2), store.get(d2));

  // A base that is gone locally blocks every object above it, naming it.
  const storage2 = new DirectoryStorage(path.join(tempDir('dst2'), 'chunks'));
  store.remove(k);
  const r2 = await uploadObjects(store, storage2, [d2], { progress: false });
  assert.equal(r2.uploaded, 0);
  assert.match(r2.missing.get(d2)!, new RegExp(`delta base ${k} is missing`));
  assert.match(r2.missing.get(k)!, /not in the local store/);
  assert.deepEqual([...(await storage2.has([d1, d2]))], [], 'nothing whose base is missing reaches storage');
});

test('an object damaged in the local store is never uploaded, and the others still are', async () => {
  const { store, ids } = storeWith(3);
  const file = store.objectPath(ids[1]);
  fs.chmodSync(file, 0o644);
  const bytes = fs.readFileSync(file);
  bytes[bytes.length - 2] ^= 0x10;
  fs.writeFileSync(file, bytes);
  const storage = new DirectoryStorage(path.join(tempDir('dmg'), 'chunks'));
  const r = await uploadObjects(store, storage, ids, { progress: false });
  assert.equal(r.uploaded, 2);
  assert.match(r.missing.get(ids[1])!, /corrupt in the local store/);
  assert.deepEqual([...(await storage.has(ids))].sort(), [ids[0], ids[2]].sort());
});

test('downloads verify every object against its id and name the chunk when it is missing or corrupt', async () => {
  const { store, ids } = storeWith(3);
  const storage = new DirectoryStorage(path.join(tempDir('dl'), 'chunks'));
  await storage.prepareForWrite();
  const up = await uploadObjects(store, storage, ids, { progress: false });
  assert.equal(up.uploaded, 3);
  const file = path.join(storage.root, 'objects', ids[1].slice(0, 2), ids[1].slice(2));
  fs.chmodSync(file, 0o644);
  const bytes = fs.readFileSync(file);
  bytes[bytes.length - 3] ^= 1;
  fs.writeFileSync(file, bytes);
  fs.rmSync(path.join(storage.root, 'objects', ids[2].slice(0, 2), ids[2].slice(2)));

  const fresh = emptyStore();
  const dl = new Downloader(fresh, storage, 2);
  assert.equal(await dl.ensureAll([ids[0]]), undefined);
  assert.ok(fresh.has(ids[0]));
  assert.match(String(await dl.ensureAll([ids[1]])), new RegExp(`chunk ${ids[1]} on storage .* is corrupt`));
  assert.match(String(await dl.ensureAll([ids[2]])), new RegExp(`chunk ${ids[2]} is not on storage`));
  assert.equal(fresh.has(ids[1]) || fresh.has(ids[2]), false, 'nothing unverified enters the store');
});

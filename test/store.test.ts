// The chunk store and its codecs: lossless round trips, dedup, verification of every read, and
// writers racing each other.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { fromPlaneList, fromPlanes, toPlanes } from '../src/codec/planes.js';
import { zstdCompress, zstdDecompress, zstdFrameContentSize } from '../src/codec/zstd.js';
import { ChunkCorruptError, ChunkMissingError } from '../src/errors.js';
import { decodeObject, encodeStandalone } from '../src/store/object.js';
import { ChunkStore, sha256 } from '../src/store/store.js';
import { putChunk } from '../src/store/encoder.js';
import { CleanCache } from '../src/store/clean-cache.js';
import { PointerIndex } from '../src/store/pointer-index.js';
import { formatPointer, type Pointer } from '../src/codec/pointer.js';
import { floatsBuffer, seededFloats } from './helpers/onnx-builder.js';
import { PROJECT, tempDir } from './helpers/git-repo.js';

test('byte planes round-trip for every width and length', () => {
  for (const width of [1, 2, 4, 8, 16]) {
    for (const n of [0, 1, 7, 64, 1001]) {
      const src = Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + width) & 255));
      const planes = toPlanes(src, width);
      assert.equal(planes.length, n);
      assert.deepEqual(fromPlanes(planes, width), src);
    }
  }
  assert.deepEqual([...toPlanes(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), 4)], [1, 5, 2, 6, 3, 7, 4, 8, 9]);
});

test('planes kept apart rebuild the bytes, XORed with a base in the same pass', () => {
  for (const width of [1, 2, 4, 8]) {
    for (const n of [0, 1, 7, 16, 64, 1001, 4096, 4099]) {
      const src = Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + width) & 255));
      const base = Buffer.from(Array.from({ length: n }, (_, i) => (i * 11 + 5) & 255));
      const joined = toPlanes(src, width);
      const k = Math.floor(n / width);
      // as the store keeps them: one stream per plane, the last with the trailing bytes
      const planes = width <= 1 ? [joined] : Array.from({ length: width }, (_, p) => joined.subarray(p * k, p === width - 1 ? n : (p + 1) * k));
      assert.deepEqual(fromPlaneList(planes, width), src, `width ${width}, ${n} bytes`);
      const xored = Buffer.from(src.map((b, i) => b ^ base[i]));
      assert.deepEqual(fromPlaneList(width <= 1 ? [toPlanes(xored, width)] : Array.from({ length: width }, (_, p) => toPlanes(xored, width).subarray(p * k, p === width - 1 ? n : (p + 1) * k)), width, base), src);
    }
  }
  // a misaligned plane (a view into a larger buffer) gives the same bytes
  const src = Buffer.from(Array.from({ length: 64 }, (_, i) => i));
  const joined = toPlanes(src, 4);
  const shifted = Buffer.concat([Buffer.from([9]), joined]).subarray(1);
  assert.deepEqual(fromPlaneList([0, 1, 2, 3].map((p) => shifted.subarray(p * 16, (p + 1) * 16)), 4), src);
});

test('zstd frames declare their size and a wrong expectation is refused', () => {
  const data = Buffer.alloc(100000, 7);
  const z = zstdCompress(data, 1);
  const declared = zstdFrameContentSize(z);
  assert.ok(declared === undefined || declared === 100000);
  assert.deepEqual(zstdDecompress(z, 100000), data);
  assert.throws(() => zstdDecompress(z, 99999));
  assert.throws(() => zstdDecompress(Buffer.from('not zstd at all'), 10));
});

test('objects: weights compress with planes, random bytes stay raw, both decode exactly', () => {
  const weights = floatsBuffer(seededFloats(1, 50000));
  const obj = encodeStandalone(weights, 4);
  assert.equal(obj[4], 1, 'planes + zstd');
  assert.ok(obj.length < weights.length * 0.95, `weights should compress (${obj.length}/${weights.length})`);
  assert.deepEqual(decodeObject(obj, 1 << 30), weights);

  const noise = randomBytes(4096);
  const rnd = encodeStandalone(noise, 1);
  assert.equal(rnd[4], 0, 'one identity stream');
  assert.ok(rnd.length < noise.length + 48, 'incompressible bytes are stored raw');
  assert.deepEqual(decodeObject(rnd, 1 << 30), noise);
  assert.throws(() => decodeObject(encodeStandalone(weights, 4), 100), /over the 100 limit/);
});

test('put dedups, get verifies, and damage is named', () => {
  const store = ChunkStore.forGitDir(tempDir('store'));
  const data = floatsBuffer(seededFloats(2, 10000));
  const a = putChunk(store, data, { width: 4 });
  assert.equal(a.id, sha256(data));
  assert.equal(a.written, true);
  assert.equal(putChunk(store, data, { width: 4 }).written, false, 'same bytes are stored once');
  assert.deepEqual(store.get(a.id), data);
  assert.deepEqual([...store.ids()], [a.id]);

  const file = store.objectPath(a.id);
  fs.chmodSync(file, 0o644);
  const obj = fs.readFileSync(file);
  obj[obj.length - 10] ^= 0x40;
  fs.writeFileSync(file, obj);
  // a new process (a fresh store, no decoded-chunk cache) reads what is on disk
  assert.throws(() => new ChunkStore(store.root).get(a.id), (e: Error) => e instanceof ChunkCorruptError && e.message.includes(a.id));

  store.remove(a.id);
  assert.throws(() => new ChunkStore(store.root).get(a.id), (e: Error) => e instanceof ChunkMissingError && e.message.includes(a.id));
  assert.throws(() => store.get('../../etc/passwd'), /invalid chunk id/);
});

test('concurrent writers of the same chunks leave whole, valid objects', async () => {
  const dir = tempDir('race');
  const script = `
    import { ChunkStore } from ${JSON.stringify(path.join(PROJECT, 'dist/src/store/store.js'))};
    import { putChunk } from ${JSON.stringify(path.join(PROJECT, 'dist/src/store/encoder.js'))};
    const store = ChunkStore.forGitDir(${JSON.stringify(dir)});
    for (let i = 0; i < 40; i++) {
      const b = Buffer.alloc(200000 + i, i);
      putChunk(store, b, { width: 4 });
    }`;
  const runOne = () =>
    new Promise<number>((resolve) => {
      const p = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
      p.on('close', (c) => resolve(c ?? 1));
    });
  const codes = await Promise.all([runOne(), runOne(), runOne()]);
  assert.deepEqual(codes, [0, 0, 0]);
  const store = ChunkStore.forGitDir(dir);
  const ids = [...store.ids()];
  assert.equal(ids.length, 40);
  for (const id of ids) assert.equal(sha256(store.get(id)), id);
  assert.deepEqual(fs.readdirSync(store.tmp), [], 'no temp files left behind');
});

test('clean indexes the newest cache entries only, and still reads any entry by its id', () => {
  const store = ChunkStore.forGitDir(tempDir('git'));
  const cache = new CleanCache(store);
  const hex = (n: number) => n.toString(16).padStart(64, '0');
  const pointers: Pointer[] = [1, 2, 3].map((n) => ({
    format: 'onnx',
    size: 1024 + 8,
    sha256: hex(n),
    skeleton: [{ chunk: hex(100 + n), length: 8 }],
    parts: [{ kind: 'gap', length: 8 }, { kind: 'tensor', name: `w${n}`, dtype: 'float32', dims: [256], pieces: [{ chunk: hex(200 + n), length: 1024 }] }],
  }));
  pointers.forEach((p, i) => {
    cache.set(p.sha256, Buffer.from(formatPointer(p)));
    const t = new Date(Date.now() - (10 - i) * 60_000); // written a minute apart, oldest first
    fs.utimesSync(path.join(cache.dir, p.sha256), t, t);
  });
  assert.deepEqual([...PointerIndex.fromCache(cache).pointers.keys()], [hex(1), hex(2), hex(3)]);
  const idx = PointerIndex.fromCache(cache, 2);
  assert.deepEqual([...idx.pointers.keys()], [hex(2), hex(3)], 'the two most recently written or hit');
  assert.equal(idx.sameName('w1').length, 0);
  assert.equal(cache.pointer(hex(1))?.sha256, hex(1), 'a declared parent is read by its id wherever it is');
  assert.equal(cache.pointer(hex(9)), undefined);
});

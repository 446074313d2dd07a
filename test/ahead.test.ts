// Rebuilding ahead (src/filter/ahead.ts): a checkout's models are answered "delayed", rebuilt in the
// worker thread in order, and handed to git when it asks again: byte for byte the same files as the
// plain path, a damaged model failing alone, and no more held in memory than the budget allows.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parsePointer } from '../src/codec/pointer.js';
import { DecodeAhead, type AheadFile } from '../src/filter/ahead.js';
import { PrefetchReader } from '../src/store/prefetch.js';
import { ChunkStore } from '../src/store/store.js';
import { mlpModel } from './helpers/onnx-builder.js';
import { tempDir, TestRepo } from './helpers/git-repo.js';

/** Three models rebuilt ahead, and a small one that is rebuilt when git asks (below 1 MiB). */
function threeModels(): { repo: TestRepo; models: Map<string, Buffer> } {
  const repo = TestRepo.create();
  const models = new Map<string, Buffer>();
  for (const [i, name] of ['a.onnx', 'sub/b.onnx', 'c.onnx'].entries()) {
    const m = mlpModel({ seed: 40 + i, layers: 2, width: 400 }); // 1.3 MB: rebuilt ahead from 1 MiB
    repo.write(name, m);
    models.set(name, m);
  }
  repo.write('small.onnx', mlpModel({ seed: 39, layers: 1, width: 32 }));
  repo.commitAll('three models');
  return { repo, models };
}

function requests(trace: string): string[] {
  return fs
    .readFileSync(trace, 'utf8')
    .split('\n')
    .map((l) => (/ mgit\[\d+\] (\S+ ?\S*)/.exec(l)?.[1] ?? '').trim())
    .filter((l) => l.startsWith('smudge') || l.startsWith('list_available_blobs'));
}

test('a checkout rebuilds its models ahead through git delay, the same bytes as without', () => {
  const { repo, models } = threeModels();
  for (const ahead of ['true', 'false']) {
    repo.git('config', 'mgit.smudgeAhead', ahead);
    for (const name of [...models.keys(), 'small.onnx']) fs.rmSync(repo.path(name));
    const trace = path.join(tempDir('trace'), 'trace');
    repo.env.MGIT_TRACE = trace;
    try {
      repo.git('checkout', '--', '.');
    } finally {
      delete repo.env.MGIT_TRACE;
    }
    for (const [name, bytes] of models) assert.ok(repo.read(name).equals(bytes), `${name}, smudgeAhead=${ahead}`);
    const seen = requests(trace);
    if (ahead === 'true') {
      // every model asked once with can-delay, listed, then asked again
      assert.ok(seen.includes('list_available_blobs'), seen.join('\n'));
      for (const name of models.keys()) assert.equal(seen.filter((s) => s === `smudge ${name}`).length, 2, `${name} asked twice:\n${seen.join('\n')}`);
      assert.equal(seen.filter((s) => s === 'smudge small.onnx').length, 1, 'a small model is answered at once');
    } else {
      assert.ok(!seen.includes('list_available_blobs'), seen.join('\n'));
    }
    assert.equal(repo.status(), '');
  }
});

test('a damaged model in a checkout ahead fails alone, its chunk named; the others are written', () => {
  const { repo, models } = threeModels();
  const chunk = repo.corruptFirstTensorChunk('HEAD:sub/b.onnx');
  for (const name of models.keys()) fs.rmSync(repo.path(name));
  const r = repo.tryGit('checkout', '--', '.');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, new RegExp(`sub/b\\.onnx: chunk ${chunk} is corrupt`));
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  assert.ok(repo.read('a.onnx').equals(models.get('a.onnx')!));
  assert.ok(repo.read('c.onnx').equals(models.get('c.onnx')!));
});

test('files rebuilt ahead wait within the budget: the next is rebuilt only when git has taken one', async () => {
  const { repo, models } = threeModels();
  const store = new ChunkStore(repo.store);
  const reader = new PrefetchReader(store);
  try {
    const size = Math.max(...[...models.values()].map((m) => m.length));
    const ahead = new DecodeAhead(reader, size + 1); // one file at a time
    for (const name of models.keys()) ahead.delay(name, parsePointer(Buffer.from(repo.git('cat-file', 'blob', `HEAD:${name}`))));
    const order: string[] = [];
    while (order.length < models.size) {
      let ready = ahead.readyNow();
      while (!ready.length) {
        assert.ok(ahead.pending, 'files are still to come');
        await ahead.next();
        ready = ahead.readyNow();
      }
      assert.equal(ready.length, 1, 'never more than the budget');
      // nothing more is rebuilt while the listed one waits
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(ahead.readyNow(), []);
      const f = ahead.take(ready[0])!;
      assert.ok(Buffer.concat(f.pieces!).equals(models.get(f.pathname)!), f.pathname);
      order.push(f.pathname);
    }
    assert.deepEqual(order, [...models.keys()], 'in the order git asked');
    assert.equal(ahead.pending, false);
  } finally {
    await reader.close();
  }
});

/** Four models of one architecture: b and d other weights, c the same file as a at another path. */
function oneArchitecture(): { repo: TestRepo; models: Map<string, Buffer> } {
  const repo = TestRepo.create();
  const models = new Map<string, Buffer>();
  for (const [name, seed] of [['a.onnx', 50], ['b.onnx', 51], ['c.onnx', 50], ['d.onnx', 52]] as const) {
    const m = mlpModel({ seed, layers: 2, width: 400 });
    repo.write(name, m);
    models.set(name, m);
  }
  repo.commitAll('one architecture');
  return { repo, models };
}

/** The next file listed as ready, as git takes them: every file of a list, in turn. */
async function takeNext(ahead: DecodeAhead, listed: string[]): Promise<AheadFile> {
  while (!listed.length) {
    listed.push(...ahead.readyNow());
    if (!listed.length) await ahead.next();
  }
  return ahead.take(listed.shift()!)!;
}

test('chunks shared by files in flight are decoded once; buffers git is done with are decoded into again, never before', async () => {
  const { repo, models } = oneArchitecture();
  const pointers = new Map([...models.keys()].map((name) => [name, parsePointer(Buffer.from(repo.git('cat-file', 'blob', `HEAD:${name}`)))]));
  const size = Math.max(...[...models.values()].map((m) => m.length));
  for (const budget of [size + 1, 1 << 30]) {
    const reader = new PrefetchReader(new ChunkStore(repo.store));
    try {
      const ahead = new DecodeAhead(reader, budget);
      for (const [name, p] of pointers) ahead.delay(name, p);
      const held: AheadFile[] = [];
      const listed: string[] = [];
      const intact = () => {
        for (const f of held) assert.ok(Buffer.concat(f.pieces!).equals(models.get(f.pathname)!), `${f.pathname}, budget ${budget}`);
      };
      for (let n = 0; n < models.size; n++) {
        held.push(await takeNext(ahead, listed));
        intact();
        if (budget === size + 1) ahead.done(held.shift()!);
      }
      // all four at once: git is done with each in turn, and the others (c shares a's chunks) stay whole
      while (held.length) {
        ahead.done(held.shift()!);
        await new Promise((r) => setTimeout(r, 20)); // the worker could decode into what it got back
        intact();
      }
      const distinct = new Set([...pointers.values()].flatMap((p) => p.parts.flatMap((part) => (part.kind === 'tensor' ? part.pieces.map((x) => x.chunk) : []))));
      if (budget > size + 1) {
        // all four at once: c's chunks are a's, asked of the worker once
        assert.ok(ahead.stats.shared > 0, JSON.stringify(ahead.stats));
        assert.ok(ahead.stats.fetched < distinct.size + pointers.size * 2 + ahead.stats.shared, JSON.stringify(ahead.stats));
      } else {
        // one at a time: a's buffers come back before c is asked for, and c is decoded into them
        assert.ok(reader.reusedBytes >= models.get('a.onnx')!.length / 2, `reused ${reader.reusedBytes}`);
      }
    } finally {
      await reader.close();
    }
  }
});

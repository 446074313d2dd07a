// The merge driver through real `git merge`: one-sided changes, identical changes, conflicting changes
// under each strategy (exact bytes per tensor, onnxruntime loads and runs the result), a structural
// conflict, structure from one side with values from the other, non-float conflicts, add/add, the
// resolve command, install/track config, and the lineage edge a merge records.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { Repo } from '../src/repo.js';
import { recordMergeLineage } from '../src/merge/lineage-hook.js';
import { mergeEdge } from '../src/lineage/record-merge.js';
import { loadGraph } from '../src/lineage/ref.js';
import { decodeFloats, encodeFloats } from '../src/tensor/floats.js';
import { run, TestRepo } from './helpers/git-repo.js';
import { DT, floatsBuffer, seededFloats } from './helpers/onnx-builder.js';
import { floats, mapFloats, payloadsOf, variantModel, variantTensors, type Variant } from './helpers/model-variants.js';

const base = variantTensors({ layers: 3 });
const raw = (name: string) => base.find((t) => t.name === name)!.raw!;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const f = Math.fround;

interface Merge {
  repo: TestRepo;
  status: number;
  stderr: string;
}

// One repository for the whole file: each scenario builds its three commits with plumbing (one clean
// pass for the three blobs, no hooks, no checkouts in between), so a merge costs a few process starts.
let lab: TestRepo | undefined;
function labRepo(): TestRepo {
  if (!lab) {
    lab = TestRepo.create();
    lab.write('README', 'merge tests\n');
    lab.commitAll('root');
  }
  return lab;
}

/**
 * Commits base, ours (on main) and theirs (on b) and runs `git merge b` with `git -c` options. Without
 * a base model, ours and theirs each add m.onnx to a commit that has none (add/add, no merge base).
 */
function threeWay(baseModel: Buffer | undefined, ours: Buffer, theirs: Buffer, config: string[] = []): Merge {
  const repo = labRepo();
  repo.tryGit('merge', '--abort');
  repo.git('reset', '-q', '--hard');
  const files = [baseModel, ours, theirs].map((b, i) => {
    const f = repo.path(`.git/lab-${i}.onnx`);
    if (b) fs.writeFileSync(f, b);
    return b ? f : undefined;
  });
  const oids = repo.git('hash-object', '-w', '--path=m.onnx', ...files.filter((x): x is string => !!x)).trim().split('\n');
  const attrs = repo.git('rev-parse', 'HEAD:.gitattributes').trim();
  const readme = repo.git('rev-parse', 'HEAD:README').trim();
  const tree = (oid?: string) =>
    run('git', ['mktree'], {
      cwd: repo.dir,
      env: repo.env,
      input: `100644 blob ${attrs}\t.gitattributes\n100644 blob ${readme}\tREADME\n${oid ? `100644 blob ${oid}\tm.onnx\n` : ''}`,
    }).stdout.trim();
  const commit = (t: string, msg: string, parent?: string) => repo.git('commit-tree', t, ...(parent ? ['-p', parent] : []), '-m', msg).trim();
  const [bo, oo, to] = baseModel ? oids : [undefined, ...oids];
  const root = commit(tree(bo), 'base');
  repo.git('checkout', '-q', '-f', '-B', 'main', commit(tree(oo), 'ours', root));
  repo.git('branch', '-f', 'b', commit(tree(to), 'theirs', root));
  const r = repo.tryGit(...config.flatMap((c) => ['-c', c]), 'merge', '-m', 'merge', 'b');
  return { repo, status: r.status, stderr: r.stderr };
}

const v = (x: Variant) => variantModel({ layers: 3, ...x });
const plus = (name: string, d: number) => mapFloats(raw(name), (x) => x + d);
const scale = (name: string, k: number) => mapFloats(raw(name), (x) => x * k);

/** Runs the model in onnxruntime on a fixed input and checks it against the MLP computed by hand. */
async function runsLike(file: string, weights: Map<string, Buffer>): Promise<void> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(fs.readFileSync(file));
  const x = seededFloats(77, 16);
  const out = await session.run({ x: new ort.Tensor('float32', x, [1, 16]) });
  const y = out.y!.data as Float32Array;
  let h = Array.from(x);
  for (let l = 0; l < 3; l++) {
    const w = floats(weights.get(`layer${l}.weight`)!);
    const b = floats(weights.get(`layer${l}.bias`)!);
    h = Array.from({ length: 16 }, (_, j) => h.reduce((acc, hi, i) => acc + hi * w[i * 16 + j]!, 0) + b[j]!);
  }
  h.forEach((want, j) => assert.ok(Math.abs(y[j]! - want) < 1e-4, `y[${j}] = ${y[j]} vs ${want}`));
}

function assertClean(m: Merge): void {
  assert.equal(m.status, 0, m.stderr);
  assert.equal(m.repo.git('status', '--porcelain', '--untracked-files=no'), '');
  assert.equal(JSON.parse(m.repo.mgit('fsck', '--json')).ok, true);
}

test('install and track configure the merge driver; old merge=binary lines are upgraded', () => {
  const repo = TestRepo.create();
  assert.equal(repo.git('config', 'merge.mgit.driver').trim(), 'git-mgit merge-driver %O %A %B %P');
  assert.match(repo.git('config', 'merge.mgit.name'), /mgit/);
  assert.match(repo.read('.gitattributes').toString(), /^\*\.onnx filter=mgit diff=mgit merge=mgit -text$/m);
  repo.write('.gitattributes', '*.onnx filter=mgit diff=mgit merge=binary -text\n');
  assert.match(repo.mgit('track', '*.bin'), /now use the mgit merge driver/);
  assert.equal(repo.read('.gitattributes').toString(), '*.onnx filter=mgit diff=mgit merge=mgit -text\n*.bin filter=mgit diff=mgit merge=mgit -text\n');
  repo.mgit('uninstall', '--local');
  assert.equal(repo.tryGit('config', '--local', 'merge.mgit.driver').status, 1);
});

test('one-sided changes merge tensor by tensor, large and small, and the result runs', async () => {
  const oursW0 = plus('layer0.weight', 0.01);
  const theirsW2 = scale('layer2.weight', 0.5);
  const theirsB1 = plus('layer1.bias', 0.25); // 64 bytes: lives in the skeleton
  const m = threeWay(v({}), v({ replace: { 'layer0.weight': oursW0 } }), v({ replace: { 'layer2.weight': theirsW2, 'layer1.bias': theirsB1 } }));
  assertClean(m);
  assert.match(m.stderr, /merged m\.onnx tensor by tensor: 1 from ours, 2 from theirs, 3 the same/);
  const got = payloadsOf(m.repo.path('m.onnx'));
  assert.ok(got.get('layer0.weight')!.equals(oursW0));
  assert.ok(got.get('layer2.weight')!.equals(theirsW2));
  assert.ok(got.get('layer1.bias')!.equals(theirsB1));
  assert.ok(got.get('layer1.weight')!.equals(raw('layer1.weight')));
  // the merged file is exactly ours with theirs' payloads spliced in
  const expected = v({ replace: { 'layer0.weight': oursW0, 'layer2.weight': theirsW2, 'layer1.bias': theirsB1 } });
  assert.equal(sha(m.repo.read('m.onnx')), sha(expected));
  await runsLike(m.repo.path('m.onnx'), got);
});

test('identical changes on both sides merge cleanly', () => {
  const w = plus('layer1.weight', 0.5);
  const m = threeWay(v({}), v({ replace: { 'layer1.weight': w, 'layer0.weight': plus('layer0.weight', 1) } }), v({ replace: { 'layer1.weight': w } }));
  assertClean(m);
  assert.match(m.stderr, /1 from ours, 0 from theirs, 5 the same/);
  assert.ok(payloadsOf(m.repo.path('m.onnx')).get('layer1.weight')!.equals(w));
});

test('a conflict keeps ours in the work tree, the three stages in the index, and says how to go on', () => {
  const ours = v({ replace: { 'layer1.weight': plus('layer1.weight', 1), 'layer0.weight': plus('layer0.weight', 2) } });
  const theirs = v({ replace: { 'layer1.weight': plus('layer1.weight', -1) } });
  const m = threeWay(v({}), ours, theirs);
  assert.equal(m.status, 1);
  assert.match(m.stderr, /CONFLICT \(model\): m\.onnx: 1 tensor\(s\) changed differently on both sides: layer1\.weight/);
  assert.match(m.stderr, /git mgit resolve --strategy=/);
  assert.equal(sha(m.repo.read('m.onnx')), sha(ours), 'the work tree holds ours, a real model, not a broken pointer');
  const stages = m.repo.git('ls-files', '-s', 'm.onnx').trim().split('\n');
  assert.equal(stages.length, 3);
  // the versions can be compared and materialised
  const d = JSON.parse(m.repo.mgit('diff', '--format=json', ':2:m.onnx', ':3:m.onnx'));
  assert.equal(d.models[0].tensors.summary.changed.count, 2);
  assert.equal(sha(m.repo.gitBytes('cat-file', '--filters', ':3:m.onnx')), sha(theirs));
  // and resolved afterwards with a strategy
  const r = m.repo.tryMgit('resolve', '--strategy=theirs', 'm.onnx');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(m.repo.git('status', '--porcelain', '--untracked-files=no'), 'M  m.onnx\n');
  const got = payloadsOf(m.repo.path('m.onnx'));
  assert.ok(got.get('layer1.weight')!.equals(plus('layer1.weight', -1)));
  assert.ok(got.get('layer0.weight')!.equals(plus('layer0.weight', 2)), 'non-conflicting changes of ours are kept');
  m.repo.git('commit', '-q', '--no-edit');
  assert.equal(m.repo.git('status', '--porcelain', '--untracked-files=no'), '');
});

test('strategies settle conflicting tensors exactly, and the results run in onnxruntime', async () => {
  // every tensor changed on both sides, so every tensor goes through the strategy
  const names = base.map((t) => t.name);
  const ours = Object.fromEntries(names.map((n, i) => [n, mapFloats(raw(n), (x, j) => x * 1.5 + 0.001 * ((i + j) % 7))]));
  const theirs = Object.fromEntries(names.map((n, i) => [n, mapFloats(raw(n), (x, j) => x * 0.75 - 0.002 * ((i * 3 + j) % 5))]));
  const expect: Record<string, (o: number, a: number, b: number) => number> = {
    ours: (_o, a) => a,
    theirs: (_o, _a, b) => b,
    base: (o) => o,
    average: (_o, a, b) => f((a + b) / 2),
    'task-arithmetic': (o, a, b) => f(f(o + f(a - o)) + f(b - o)),
  };
  for (const [strategy, formula] of Object.entries(expect)) {
    const m = threeWay(v({}), v({ replace: ours }), v({ replace: theirs }), [`mgit.mergeStrategy=${strategy}`]);
    assertClean(m);
    assert.match(m.stderr, new RegExp(`6 by ${strategy}`));
    const got = payloadsOf(m.repo.path('m.onnx'));
    for (const n of names) {
      const [o, a, b, r] = [floats(raw(n)), floats(ours[n]!), floats(theirs[n]!), floats(got.get(n)!)];
      for (let i = 0; i < r.length; i++) assert.equal(r[i], formula(o[i]!, a[i]!, b[i]!), `${strategy} ${n}[${i}]`);
    }
    await runsLike(m.repo.path('m.onnx'), got);
  }
});

test('strategy from the driver command line and the environment; unknown strategies are refused', () => {
  const ours = v({ replace: { 'layer1.weight': plus('layer1.weight', 1) } });
  const theirs = v({ replace: { 'layer1.weight': plus('layer1.weight', 3) } });
  const m = threeWay(v({}), ours, theirs);
  assert.equal(m.status, 1);
  m.repo.git('merge', '--abort');
  const env = run('git', ['merge', '-m', 'merge', 'b'], { cwd: m.repo.dir, env: { ...m.repo.env, MGIT_MERGE_STRATEGY: 'theirs' } });
  assert.equal(env.status, 0, env.stderr);
  assert.ok(payloadsOf(m.repo.path('m.onnx')).get('layer1.weight')!.equals(plus('layer1.weight', 3)));
  m.repo.git('reset', '-q', '--hard', 'HEAD~1');
  m.repo.git('config', 'merge.mgit.driver', 'git-mgit merge-driver --strategy=average %O %A %B %P');
  const flag = m.repo.tryGit('merge', '-m', 'merge', 'b');
  m.repo.git('config', 'merge.mgit.driver', 'git-mgit merge-driver %O %A %B %P');
  assert.equal(flag.status, 0, flag.stderr);
  assert.ok(payloadsOf(m.repo.path('m.onnx')).get('layer1.weight')!.equals(mapFloats(raw('layer1.weight'), (x) => f((f(x + 1) + f(x + 3)) / 2))));
  const bad = threeWay(v({}), ours, theirs, ['mgit.mergeStrategy=median']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /unknown merge strategy "median"/);
  assert.equal(sha(bad.repo.read('m.onnx')), sha(ours));
});

test('float16 tensors average in float32 and round back to nearest even', () => {
  const h = (vals: number[]) => encodeFloats(Float32Array.from(vals), 'float16');
  const n = 64;
  const o = h(Array.from({ length: n }, (_, i) => i / 8));
  const a = h(Array.from({ length: n }, (_, i) => i / 8 + 1 / 1024));
  const b = h(Array.from({ length: n }, (_, i) => i / 8 + 3 / 1024));
  const mk = (t: Buffer) => v({ extra: [{ name: 'half', dtype: DT.FLOAT16, dims: [n], raw: t }] });
  const m = threeWay(mk(o), mk(a), mk(b), ['mgit.mergeStrategy=average']);
  assert.equal(m.status, 0, m.stderr);
  const got = decodeFloats(payloadsOf(m.repo.path('m.onnx')).get('half')!, 'float16');
  const fa = decodeFloats(a, 'float16');
  const fb = decodeFloats(b, 'float16');
  for (let i = 0; i < n; i++) {
    const want = decodeFloats(encodeFloats(Float32Array.of((fa[i]! + fb[i]!) / 2), 'float16'), 'float16')[0];
    assert.equal(got[i], want);
    assert.ok(Math.abs(got[i]! - (fa[i]! + fb[i]!) / 2) <= Math.abs(fa[i]! - fb[i]!) / 2 + 1e-9);
  }
});

test('integer tensors cannot be averaged: they stay a conflict, ours and theirs still settle them', () => {
  const ints = (k: number) => Buffer.from(new BigInt64Array(Array.from({ length: 32 }, (_, i) => BigInt(i * k))).buffer);
  const mk = (k: number) => v({ extra: [{ name: 'table', dtype: DT.INT64, dims: [32], raw: ints(k) }] });
  const avg = threeWay(mk(1), mk(2), mk(3), ['mgit.mergeStrategy=average']);
  assert.equal(avg.status, 1);
  assert.match(avg.stderr, /average needs a float tensor, this one is int64/);
  const th = threeWay(mk(1), mk(2), mk(3), ['mgit.mergeStrategy=theirs']);
  assert.equal(th.status, 0, th.stderr);
  assert.ok(payloadsOf(th.repo.path('m.onnx')).get('table')!.equals(ints(3)));
});

test('structure changed on both sides is a conflict whatever the strategy', () => {
  const m = threeWay(v({}), v({ insert: 'Relu' }), v({ insert: 'Sigmoid' }), ['mgit.mergeStrategy=theirs']);
  assert.equal(m.status, 1);
  assert.match(m.stderr, /both sides changed the structure differently/);
  assert.equal(sha(m.repo.read('m.onnx')), sha(v({ insert: 'Relu' })));
  // the same structural change on both sides is no conflict
  const same = threeWay(v({}), v({ insert: 'Relu', replace: { 'layer0.weight': plus('layer0.weight', 1) } }), v({ insert: 'Relu' }));
  assertClean(same);
});

test('structure from one side, values from the other', async () => {
  const w2 = scale('layer2.weight', 2);
  const m = threeWay(v({}), v({ insert: 'Relu' }), v({ replace: { 'layer2.weight': w2 } }));
  assertClean(m);
  assert.match(m.stderr, /structure from ours/);
  assert.equal(sha(m.repo.read('m.onnx')), sha(v({ insert: 'Relu', replace: { 'layer2.weight': w2 } })));
  // a tensor one side changed and the other side replaced (other shape) is a conflict
  const reshaped = { raw: raw('layer2.weight'), dims: [32, 8] };
  const c = threeWay(v({}), v({ replace: { 'layer2.weight': reshaped } }), v({ replace: { 'layer2.weight': w2 } }));
  assert.equal(c.status, 1);
  assert.match(c.stderr, /changed on one side and removed on the other: layer2\.weight/);
});

test('models added on both branches (no merge base) merge only when they agree', () => {
  const a = v({ replace: { 'layer0.weight': plus('layer0.weight', 1) } });
  const b = v({ replace: { 'layer0.weight': plus('layer0.weight', 2) } });
  const r = threeWay(undefined, a, b);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /changed differently on both sides: layer0\.weight/);
  const avg = threeWay(undefined, a, b, ['mgit.mergeStrategy=average']);
  assert.equal(avg.status, 0, avg.stderr);
  assert.ok(payloadsOf(avg.repo.path('m.onnx')).get('layer0.weight')!.equals(mapFloats(raw('layer0.weight'), (x) => f((f(x + 1) + f(x + 2)) / 2))));
});

test('a merge that makes a new version records a lineage edge to both parents; one that keeps a side records none', async () => {
  const ours = v({ replace: { 'layer0.weight': plus('layer0.weight', 1) } });
  const theirs = v({ replace: { 'layer0.weight': plus('layer0.weight', 2) } });
  const m = threeWay(v({}), ours, theirs, ['mgit.mergeStrategy=average']);
  assertClean(m);
  const repo = Repo.require(m.repo.dir);
  const child = sha(m.repo.read('m.onnx'));
  // (the lab repository is shared: earlier tests may have made the same version another way)
  const edges = loadGraph(repo).edgesOf(child).filter((e) => e.meta?.strategy === 'average' && e.meta?.base === sha(v({})));
  assert.equal(edges.length, 1);
  assert.deepEqual(edges[0]!.parents, [sha(ours), sha(theirs)]);
  assert.deepEqual(edges[0]!.parentPaths, ['m.onnx', 'm.onnx']);
  assert.equal(edges[0]!.relation, 'merge');

  // the result is theirs (only theirs changed): nothing new was made, git history says it all
  const one = threeWay(v({}), v({}), theirs);
  assertClean(one);
  assert.equal(sha(one.repo.read('m.onnx')), sha(theirs));
  assert.equal(mergeEdge({ path: 'm.onnx', child: sha(theirs), parents: [sha(v({})), sha(theirs)], relation: 'merge' }), undefined);
  // a lineage failure never fails the merge
  const r = await recordMergeLineage({ path: 'm.onnx', child: 'x', parents: ['b'.repeat(64), 'c'.repeat(64)], relation: 'merge' }, repo);
  assert.equal(r, 'failed');
  void floatsBuffer;
});

// git mgit bisect (issue 6): a planted bad version in a 16-version chain is found in at most 5 test
// runs, along the commit history and along the lineage chain.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestRepo } from './helpers/git-repo.js';
import { finetuned, mlpWith } from './helpers/lineage-models.js';
import { mlpTensors, seededFloats } from './helpers/onnx-builder.js';

const WIDTH = 16;
const opts = { width: WIDTH, layers: 2 };
const BAD_FROM = 11;

interface Out {
  candidates: number;
  runs: { index: number; status: string }[];
  firstBad: { index: number; commit: string } | null;
}

test('bisect finds the first bad version of 16 in at most 5 runs (history and lineage)', () => {
  const repo = TestRepo.create();
  const base = mlpTensors({ seed: 1, ...opts });
  repo.write('m.onnx', mlpWith(base, opts));
  repo.write('golden.json', JSON.stringify({ inputs: { x: { dims: [1, WIDTH], data: Array.from(seededFloats(5, WIDTH)) } } }));
  repo.mgit('test', 'add', '--name', 'golden', '--model', '*.onnx', '--golden', 'golden.json', '--tolerance', '1e-3', '--record', 'm.onnx');
  const commits: string[] = [];
  for (let i = 0; i < 16; i++) {
    // versions drift by tiny amounts; from BAD_FROM on, one weight tensor is broken
    let t = finetuned(base, 100 + i, { fraction: 0.05, scale: 1e-6 });
    if (i >= BAD_FROM) t = finetuned(t, 7, { fraction: 0.2, scale: 3 });
    repo.write('m.onnx', mlpWith(t, opts));
    repo.git('add', '-A');
    repo.git('commit', '-q', '--no-verify', '-m', `v${i}`);
    commits.push(repo.git('rev-parse', 'HEAD').trim());
    if (i > 0) repo.mgit('lineage', 'add', 'm.onnx@HEAD', '--parent', 'm.onnx@HEAD~1', '--relation', 'version');
  }
  const hist = JSON.parse(repo.mgit('bisect', '--test', 'golden', 'm.onnx', '--json')) as Out;
  assert.equal(hist.candidates, 16);
  assert.ok(hist.runs.length <= 5, `${hist.runs.length} runs`);
  assert.equal(hist.firstBad?.index, BAD_FROM);
  assert.equal(hist.firstBad?.commit, commits[BAD_FROM]);
  const lin = JSON.parse(repo.mgit('bisect', '--test', 'golden', 'm.onnx', '--lineage', '--json')) as Out;
  assert.equal(lin.candidates, 16);
  assert.ok(lin.runs.length <= 5);
  assert.equal(lin.firstBad?.commit, commits[BAD_FROM]);
  const text = repo.mgit('bisect', '--test', 'golden', 'm.onnx');
  assert.match(text, new RegExp(`first failing version of m\\.onnx \\(12 of 16, 5 test runs\\):\\n  m\\.onnx [0-9a-f]{12} in commit ${commits[BAD_FROM].slice(0, 12)}\\n  max \\|diff\\|`));
  // a newest version that passes: nothing to find, in one run
  repo.write('m.onnx', mlpWith(base, opts));
  repo.commitAll('fixed');
  const ok = JSON.parse(repo.mgit('bisect', '--test', 'golden', 'm.onnx', '--json')) as Out;
  assert.equal(ok.firstBad, null);
  assert.equal(ok.runs.length, 1);
});

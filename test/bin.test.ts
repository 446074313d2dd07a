// The scripts in bin/: what git and users start. They must work through links (npm link, npm install
// -g), and they defer NODE_EXTRA_CA_CERTS (Node parses it at every start) to the S3 client while
// handing it back to the commands mgit runs.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { BIN, run, tempDir, testEnv, TestRepo } from './helpers/git-repo.js';
import { mlpModel } from './helpers/onnx-builder.js';

test('git-mgit runs through a chain of links, as npm link and npm install -g make them', () => {
  const dir = tempDir('links');
  fs.symlinkSync(path.join(BIN, 'git-mgit'), path.join(dir, 'first'));
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.symlinkSync('../first', path.join(dir, 'bin', 'git-mgit')); // relative, to another link
  const r = run(path.join(dir, 'bin', 'git-mgit'), ['version'], { env: testEnv() });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^mgit\/\d/);
  assert.match(r.stdout, /kernels: wasm-simd\)/, 'the built kernels are found from the installed command');
  // started as `sh git-mgit` from its own folder: no slash in $0
  const bare = run('sh', ['git-mgit', 'version'], { cwd: BIN, env: testEnv() });
  assert.equal(bare.status, 0, bare.stderr);
  assert.match(bare.stdout, /^mgit\/\d/);
  const h = run(path.join(BIN, 'git-remote-mgit'), [], { env: testEnv() });
  assert.equal(h.status, 129, 'the helper says how it is used');
  assert.match(h.stderr, /usage: git-remote-mgit/);
});

test('NODE_EXTRA_CA_CERTS: mgit starts without loading it, and the commands it runs get it back', () => {
  const pem = path.join(tempDir('ca'), 'extra.pem');
  fs.writeFileSync(pem, ''); // Node accepts an empty bundle silently
  const repo = new TestRepo(tempDir('repo'), testEnv({ NODE_EXTRA_CA_CERTS: pem, MGIT_EXTRA_CA_CERTS: undefined }));
  repo.git('init', '-q', '-b', 'main');
  repo.mgit('install', '--local');
  repo.mgit('track', '*.onnx');
  repo.write('m.onnx', mlpModel({ seed: 3, layers: 2, width: 16 }));
  // metrics are numbers: 1 where the variable holds the bundle's path
  repo.write('env.mjs', `const is = (v) => (v === process.argv[2] ? 1 : 0);
console.log('mgit-metrics: ' + JSON.stringify({ node: is(process.env.NODE_EXTRA_CA_CERTS), deferred: is(process.env.MGIT_EXTRA_CA_CERTS) }));
`);
  repo.mgit('test', 'add', '--name', 'env', '--model', '*.onnx', '--', process.execPath, 'env.mjs', pem);
  repo.commitAll('m');
  const out = JSON.parse(repo.mgit('test', '--all', '--json').replace(/^[^[]*/, '')) as { status: string; metrics: { node: number; deferred: number } }[];
  assert.equal(out[0].status, 'pass');
  assert.equal(out[0].metrics.node, 1, 'a command mgit runs sees the variable the user set');
  assert.equal(out[0].metrics.deferred, 1, 'and where mgit kept it');
  repo.checkoutAgain('m.onnx');
  assert.equal(repo.status(), '');
});

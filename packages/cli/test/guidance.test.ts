// What the CLI tells a user after converting (spawned from the built bin, npm
// run build first): the accuracy the hashing cost and the retrain command, the
// hashing table before training, the demo's next steps, and lines for slow
// steps of big models (with a fake clock).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { writeNpy } from '@hnet/format';
import { fixture } from '../../convert/test/helpers.js';
import { retrainCommand, shellWord } from '../src/guidance.js';
import { parseArgs } from '../src/args.js';
import { HASHING_FLAGS } from '../src/flags/hashing.js';
import { BIG_LAYER_WEIGHTS, SlowWork } from '../src/slow-work.js';
import { demoNextSteps } from '../src/verbs/demo.js';
import { BIN, runHnet, type CliResult } from './helpers.js';

let dir = '';

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'hnet-guide-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const hnet = (...args: string[]): CliResult => runHnet(dir, ...args);

/** stdout and stderr in the order they were written: both go to one file. */
function hnetInterleaved(...args: string[]): { code: number; output: string } {
  const file = path.join(dir, 'interleaved.txt');
  const fd = openSync(file, 'w');
  try {
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, stdio: ['ignore', fd, fd], env: { ...process.env, HNET_DEBUG: '' } });
    return { code: r.status ?? -1, output: readFileSync(file, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

test('hashing without retraining, with --data: the accuracy drop on 500 examples, then the retrain command', () => {
  const r = hnet('convert', fixture('mnist_mlp.onnx'), '-o', 'm.hnet', '--compression', '1/8', '--seed', '5', '--data', 'mnist');
  assert.equal(r.code, 0, r.stderr);
  const m = /^accuracy on 500 examples of the test split of mnist\S* \(WASM runtime\): dense (\d+\.\d\d)% → hashed (\d+\.\d\d)% \(−(\d+\.\d\d) points\)$/m.exec(r.stdout);
  assert.ok(m, r.stdout);
  const [dense, hashed, drop] = m.slice(1).map(Number);
  assert.ok(dense > 90, `the dense fixture is a good classifier (${dense}%)`);
  assert.ok(hashed < dense - 20, `1/8 without retraining loses most of it (${hashed}%)`);
  assert.ok(Math.abs(dense - hashed - drop) < 0.011);
  assert.match(r.stdout, /retrain it before use:\n {2}hnet convert \S*mnist_mlp\.onnx -o m\.hnet --compression 1\/8 --seed 5 --retrain mnist$/m);
  assert.match(r.stdout, /without retraining\./);
});

test('the demo\'s fixture is measured on mnist without --data; --json carries the drop and the command', () => {
  const r = hnet('convert', fixture('mnist_mlp.onnx'), '-o', 'm.hnet', '-c', '1/8', '--json');
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.accuracy.count, 500);
  assert.ok(report.accuracy.dense > report.accuracy.hashed);
  assert.match(report.retrainCommand, /^hnet convert \S+ -o m\.hnet --compression 1\/8 --retrain mnist$/);
});

test('without data at hand: says plainly that the model must be retrained, with the exact command', () => {
  const copy = path.join(dir, 'my model.onnx'); // not the demo's fixture, and a path that needs quoting
  copyFileSync(fixture('mnist_mlp.onnx'), copy);
  const r = hnet('convert', copy, '-o', 'out.hnet', '--compression', '12.5%', '--dense', '/fc2/Gemm', '--bucket-dtype', 'float16');
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /^accuracy on/m);
  assert.match(r.stdout, /has not been retrained: expect it to be much less accurate/);
  assert.ok(r.stdout.trimEnd().endsWith(`  hnet convert '${copy}' -o out.hnet --compression 12.5% --dense /fc2/Gemm --bucket-dtype float16 --retrain DATA`), r.stdout);
});

test('data that does not fit the model fails the command (exit 3) with nothing written', () => {
  mkdirSync(path.join(dir, 'wide'));
  writeFileSync(path.join(dir, 'wide', 'x.npy'), writeNpy({ shape: [20, 30], data: new Float32Array(600) }));
  writeFileSync(path.join(dir, 'wide', 'y.npy'), writeNpy({ shape: [20], data: new Float32Array(20) }));
  const r = hnet('convert', fixture('mnist_mlp.onnx'), '-o', 'unfit.hnet', '-c', '1/8', '--data', 'wide');
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /do not fit the model input/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.equal(existsSync(path.join(dir, 'unfit.hnet')), false);
});

test('an exact import (compression 1) gets no advice; --data with --retrain is a usage error', () => {
  const exact = hnet('convert', fixture('mnist_mlp.onnx'), '-o', 'exact.hnet');
  assert.equal(exact.code, 0, exact.stderr);
  assert.doesNotMatch(exact.stdout, /--retrain|rel\. error =/);
  const both = hnet('convert', fixture('mnist_mlp.onnx'), '-o', 'x.hnet', '-c', '1/8', '--retrain', 'mnist', '--data', 'mnist');
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--data measures a model hashed without retraining/);
});

test('convert --retrain prints the import and hashing table before training, and no "without retraining" footer', () => {
  const x = Float32Array.from({ length: 64 * 196 }, (_, i) => Math.abs(Math.sin(i * 0.7)));
  writeFileSync(path.join(dir, 'x.npy'), writeNpy({ shape: [64, 1, 14, 14], data: x }));
  const r = hnetInterleaved('convert', fixture('mlp.onnx'), '-o', 'mlp.hnet', '--compression', '1/4', '--min-virtual', '64', '--retrain', 'x.npy', '--distill', '--epochs', '2');
  assert.equal(r.code, 0, r.output);
  const at = (pattern: RegExp): number => {
    const i = r.output.search(pattern);
    assert.ok(i >= 0, `${pattern} in\n${r.output}`);
    return i;
  };
  assert.ok(at(/^imported /m) < at(/^layer\s+part\s+shape/m));
  assert.ok(at(/^rel\. error = .* before retraining/m) < at(/^hnet train: /m), 'the table comes before training starts');
  assert.ok(at(/^epoch 2\/2 /m) < at(/^wrote mlp\.hnet/m));
  assert.doesNotMatch(r.output, /without retraining|retrain it before use/);
});

test('the retrain command repeats every hashing flag as given and quotes what a shell would split', () => {
  const args = parseArgs(['in.onnx', '--compression', '1/16', '--buckets', 'fc1=2000', '--buckets', "it's=3", '--hash-bias', '--seed', '9'], HASHING_FLAGS);
  assert.equal(retrainCommand(args, 'in.onnx', 'a b.hnet', 'DATA'), `hnet convert in.onnx -o 'a b.hnet' --compression 1/16 --buckets fc1=2000 --buckets 'it'\\''s=3' --seed 9 --hash-bias --retrain DATA`);
  assert.equal(shellWord('/data/fashion-mnist'), '/data/fashion-mnist');
  assert.equal(shellWord('$HOME'), `'$HOME'`);
});

test('the demo ends with the next steps: the page, inspecting its output, converting your own model', () => {
  const steps = demoNextSteps('out/demo/mnist-1-64.hnet').join('\n');
  assert.match(steps, /^next steps:$/m);
  assert.match(steps, /^ {2}npm run web\s+draw a digit/m);
  assert.match(steps, /^ {2}npx hnet inspect out\/demo\/mnist-1-64\.hnet\s+what the file holds/m);
  assert.match(steps, /^ {2}npx hnet convert MODEL\.onnx -o MODEL\.hnet --compression 1\/8 --retrain DATA --distill$/m);
});

test('slow steps: a big layer is announced before it is hashed, small ones only once the step has run 2 s', () => {
  let now = 0;
  const lines: string[] = [];
  const slow = new SlowWork((t) => lines.push(t), { now: () => now });
  slow.step('hashing', 0, (step) => {
    step.item('/small weight', 1000, 0, 3);
    now += 500;
    step.item('/big weight', BIG_LAYER_WEIGHTS, 1, 3, '→ 524,288 buckets');
    now += 2500; // the big layer took 2.5 s
    step.item('/last bias', 10, 2, 3);
    now += 10;
  });
  assert.deepEqual(lines, [
    '  hashing: 2/3 /big weight, 4,194,304 weights → 524,288 buckets…',
    '  hashing: 3/3 /last bias, 10 weights…',
    'hashing: done in 3.0 s',
  ]);

  lines.length = 0;
  slow.step('importing small.onnx', 1000, () => (now += 100));
  assert.deepEqual(lines, [], 'a small, quick import prints nothing');
  slow.step('importing big.onnx', 200 << 20, () => (now += 4000));
  assert.deepEqual(lines, ['importing big.onnx (200.00 MiB)…', 'importing big.onnx: done in 4.0 s']);
});

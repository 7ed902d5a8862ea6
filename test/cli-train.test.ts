// The CLI verbs that join the packages: train, convert --retrain, eval and
// bench, run as a user would (the built bin, in a temporary folder).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { writeNpy } from '@hnet/format';

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

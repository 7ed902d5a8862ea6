// The page's retraining without the DOM (src/retrain.js), in Node with
// onnxruntime-web's WASM backend: the digits file, the loss measure, and a
// short run of train()'s loop from the 1/8 projection of the dense model.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-web';
import { decode } from '@hnet/format';
import { hashForRetraining, lossAndAccuracy, parseDigits, PIXELS, retrain } from '../src/retrain.js';

const digitsFile = () => gunzipSync(readFileSync(new URL('../data/digits.bin.gz', import.meta.url)));

test('parseDigits: 1,000 training and 500 held-out digits, fifty of each class held out, ink in [0, 1]', () => {
  const { train, test } = parseDigits(digitsFile());
  assert.equal(train.count, 1000);
  assert.equal(test.count, 500);
  for (let d = 0; d < 10; d++) assert.equal(test.y.filter((y) => y === d).length, 50, `held-out ${d}s`);
  assert.equal(train.x.length, 1000 * PIXELS);
  assert.ok(train.x.every((v) => v >= 0 && v <= 1) && train.x.some((v) => v === 1));
});

test('parseDigits: a truncated file or a bad label is an error naming the file', () => {
  const bytes = digitsFile();
  assert.throws(() => parseDigits(bytes.subarray(0, 5), 'd.bin'), /^Error: d\.bin: 5 bytes, shorter than its 8-byte header$/);
  assert.throws(() => parseDigits(bytes.subarray(0, 1000), 'd.bin'), /d\.bin: 1000 bytes, but its header announces 1000 \+ 500 digits/);
  const bad = Uint8Array.from(bytes);
  bad[8] = 12;
  assert.throws(() => parseDigits(bad, 'd.bin'), /d\.bin: digit 0 has label 12/);
});

test('lossAndAccuracy: mean cross-entropy of the softmax and the argmax hits', () => {
  const logits = Float32Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0);
  const { loss, accuracy } = lossAndAccuracy(logits, Int32Array.of(3, 1));
  const second = Math.log(Math.exp(5) + Math.exp(1) + 8) - 1;
  assert.ok(Math.abs(loss - (Math.log(10) + second) / 2) < 1e-6, `loss ${loss}`);
  assert.equal(accuracy, 0); // the first row ties (argmax 0 ≠ 3), the second picks 0 ≠ 1
});

test('retrain: two epochs of train()\'s loop on onnxruntime-web lower the held-out loss and raise the accuracy of the projection', async () => {
  ort.env.wasm.numThreads = 1;
  const data = parseDigits(digitsFile());
  const hashed = hashForRetraining(decode(readFileSync(new URL('../models/dense.hnet', import.meta.url))));
  const progress: { epoch: number; step: number; steps: number }[] = [];
  const result = await retrain(hashed, data, ort, { epochs: 2, onProgress: async ({ epoch, step, steps }) => void progress.push({ epoch, step, steps }) });
  // 20 steps an epoch: a run of 16, then 4 single steps.
  assert.deepEqual(progress.map((p) => p.step), [16, 17, 18, 19, 20, 36, 37, 38, 39, 40]);
  assert.deepEqual(progress.map((p) => p.epoch), [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
  assert.ok(progress.every((p) => p.steps === 40));
  assert.ok(result.after.loss < result.before.loss, `loss ${result.before.loss} → ${result.after.loss}`);
  assert.ok(result.after.accuracy > result.before.accuracy + 0.2, `accuracy ${result.before.accuracy} → ${result.after.accuracy}`);
  assert.equal(result.worseThanStart, false);
  assert.equal(result.divergences, 0);
  assert.equal(result.history.length, 2);
  assert.equal(result.steps, 40);
  assert.match(result.engine, /^ort \(onnxruntime-web 1\.\d+\.\d+, 1 thread\)$/);
  assert.equal(result.model.nodes.length, hashed.nodes.length);
});

// The page's pure parts: MNIST preprocessing, input scaling, probabilities,
// and the inspect description of a decoded model.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { decode, encode, plainWeight, type Model } from '@hnet/format';
import { areaWeights, argmax, inkBox, inputScaling, mnistFromInk, probabilities, scaleInput } from '../src/digit.js';
import { classifiesDigits, describeModel } from '../src/inspect.js';

const mnist = createRequire(import.meta.url)('mnist') as Record<number, { length: number; get(i: number): number[] }>;

/** A 28×28 image blown up k times (nearest neighbour): what a big drawing of it looks like. */
function upscale(image: Float32Array, k: number): Float32Array {
  const side = 28 * k;
  const out = new Float32Array(side * side);
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) out[y * side + x] = image[Math.floor(y / k) * 28 + Math.floor(x / k)];
  return out;
}

test('areaWeights: every output cell averages the input it covers', () => {
  assert.deepEqual(areaWeights(4, 2), [[[0, 0.5], [1, 0.5]], [[2, 0.5], [3, 0.5]]]);
  assert.deepEqual(areaWeights(3, 3), [[[0, 1]], [[1, 1]], [[2, 1]]]);
  for (const [n, m] of [[280, 20], [37, 20], [3, 20], [1, 1], [200, 7]]) {
    const cells = areaWeights(n, m);
    assert.equal(cells.length, m);
    for (const [o, list] of cells.entries()) {
      const sum = list.reduce((s, [, w]) => s + w, 0);
      assert.ok(Math.abs(sum - 1) < 1e-9, `${n}→${m}, cell ${o}: weights add up to ${sum}`);
      for (const [i] of list) assert.ok(i >= 0 && i < n);
    }
  }
});

test('mnistFromInk: nothing drawn gives null', () => {
  assert.equal(mnistFromInk(new Float32Array(280 * 280), 280, 280), null);
  assert.throws(() => mnistFromInk(new Float32Array(10), 280, 280), /10 values for a 280×280 drawing/);
});

test('mnistFromInk: a box is fitted to 20 pixels on its long side and centred by mass', () => {
  // A solid 100 wide × 200 tall block, off-centre: → 10 × 20 of full ink whose
  // centre of mass (4.5, 9.5) goes to 14: shifts round(9.5) = 10 and round(4.5) = 5.
  const ink = new Float32Array(280 * 280);
  for (let y = 30; y < 230; y++) for (let x = 150; x < 250; x++) ink[y * 280 + x] = 1;
  const image = mnistFromInk(ink, 280, 280)!;
  assert.deepEqual(inkBox(image, 28, 28), { left: 10, top: 5, width: 10, height: 20 });
  for (let y = 5; y < 25; y++) for (let x = 10; x < 20; x++) assert.equal(image[y * 28 + x], 1);
  // The same block anywhere else on the pad gives the same image.
  const moved = new Float32Array(280 * 280);
  for (let y = 0; y < 200; y++) for (let x = 0; x < 100; x++) moved[y * 280 + x] = 1;
  assert.deepEqual(mnistFromInk(moved, 280, 280), image);
});

test('mnistFromInk: a small drawing is scaled up, a thin one keeps one full pixel', () => {
  const dot = new Float32Array(280 * 280);
  dot[140 * 280 + 140] = 1;
  const one = mnistFromInk(dot, 280, 280)!;
  assert.deepEqual(inkBox(one, 28, 28), { left: 5, top: 5, width: 20, height: 20 }); // mass at 9.5 → 14
  assert.ok(one.every((v) => v === 0 || v === 1));
  const line = new Float32Array(280 * 280);
  for (let y = 40; y < 240; y++) line[y * 280 + 140] = 1; // 1 × 200 → 1 × 20
  const image = mnistFromInk(line, 280, 280)!;
  assert.deepEqual(inkBox(image, 28, 28), { left: 14, top: 5, width: 1, height: 20 });
  assert.ok(Math.abs(image[14 * 28 + 14] - 1) < 1e-6, 'a 1-wide column stays full ink: only its length is scaled');
});

test('mnistFromInk: MNIST digits drawn 10× larger come back as they were', () => {
  // MNIST itself fitted each digit to 20×20 and centred it by mass, so
  // re-preprocessing a blown-up copy must give the original back.
  let checked = 0, same = 0;
  for (let d = 0; d < 10; d++) {
    for (let k = 0; k < 30; k++) {
      const original = Float32Array.from(mnist[d].get(k));
      const box = inkBox(original, 28, 28)!;
      if (Math.max(box.width, box.height) !== 20) continue; // only digits whose fitted box is exactly 20
      const again = mnistFromInk(upscale(original, 10), 280, 280)!;
      checked++;
      if (again.every((v, i) => Math.abs(v - original[i]) < 1e-5)) same++;
    }
  }
  assert.ok(checked > 250, `${checked} digits checked`);
  assert.ok(same >= checked - 2, `${same} of ${checked} digits came back unchanged`);
});

test('inputScaling: the trainer’s record, its raw unit, and the default pixel / 255', () => {
  assert.deepEqual(inputScaling({}), { normalization: { scale: 1, mean: [0], std: [1] }, rawMax: 1, recorded: false });
  const npm = inputScaling({ 'hnet.input.normalization': '{"scale":1,"mean":0,"std":1}' });
  assert.equal(npm.rawMax, 1);
  const idx = inputScaling({ 'hnet.input.normalization': JSON.stringify({ scale: 1 / 255, mean: 0.1307, std: 0.3081 }) });
  assert.equal(idx.rawMax, 255);
  const x = scaleInput(Float32Array.of(0, 1), idx);
  assert.ok(Math.abs(x[0] - -0.1307 / 0.3081) < 1e-6);
  assert.ok(Math.abs(x[1] - (1 - 0.1307) / 0.3081) < 1e-6);
  assert.throws(() => inputScaling({ 'hnet.input.normalization': 'scale=1' }), /"hnet\.input\.normalization"\]: not JSON/);
  assert.throws(() => inputScaling({ 'hnet.input.normalization': '{"std":0}' }), /std must be finite and > 0/);
  // Per-channel values are read by the same rule (a 3-channel model would get them per channel).
  assert.deepEqual(inputScaling({ 'hnet.input.normalization': '{"scale":0.00392156862745098,"mean":[0.485,0.456,0.406],"std":0.5}' }).normalization.mean, [0.485, 0.456, 0.406]);
});

test('probabilities: softmax of logits, as-is after Softmax, exp after LogSoftmax', () => {
  const logits = Float32Array.of(1, 3, -2, 0.5);
  const p = probabilities(logits, 'Dense');
  assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  assert.equal(argmax(p), 1);
  assert.ok(Math.abs(p[1] / p[0] - Math.exp(2)) < 1e-4);
  assert.deepEqual(probabilities(Float32Array.of(0.25, 0.75), 'Softmax'), Float32Array.of(0.25, 0.75));
  const fromLog = probabilities(Float32Array.of(Math.log(0.25), Math.log(0.75)), 'LogSoftmax');
  assert.ok(Math.abs(fromLog[0] - 0.25) < 1e-6 && Math.abs(fromLog[1] - 0.75) < 1e-6);
  assert.deepEqual(probabilities(Float32Array.of(1000, 0), 'Dense'), Float32Array.of(1, 0), 'no overflow on large logits');
});

test('describeModel: the default model, as the page shows it', () => {
  const bytes = readFileSync(new URL('../models/default.hnet', import.meta.url));
  const d = describeModel(decode(bytes), bytes);
  assert.deepEqual(d.inputs, [{ name: 'input', shape: [-1, 1, 28, 28] }]);
  assert.deepEqual(d.nodes.map((n) => n.op), ['Flatten', 'Dense', 'Relu', 'Dense']);
  assert.deepEqual(d.nodes.map((n) => n.shape), [[-1, 784], [-1, 256], [-1, 256], [-1, 10]]);
  assert.equal(d.parameters.virtual, 784 * 256 + 256 + 256 * 10 + 10);
  // Both weight matrices hashed at 1/8, biases dense.
  assert.equal(d.parameters.real, Math.ceil((784 * 256) / 8) + 256 + Math.ceil((256 * 10) / 8) + 10);
  assert.equal(d.bytes.denseFloat32, d.parameters.virtual * 4);
  assert.deepEqual(d.weights.map((w) => w.hash !== null), [true, false, true, false]);
  assert.equal(d.lastOp, 'Dense');
  assert.ok(classifiesDigits(d));
  assert.ok(d.metadata['hnet.input.normalization'], 'the trainer recorded the input scaling');
});

test('describeModel: BatchNorm counts as stored parameters; a non-digit model is not offered for drawing', () => {
  const model: Model = {
    inputs: [{ name: 'x', shape: [-1, 4] }],
    outputs: [{ name: 'y', shape: [-1, 3] }],
    nodes: [
      { name: 'bn', op: { type: 'BatchNorm', scale: new Float32Array(4).fill(1), bias: new Float32Array(4), mean: new Float32Array(4), variance: new Float32Array(4).fill(1), epsilon: 1e-5 }, inputs: ['x'], outputs: ['h'] },
      { name: 'fc', op: { type: 'Dense', weight: plainWeight(new Float32Array(12), [3, 4]), bias: null }, inputs: ['h'], outputs: ['z'] },
      { name: 'sm', op: { type: 'Softmax', axis: -1 }, inputs: ['z'], outputs: ['y'] },
    ],
    metadata: {},
  };
  const d = describeModel(model, encode(model));
  assert.deepEqual(d.parameters, { virtual: 28, real: 28, batchNorm: 16, storedBytes: 28 * 4 }); // all float32
  assert.equal(d.lastOp, 'Softmax');
  assert.equal(classifiesDigits(d), false);
});

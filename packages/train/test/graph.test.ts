import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { decode, encode, runReference, validateModel, type Model } from '@hnet/format';
import { selectBackend } from '../src/backend.js';
import { TrainableGraph } from '../src/graph.js';
import { Rng } from '../src/rng.js';
import { randomArray, weight } from './helpers.js';

before(async () => {
  await selectBackend('cpu', null);
});

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])), `${label}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

/** Runs a model through TrainableGraph and runReference(decode(encode(model))) and compares. */
function compareWithReference(model: Model, batch: number, seed: number): void {
  validateModel(model);
  const rng = new Rng(seed);
  const inShape = [batch, ...model.inputs[0].shape.slice(1)];
  const data = randomArray(inShape.reduce((a, b) => a * b, 1), rng, 2);
  const graph = new TrainableGraph(model, { trainable: false });
  const ours = tf.tidy(() => graph.forward(tf.tensor(data, inShape)));
  const reference = runReference(decode(encode(model)), { [model.inputs[0].name]: { shape: inShape, data } })[model.outputs[0].name];
  assert.deepEqual(ours.shape, reference.shape);
  assertClose(ours.dataSync(), reference.data, 1e-4, model.outputs[0].name);
  ours.dispose();
  graph.dispose();
}

const pair = (a: number, b: number): [number, number] => [a, b];
const pads = (t: number, l: number, b: number, r: number): [number, number, number, number] => [t, l, b, r];

for (const backend of ['cpu', 'wasm'] as const) test(`a convnet with every image op matches runReference (${backend} backend)`, async () => {
  await selectBackend(backend, null);
  const rng = new Rng(11);
  const bn = (c: number) => ({
    type: 'BatchNorm' as const,
    scale: randomArray(c, rng), bias: randomArray(c, rng), mean: randomArray(c, rng),
    variance: Float32Array.from(randomArray(c, rng), (v) => Math.abs(v) + 0.5), epsilon: 1e-5,
  });
  const model: Model = {
    inputs: [{ name: 'x', shape: [-1, 3, 11, 10] }],
    outputs: [{ name: 'y', shape: [-1, 5] }],
    nodes: [
      { name: 'c1', op: { type: 'Conv2D', weight: weight([8, 3, 3, 3], rng, 40), bias: weight([8], rng, 5), strides: pair(2, 1), pads: pads(1, 1, 0, 2), dilations: pair(1, 1), group: 1 }, inputs: ['x'], outputs: ['c1'] },
      { name: 'bn', op: bn(8), inputs: ['c1'], outputs: ['b1'] },
      { name: 'lrelu', op: { type: 'LeakyRelu', alpha: 0.1 }, inputs: ['b1'], outputs: ['a1'] },
      { name: 'c2', op: { type: 'Conv2D', weight: weight([8, 4, 3, 2], rng, 20), bias: null, strides: pair(1, 1), pads: pads(2, 1, 2, 0), dilations: pair(2, 1), group: 2 }, inputs: ['a1'], outputs: ['c2'] },
      { name: 'add', op: { type: 'Add' }, inputs: ['a1', 'c2'], outputs: ['r'] },
      { name: 'mp', op: { type: 'MaxPool', kernel: pair(2, 3), strides: pair(2, 2), pads: pads(0, 1, 1, 0), dilations: pair(1, 1), ceilMode: true }, inputs: ['r'], outputs: ['p1'] },
      { name: 'sig', op: { type: 'Sigmoid' }, inputs: ['p1'], outputs: ['s1'] },
      { name: 'ap', op: { type: 'AveragePool', kernel: pair(2, 2), strides: pair(1, 1), pads: pads(1, 0, 0, 1), ceilMode: false, countIncludePad: false }, inputs: ['s1'], outputs: ['p2'] },
      { name: 'ap2', op: { type: 'AveragePool', kernel: pair(3, 2), strides: pair(2, 1), pads: pads(1, 1, 1, 1), ceilMode: true, countIncludePad: true }, inputs: ['p2'], outputs: ['p3'] },
      { name: 'tanh', op: { type: 'Tanh' }, inputs: ['p3'], outputs: ['t'] },
      { name: 'gap', op: { type: 'GlobalAveragePool' }, inputs: ['t'], outputs: ['g'] },
      { name: 'flat', op: { type: 'Flatten', axis: 1 }, inputs: ['g'], outputs: ['f'] },
      { name: 'fc', op: { type: 'Dense', weight: weight([5, 8], rng, 7), bias: weight([5], rng) }, inputs: ['f'], outputs: ['z'] },
      { name: 'ls', op: { type: 'LogSoftmax', axis: 1 }, inputs: ['z'], outputs: ['y'] },
    ],
    metadata: {},
  };
  compareWithReference(model, 3, 12);
  await selectBackend('cpu', null);
});

test('dense ops, Reshape (0 and -1) and Softmax on a non-last axis match runReference', () => {
  const rng = new Rng(13);
  const model: Model = {
    inputs: [{ name: 'x', shape: [-1, 2, 3, 4] }],
    outputs: [{ name: 'y', shape: [-1, 3, 2] }],
    nodes: [
      { name: 'r1', op: { type: 'Reshape', shape: [0, -1] }, inputs: ['x'], outputs: ['r1'] },
      { name: 'fc', op: { type: 'Dense', weight: weight([6, 24], rng, 30), bias: null }, inputs: ['r1'], outputs: ['h'] },
      { name: 'relu', op: { type: 'Relu' }, inputs: ['h'], outputs: ['a'] },
      { name: 'r2', op: { type: 'Reshape', shape: [-1, 3, 2] }, inputs: ['a'], outputs: ['r2'] },
      { name: 'sm', op: { type: 'Softmax', axis: 1 }, inputs: ['r2'], outputs: ['y'] },
    ],
    metadata: {},
  };
  compareWithReference(model, 4, 14);
});

test('a final Softmax is stripped for the logits but kept in the output', () => {
  const rng = new Rng(15);
  const model: Model = {
    inputs: [{ name: 'x', shape: [-1, 4] }],
    outputs: [{ name: 'y', shape: [-1, 3] }],
    nodes: [
      { name: 'fc', op: { type: 'Dense', weight: weight([3, 4], rng, 5), bias: null }, inputs: ['x'], outputs: ['z'] },
      { name: 'sm', op: { type: 'Softmax', axis: -1 }, inputs: ['z'], outputs: ['y'] },
    ],
    metadata: {},
  };
  const graph = new TrainableGraph(model);
  assert.equal(graph.logitsName, 'z');
  const x = tf.tensor(randomArray(8, rng), [2, 4]);
  const logits = graph.forward(x, { logits: true });
  const probs = graph.forward(x);
  assertClose(tf.softmax(logits).dataSync(), probs.dataSync(), 1e-6, 'softmax(logits)');
  assert.equal(graph.toModel().nodes.at(-1)!.op.type, 'Softmax');
  graph.dispose();
});

// Models for tests: a seeded generator of random valid models that use every op.

import type { DType, HashSpec, Model, Weight } from '../src/index.js';
import { hashedWeight, plainWeight } from '../src/index.js';
import { randomArray, rng } from '../src/testing.js';
export { randomArray, rng };

const DTYPES: DType[] = ['float32', 'float16', 'int8'];

/** A weight that is hashed (K about a third of the virtual size) or plain, in some dtype. */
function randomWeight(random: () => number, shape: number[], dtype: DType, hashed: boolean): Weight {
  const n = shape.reduce((a, b) => a * b, 1);
  const dense = randomArray(random, n, 0.5);
  if (!hashed) return plainWeight(dense, shape, dtype);
  const hash: HashSpec = {
    algorithm: 'xxh32',
    bucketSeed: Math.floor(random() * 2 ** 32),
    signSeed: random() < 0.8 ? Math.floor(random() * 2 ** 32) : null,
  };
  return hashedWeight(dense, shape, hash, Math.max(1, Math.ceil(n / 3)), dtype);
}

/**
 * A random model using all 15 ops: a small CNN with a residual Add, then an MLP head.
 * Input [N, 2, 6, 6] → output [N, 3].
 */
export function randomModel(seed: number): Model {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const w = (shape: number[]): Weight => randomWeight(random, shape, pick(DTYPES), random() < 0.7);
  const channels = 4;
  const nodes: Model['nodes'] = [
    { name: 'conv1', op: { type: 'Conv2D', weight: w([channels, 2, 3, 3]), bias: random() < 0.5 ? w([channels]) : null, strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1 }, inputs: ['x'], outputs: ['c1'] },
    { name: 'bn', op: { type: 'BatchNorm', scale: randomArray(random, channels), bias: randomArray(random, channels), mean: randomArray(random, channels), variance: Float32Array.from({ length: channels }, () => 0.5 + random()), epsilon: Math.fround(1e-5) }, inputs: ['c1'], outputs: ['b1'] },
    { name: 'leaky', op: { type: 'LeakyRelu', alpha: Math.fround(0.1) }, inputs: ['b1'], outputs: ['l1'] },
    { name: 'dw', op: { type: 'Conv2D', weight: w([channels, 1, 3, 3]), bias: w([channels]), strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: channels }, inputs: ['l1'], outputs: ['d1'] },
    { name: 'residual', op: { type: 'Add' }, inputs: ['d1', 'l1'], outputs: ['r1'] },
    { name: 'pool', op: { type: 'MaxPool', kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], ceilMode: random() < 0.5 }, inputs: ['r1'], outputs: ['p1'] },
    { name: 'relu', op: { type: 'Relu' }, inputs: ['p1'], outputs: ['a1'] },
    { name: 'avg', op: { type: 'AveragePool', kernel: [2, 2], strides: [1, 1], pads: [1, 1, 0, 0], ceilMode: false, countIncludePad: random() < 0.5 }, inputs: ['a1'], outputs: ['p2'] },
    { name: 'sigmoid', op: { type: 'Sigmoid' }, inputs: ['p2'], outputs: ['s1'] },
    { name: 'gap', op: { type: 'GlobalAveragePool' }, inputs: ['s1'], outputs: ['g1'] },
    { name: 'flatten', op: { type: 'Flatten', axis: 1 }, inputs: ['g1'], outputs: ['f1'] },
    { name: 'fc1', op: { type: 'Dense', weight: w([6, channels]), bias: w([6]) }, inputs: ['f1'], outputs: ['h1'] },
    { name: 'tanh', op: { type: 'Tanh' }, inputs: ['h1'], outputs: ['t1'] },
    { name: 'reshape', op: { type: 'Reshape', shape: [-1, 6] }, inputs: ['t1'], outputs: ['t2'] },
    { name: 'fc2', op: { type: 'Dense', weight: w([3, 6]), bias: null }, inputs: ['t2'], outputs: ['logits'] },
    { name: 'softmax', op: { type: random() < 0.5 ? 'Softmax' : 'LogSoftmax', axis: -1 }, inputs: ['logits'], outputs: ['y'] },
  ];
  return {
    inputs: [{ name: 'x', shape: [-1, 2, 6, 6] }],
    outputs: [{ name: 'y', shape: [-1, 3] }],
    nodes,
    metadata: { producer: 'hnet test', seed: String(seed) },
  };
}

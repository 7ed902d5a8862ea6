// Small random models that together use every op of the format, for the
// engine tests: hashed and plain weights, signed and unsigned hashes, one
// storage dtype for all buckets.
import { hashedWeight, plainWeight, type DType, type Model, type Weight } from '@hnet/format';
import { randomArray } from '@hnet/format/testing';

type Random = () => number;
const seed = (random: Random) => Math.floor(random() * 2 ** 32);

function hashed(random: Random, shape: number[], K: number, dtype: DType, signed: boolean, scale = 0.6): Weight {
  const dense = randomArray(random, shape.reduce((a, b) => a * b, 1), scale);
  return hashedWeight(dense, shape, { algorithm: 'xxh32', bucketSeed: seed(random), signSeed: signed ? seed(random) : null }, K, dtype);
}

function plain(random: Random, shape: number[], dtype: DType, scale = 0.6): Weight {
  return plainWeight(randomArray(random, shape.reduce((a, b) => a * b, 1), scale), shape, dtype);
}

function batchNorm(random: Random, c: number) {
  const pick = (lo: number, hi: number) => Float32Array.from({ length: c }, () => lo + (hi - lo) * random());
  return { type: 'BatchNorm' as const, scale: pick(0.5, 1.5), bias: pick(-0.2, 0.2), mean: pick(-0.3, 0.3), variance: pick(0.5, 2), epsilon: 1e-5 };
}

/**
 * (smooth: Sigmoid in place of Relu and LeakyRelu, for finite differences)
 * x [N, 10] → Dense(hashed) → BatchNorm → Tanh ─┐
 *            → Dense(plain, hashed bias) → Sigmoid → Add → LeakyRelu → Softmax(axis 1)
 *            → Dense(hashed, unsigned) → Relu → LogSoftmax → Dense → Softmax (stripped: logits before it)
 */
export function denseZoo(random: Random, dtype: DType, signed: boolean, smooth = false): Model {
  const kinked = (op: Model['nodes'][0]['op']) => (smooth ? { type: 'Sigmoid' as const } : op);
  return {
    inputs: [{ name: 'x', shape: [-1, 10] }],
    outputs: [{ name: 'y', shape: [-1, 5] }],
    nodes: [
      { name: 'fc1', op: { type: 'Dense', weight: hashed(random, [16, 10], 40, dtype, signed), bias: plain(random, [16], dtype, 0.1) }, inputs: ['x'], outputs: ['h1'] },
      { name: 'bn', op: batchNorm(random, 16), inputs: ['h1'], outputs: ['b1'] },
      { name: 'tanh', op: { type: 'Tanh' }, inputs: ['b1'], outputs: ['t1'] },
      { name: 'fc2', op: { type: 'Dense', weight: plain(random, [16, 16], dtype), bias: hashed(random, [16], 7, dtype, signed, 0.1) }, inputs: ['t1'], outputs: ['h2'] },
      { name: 'sigmoid', op: { type: 'Sigmoid' }, inputs: ['h2'], outputs: ['s2'] },
      { name: 'add', op: { type: 'Add' }, inputs: ['t1', 's2'], outputs: ['a'] },
      { name: 'leaky', op: kinked({ type: 'LeakyRelu', alpha: 0.1 }), inputs: ['a'], outputs: ['l'] },
      { name: 'softmax', op: { type: 'Softmax', axis: 1 }, inputs: ['l'], outputs: ['sm'] },
      { name: 'fc3', op: { type: 'Dense', weight: hashed(random, [12, 16], 30, dtype, false, 3), bias: null }, inputs: ['sm'], outputs: ['h3'] },
      { name: 'relu', op: kinked({ type: 'Relu' }), inputs: ['h3'], outputs: ['r3'] },
      { name: 'logsoftmax', op: { type: 'LogSoftmax', axis: -1 }, inputs: ['r3'], outputs: ['ls'] },
      { name: 'fc4', op: { type: 'Dense', weight: plain(random, [5, 12], dtype), bias: plain(random, [5], dtype, 0.1) }, inputs: ['ls'], outputs: ['logits'] },
      { name: 'out', op: { type: 'Softmax', axis: -1 }, inputs: ['logits'], outputs: ['y'] },
    ],
    metadata: {},
  };
}

/**
 * (smooth: Sigmoid in place of Relu)
 * x [N, 72] → Reshape [N, 2, 6, 6] → Conv2D(hashed, pads 2, dilation 2) → BatchNorm → Relu
 *   → MaxPool(2, stride 2, pads, ceil) = p [N, 4, 3, 3]
 *   p → Conv2D(plain, group 2, stride 2, pads) → Tanh → AveragePool(excluding pads) ─┐
 *   p → AveragePool(stride 2, ceil, including pads) ───────────────────────────────── Add
 *   → Add(·, GlobalAveragePool(·) broadcast) → Add(·, MaxPool(3, stride 3: tiling, of the Relu))
 *   → GlobalAveragePool → Flatten → Dense(hashed)
 */
export function convZoo(random: Random, dtype: DType, signed: boolean, smooth = false): Model {
  return {
    inputs: [{ name: 'x', shape: [-1, 72] }],
    outputs: [{ name: 'logits', shape: [-1, 3] }],
    nodes: [
      { name: 'reshape', op: { type: 'Reshape', shape: [-1, 2, 6, 6] }, inputs: ['x'], outputs: ['x4'] },
      {
        name: 'conv1',
        op: { type: 'Conv2D', weight: hashed(random, [4, 2, 3, 3], 30, dtype, signed), bias: plain(random, [4], dtype, 0.1), strides: [1, 1], pads: [2, 2, 2, 2], dilations: [2, 2], group: 1 },
        inputs: ['x4'], outputs: ['c1'],
      },
      { name: 'bn', op: batchNorm(random, 4), inputs: ['c1'], outputs: ['b1'] },
      { name: 'relu', op: smooth ? { type: 'Sigmoid' } : { type: 'Relu' }, inputs: ['b1'], outputs: ['r1'] },
      { name: 'maxpool', op: { type: 'MaxPool', kernel: [2, 2], strides: [2, 2], pads: [0, 0, 1, 1], dilations: [1, 1], ceilMode: true }, inputs: ['r1'], outputs: ['p'] },
      {
        name: 'conv2',
        op: { type: 'Conv2D', weight: plain(random, [4, 2, 2, 2], dtype), bias: hashed(random, [4], 3, dtype, !signed, 0.1), strides: [2, 2], pads: [1, 1, 0, 0], dilations: [1, 1], group: 2 },
        inputs: ['p'], outputs: ['c2'],
      },
      { name: 'tanh', op: { type: 'Tanh' }, inputs: ['c2'], outputs: ['t'] },
      { name: 'avg2', op: { type: 'AveragePool', kernel: [2, 2], strides: [1, 1], pads: [1, 1, 0, 0], ceilMode: false, countIncludePad: false }, inputs: ['t'], outputs: ['a2'] },
      { name: 'avg1', op: { type: 'AveragePool', kernel: [2, 2], strides: [2, 2], pads: [1, 1, 0, 0], ceilMode: true, countIncludePad: true }, inputs: ['p'], outputs: ['a1'] },
      { name: 'add', op: { type: 'Add' }, inputs: ['a1', 'a2'], outputs: ['s'] },
      { name: 'gap1', op: { type: 'GlobalAveragePool' }, inputs: ['a1'], outputs: ['g1'] },
      { name: 'add2', op: { type: 'Add' }, inputs: ['s', 'g1'], outputs: ['s2'] },
      { name: 'tiled', op: { type: 'MaxPool', kernel: [3, 3], strides: [3, 3], pads: [0, 0, 0, 0], dilations: [1, 1], ceilMode: false }, inputs: ['r1'], outputs: ['p3'] },
      { name: 'add3', op: { type: 'Add' }, inputs: ['s2', 'p3'], outputs: ['s3'] },
      { name: 'gap', op: { type: 'GlobalAveragePool' }, inputs: ['s3'], outputs: ['g'] },
      { name: 'flatten', op: { type: 'Flatten', axis: 1 }, inputs: ['g'], outputs: ['f'] },
      { name: 'fc', op: { type: 'Dense', weight: hashed(random, [3, 4], 6, dtype, signed, 2), bias: plain(random, [3], dtype, 0.1) }, inputs: ['f'], outputs: ['logits'] },
    ],
    metadata: {},
  };
}

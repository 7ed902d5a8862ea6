// The benchmark models, built in code with @hnet/format so that the bench
// needs no fixtures: 784-1000-10 hashed at 1/8 and 1/64, and a LeNet-style
// CNN hashed at 1/8, each with per-element xxh32 and with xxh32-block
// (bench/train/block-accuracy.ts trains the same builders). Weights are
// random (speed does not depend on them).

import type { HashSpec, Model, Weight } from '@hnet/format';
import { hashedWeight, plainWeight } from '@hnet/format';
import { rng } from '@hnet/format/testing';

/** Per-element xxh32 (block null) or xxh32-block with `block` columns per hash. */
export function benchHash(seed: number, block: number | null): HashSpec {
  const seeds = { bucketSeed: seed * 2 + 1, signSeed: seed * 2 + 2 };
  return block === null ? { algorithm: 'xxh32', ...seeds } : { algorithm: 'xxh32-block', ...seeds, block };
}

/** A weight of `shape` hashed into size/compression buckets (plain when compression is 1). */
function weight(random: () => number, shape: number[], compression: number, seed: number, block: number | null = null): Weight {
  const n = shape.reduce((a, b) => a * b, 1);
  const scale = 1 / Math.sqrt(n / shape[0]);
  const dense = Float32Array.from({ length: n }, () => (random() * 2 - 1) * scale);
  if (compression <= 1) return plainWeight(dense, shape);
  return hashedWeight(dense, shape, benchHash(seed, block), Math.max(1, Math.round(n / compression)), 'float32');
}

export function mlp(compression: number, block: number | null = null): Model {
  const random = rng(compression);
  return {
    inputs: [{ name: 'x', shape: [-1, 784] }],
    outputs: [{ name: 'y', shape: [-1, 10] }],
    nodes: [
      { name: 'fc1', op: { type: 'Dense', weight: weight(random, [1000, 784], compression, 1, block), bias: weight(random, [1000], 1, 0) }, inputs: ['x'], outputs: ['h'] },
      { name: 'relu', op: { type: 'Relu' }, inputs: ['h'], outputs: ['a'] },
      { name: 'fc2', op: { type: 'Dense', weight: weight(random, [10, 1000], compression, 2, block), bias: weight(random, [10], 1, 0) }, inputs: ['a'], outputs: ['y'] },
    ],
    metadata: { bench: `784-1000-10 at 1/${compression}${block === null ? '' : `, block ${block}`}` },
  };
}

/** LeNet-5 style: conv 6@5x5, pool, conv 16@5x5, pool, 256-120-84-10, input [N, 1, 28, 28]. */
export function lenet(compression: number, block: number | null = null): Model {
  const random = rng(100 + compression);
  const conv = (m: number, c: number, seed: number) => ({
    type: 'Conv2D' as const, weight: weight(random, [m, c, 5, 5], compression, seed, block), bias: weight(random, [m], 1, 0),
    strides: [1, 1] as [number, number], pads: [0, 0, 0, 0] as [number, number, number, number], dilations: [1, 1] as [number, number], group: 1,
  });
  const pool = { type: 'MaxPool' as const, kernel: [2, 2] as [number, number], strides: [2, 2] as [number, number], pads: [0, 0, 0, 0] as [number, number, number, number], dilations: [1, 1] as [number, number], ceilMode: false };
  const dense = (o: number, i: number, seed: number) => ({ type: 'Dense' as const, weight: weight(random, [o, i], compression, seed, block), bias: weight(random, [o], 1, 0) });
  return {
    inputs: [{ name: 'x', shape: [-1, 1, 28, 28] }],
    outputs: [{ name: 'y', shape: [-1, 10] }],
    nodes: [
      { name: 'conv1', op: conv(6, 1, 1), inputs: ['x'], outputs: ['c1'] },
      { name: 'relu1', op: { type: 'Relu' }, inputs: ['c1'], outputs: ['r1'] },
      { name: 'pool1', op: pool, inputs: ['r1'], outputs: ['p1'] },
      { name: 'conv2', op: conv(16, 6, 2), inputs: ['p1'], outputs: ['c2'] },
      { name: 'relu2', op: { type: 'Relu' }, inputs: ['c2'], outputs: ['r2'] },
      { name: 'pool2', op: pool, inputs: ['r2'], outputs: ['p2'] },
      { name: 'flatten', op: { type: 'Flatten', axis: 1 }, inputs: ['p2'], outputs: ['f'] },
      { name: 'fc1', op: dense(120, 256, 3), inputs: ['f'], outputs: ['h1'] },
      { name: 'relu3', op: { type: 'Relu' }, inputs: ['h1'], outputs: ['a1'] },
      { name: 'fc2', op: dense(84, 120, 4), inputs: ['a1'], outputs: ['h2'] },
      { name: 'relu4', op: { type: 'Relu' }, inputs: ['h2'], outputs: ['a2'] },
      { name: 'fc3', op: dense(10, 84, 5), inputs: ['a2'], outputs: ['y'] },
    ],
    metadata: { bench: `LeNet-5 at 1/${compression}${block === null ? '' : `, block ${block}`}` },
  };
}

export const MODELS: Record<string, () => Model> = {
  'mlp-1/8': () => mlp(8),
  'mlp-1/64': () => mlp(64),
  'lenet-1/8': () => lenet(8),
  // xxh32-block at the default Z = 32, and at Z = 16 for comparison (docs/RESULTS.md, "Block hashing")
  'mlp-1/8-block16': () => mlp(8, 16),
  'mlp-1/8-block32': () => mlp(8, 32),
  'mlp-1/64-block32': () => mlp(64, 32),
  'lenet-1/8-block32': () => lenet(8, 32),
};

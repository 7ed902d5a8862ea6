import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { expandWeight, valuesToFloat32, hashedWeight } from '@hnet/format';
import { selectBackend } from '../src/backend.js';
import {
  expandBuckets,
  fromTfLayout,
  hashLayout,
  hashedVirtual,
  hashedVirtualByGather,
  scatterAddBuckets,
  scatterAddReference,
  toTfLayout,
} from '../src/hashed.js';
import { TrainableGraph } from '../src/graph.js';
import { Rng } from '../src/rng.js';
import { blockSpec, randomArray, spec, weight } from './helpers.js';

before(async () => {
  await selectBackend('cpu', null);
});

const SHAPES: number[][] = [[7, 13], [4, 3, 3, 3], [5], [1, 1], [3, 70]];

// Per-element xxh32, xxh32-block with a Z that leaves partial blocks (3) and one wider than some rows (8),
// and xxh32-aligned-block (format 1.2) at Z = 4, 8 and 64 (K not a multiple of 4 in most shapes; [3, 70]
// has a 64-column block, two halves with a pattern each, and a partial one).
const SPECS = [
  (signed: boolean) => spec(signed), (signed: boolean) => blockSpec(3, signed), (signed: boolean) => blockSpec(8, signed),
  (signed: boolean) => blockSpec(4, signed, 'xxh32-aligned-block'), (signed: boolean) => blockSpec(8, signed, 'xxh32-aligned-block'),
  (signed: boolean) => blockSpec(64, signed, 'xxh32-aligned-block'),
];

test('virtual weights are bit-exact with expandWeight (Dense, Conv2D, bias shapes, signed and unsigned, every hash)', () => {
  const rng = new Rng(1);
  for (const shape of SHAPES) {
    for (const [signed, makeSpec] of [true, false].flatMap((signed) => SPECS.map((m) => [signed, m] as const))) {
      const n = shape.reduce((a, b) => a * b, 1);
      const K = Math.max(1, Math.floor(n / 3));
      const w = hashedWeight(randomArray(n, rng), shape, makeSpec(signed), K);
      const layout = hashLayout(shape, w.hash!, K);
      const buckets = valuesToFloat32(w.values);
      const viaTf = hashedVirtual(tf.tensor1d(buckets), layout);
      assert.deepEqual(viaTf.shape, layout.tfShape);
      const rowMajor = fromTfLayout(viaTf.dataSync() as Float32Array, shape);
      assert.deepEqual(rowMajor, expandWeight(w), `shape [${shape}] signed=${signed} ${w.hash!.algorithm}`);
      assert.deepEqual(fromTfLayout(expandBuckets(buckets, layout), shape), expandWeight(w));
    }
  }
});

test('tf layout is the transposed key grid and round-trips', () => {
  const v = Float32Array.from({ length: 6 }, (_, i) => i); // [2, 3]
  assert.deepEqual(Array.from(toTfLayout(v, [2, 3])), [0, 3, 1, 4, 2, 5]);
  assert.deepEqual(fromTfLayout(toTfLayout(v, [2, 3]), [2, 3]), v);
  const c = Float32Array.from({ length: 24 }, (_, i) => i);
  assert.deepEqual(fromTfLayout(toTfLayout(c, [2, 3, 2, 2]), [2, 3, 2, 2]), c);
});

test('fast scatter-add equals the naive reference from the hash spec (every hash)', () => {
  const rng = new Rng(2);
  for (const [shape, makeSpec] of SHAPES.flatMap((shape) => SPECS.map((m) => [shape, m] as const))) {
    const n = shape.reduce((a, b) => a * b, 1);
    const K = Math.max(1, Math.floor(n / 4));
    const hash = makeSpec(true);
    const layout = hashLayout(shape, hash, K);
    const dV = randomArray(n, rng);
    const fast = scatterAddBuckets(toTfLayout(dV, shape), layout);
    const naive = scatterAddReference(dV, shape, hash, K);
    for (let k = 0; k < K; k++) assert.ok(Math.abs(fast[k] - naive[k]) < 1e-5, `bucket ${k}: ${fast[k]} vs ${naive[k]}`);
  }
});

for (const makeSpec of SPECS) test(`scatter-add gradient equals tf's own gather gradient (CPU backend), ${makeSpec(true).algorithm}`, () => {
  const rng = new Rng(3);
  const shape = [6, 10];
  const K = 11;
  const w = hashedWeight(randomArray(60, rng), shape, makeSpec(true), K);
  const layout = hashLayout(shape, w.hash!, K);
  const R = tf.tensor(randomArray(60, rng), layout.tfShape);
  const buckets = tf.tensor1d(valuesToFloat32(w.values));
  const loss = (f: typeof hashedVirtual) => (b: tf.Tensor) => tf.sum(tf.mul(tf.tanh(f(b as tf.Tensor1D, layout)), R));
  const ours = tf.grad(loss(hashedVirtual))(buckets).dataSync();
  const theirs = tf.grad(loss(hashedVirtualByGather))(buckets).dataSync();
  for (let k = 0; k < K; k++) assert.ok(Math.abs(ours[k] - theirs[k]) < 1e-5, `bucket ${k}: ${ours[k]} vs ${theirs[k]}`);
});

/** Central finite differences of a scalar function of one variable's values, at a few coordinates. */
function checkGradient(graph: TrainableGraph, x: tf.Tensor, label: string): void {
  const R = tf.tidy(() => graph.forward(x)).shape;
  const probe = tf.tensor(randomArray(R.reduce((a, b) => a * b, 1), new Rng(9)), R);
  const lossOf = () => tf.sum(tf.mul(tf.tanh(graph.forward(x)), probe)) as tf.Scalar;
  const { grads } = tf.variableGrads(lossOf, graph.variables);
  const eps = 1e-2;
  for (const p of graph.params) {
    const analytic = grads[p.variable.name].dataSync();
    const values = Float32Array.from(p.variable.dataSync() as Float32Array);
    const n = values.length;
    for (const k of [0, Math.floor(n / 2), n - 1]) {
      const at = (delta: number) => {
        const v = Float32Array.from(values);
        v[k] += delta;
        p.variable.assign(tf.tensor(v, p.variable.shape));
        return tf.tidy(() => lossOf().dataSync()[0]);
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      p.variable.assign(tf.tensor(values, p.variable.shape));
      const err = Math.abs(numeric - analytic[k]);
      assert.ok(err < 2e-2 * Math.max(1, Math.abs(numeric)), `${label} ${p.field}[${k}] (${p.hashed ? 'buckets' : 'plain'}): analytic ${analytic[k]} vs numeric ${numeric}`);
    }
  }
}

test('hashed Dense gradient matches finite differences', () => {
  const rng = new Rng(4);
  const model = {
    inputs: [{ name: 'x', shape: [-1, 9] }],
    outputs: [{ name: 'y', shape: [-1, 5] }],
    nodes: [{ name: 'fc', op: { type: 'Dense' as const, weight: weight([5, 9], rng, 12), bias: weight([5], rng, 3) }, inputs: ['x'], outputs: ['y'] }],
    metadata: {},
  };
  const graph = new TrainableGraph(model);
  checkGradient(graph, tf.tensor(randomArray(4 * 9, rng), [4, 9]), 'Dense');
  graph.dispose();
});

test('hashed Conv2D gradient matches finite differences (stride, pads, dilation, groups)', () => {
  const rng = new Rng(5);
  const model = {
    inputs: [{ name: 'x', shape: [-1, 4, 7, 6] }],
    outputs: [{ name: 'y', shape: [-1, 4, 4, 2] }],
    nodes: [
      { name: 'conv', op: { type: 'Conv2D' as const, weight: weight([6, 2, 3, 2], rng, 17), bias: weight([6], rng), strides: [2, 1] as [number, number], pads: [1, 0, 1, 1] as [number, number, number, number], dilations: [1, 2] as [number, number], group: 2 }, inputs: ['x'], outputs: ['c'] },
      { name: 'conv2', op: { type: 'Conv2D' as const, weight: weight([4, 6, 1, 3], rng), bias: null, strides: [1, 2] as [number, number], pads: [0, 0, 0, 0] as [number, number, number, number], dilations: [1, 1] as [number, number], group: 1 }, inputs: ['c'], outputs: ['y'] },
    ],
    metadata: {},
  };
  const graph = new TrainableGraph(model);
  checkGradient(graph, tf.tensor(randomArray(2 * 4 * 7 * 6, rng), [2, 4, 7, 6]), 'Conv2D');
  graph.dispose();
});

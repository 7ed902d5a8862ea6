// Small models and data for the trainer tests.
import { expandWeight, hashedWeight, plainWeight, weightsOf, type HashSpec, type Model, type Weight } from '@hnet/format';
import type { Dataset } from '../src/data.js';
import { Rng } from '../src/rng.js';

export function randomArray(n: number, rng: Rng, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (2 * rng.next() - 1) * scale);
}

let seedCounter = 1;
export function spec(signed = true): HashSpec {
  return { algorithm: 'xxh32', bucketSeed: 1000 + seedCounter++, signSeed: signed ? 2000 + seedCounter++ : null };
}

type BlockAlgorithm = 'xxh32-block' | 'xxh32-aligned-block';

/** A block-hash spec (xxh32-block unless asked) with Z = block columns per hash. */
export function blockSpec(block: number, signed = true, algorithm: BlockAlgorithm = 'xxh32-block'): HashSpec {
  return { ...spec(signed), algorithm, block };
}

/** The same model with every hashed weight re-hashed by a block hash at Z = block (same seeds and K, buckets refitted). */
export function withBlockHashing(model: Model, block: number, algorithm: BlockAlgorithm = 'xxh32-block'): Model {
  const rehash = (w: Weight | null): Weight | null =>
    w && w.hash ? hashedWeight(expandWeight(w), w.shape, { ...w.hash, algorithm, block }, w.values.data.length, w.values.dtype) : w;
  return {
    ...model,
    nodes: model.nodes.map((node) => {
      const weights = weightsOf(node.op);
      if (!weights) return node;
      return { ...node, op: { ...node.op, weight: rehash(weights.weight), bias: rehash(weights.bias) } as Model['nodes'][0]['op'] };
    }),
  };
}

/** A weight of the given shape: hashed to K buckets when K is given, else plain; random values. */
export function weight(shape: number[], rng: Rng, K?: number, scale = 0.5): Weight {
  const n = shape.reduce((a, b) => a * b, 1);
  const dense = randomArray(n, rng, scale);
  return K === undefined ? plainWeight(dense, shape) : hashedWeight(dense, shape, spec(), K);
}

/** in-hidden-classes MLP; ratio < 1 hashes both weight matrices (and the first bias); optional final Softmax. */
export function mlp(inputs: number, hidden: number, classes: number, ratio: number, rng: Rng, softmax = false): Model {
  const k = (n: number) => (ratio < 1 ? Math.max(1, Math.round(n * ratio)) : undefined);
  const nodes: Model['nodes'] = [
    { name: 'fc1', op: { type: 'Dense', weight: weight([hidden, inputs], rng, k(hidden * inputs)), bias: weight([hidden], rng, k(hidden), 0.1) }, inputs: ['x'], outputs: ['h'] },
    { name: 'relu', op: { type: 'Relu' }, inputs: ['h'], outputs: ['a'] },
    { name: 'fc2', op: { type: 'Dense', weight: weight([classes, hidden], rng, k(classes * hidden)), bias: weight([classes], rng, undefined, 0.1) }, inputs: ['a'], outputs: [softmax ? 'logits' : 'y'] },
  ];
  if (softmax) nodes.push({ name: 'softmax', op: { type: 'Softmax', axis: -1 }, inputs: ['logits'], outputs: ['y'] });
  return { inputs: [{ name: 'x', shape: [-1, inputs] }], outputs: [{ name: 'y', shape: [-1, classes] }], nodes, metadata: {} };
}

/** Gaussian blobs: `classes` well-separated centres in `dims` dimensions. */
export function blobs(count: number, dims: number, classes: number, seed: number, spread = 0.6): Dataset {
  const rng = new Rng(seed);
  const centres = Array.from({ length: classes }, (_, c) => Float32Array.from({ length: dims }, (_, d) => ((c * 7 + d * 3) % 5) - 2 + (d % classes === c ? 3 : 0)));
  const x = new Float32Array(count * dims);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % classes;
    y[i] = c;
    for (let d = 0; d < dims; d++) {
      // Box–Muller normal noise
      const u = Math.max(rng.next(), 1e-9);
      const v = rng.next();
      x[i * dims + d] = centres[c][d] + spread * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
  }
  return { x, y, shape: [dims], count };
}

/** max |a − b| over max |b| (b: the oracle). */
export function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

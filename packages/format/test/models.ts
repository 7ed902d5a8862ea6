// Models for tests: a seeded generator of random valid models that use every op.

import assert from 'node:assert/strict';
import type { DType, HashSpec, Model, Op, Weight } from '../src/index.js';
import { hashedWeight, inferOpShape, plainWeight, runReference } from '../src/index.js';
import { randomArray, rng } from '../src/testing.js';
export { randomArray, rng };

export const DTYPES: DType[] = ['float32', 'float16', 'int8', 'int4'];

/** A weight that is hashed (K about a third of the virtual size) or plain, in some dtype. */
function randomWeight(random: () => number, shape: number[], dtype: DType, hashed: boolean): Weight {
  const n = shape.reduce((a, b) => a * b, 1);
  const dense = randomArray(random, n, 0.5);
  if (!hashed) return plainWeight(dense, shape, dtype);
  const bucketSeed = Math.floor(random() * 2 ** 32);
  const signSeed = random() < 0.8 ? Math.floor(random() * 2 ** 32) : null;
  const algorithm = random();
  const hash: HashSpec = algorithm < 0.4
    ? { algorithm: 'xxh32', bucketSeed, signSeed }
    : algorithm < 0.7
      ? { algorithm: 'xxh32-block', bucketSeed, signSeed, block: 1 + Math.floor(random() * 32) }
      : { algorithm: 'xxh32-aligned-block', bucketSeed, signSeed, block: 4 * (1 + Math.floor(random() * 16)) };
  return hashedWeight(dense, shape, hash, Math.max(1, Math.ceil(n / 3)), dtype);
}

/**
 * A random model using every op: a small CNN with a residual Add, then an MLP head
 * (output y [N, 3]); and from the CNN's features a branch through every op of
 * format 1.1 (output z [N, 1]). Input [N, 2, 6, 6].
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
    ...branch11(random, w),
  ];
  return {
    inputs: [{ name: 'x', shape: [-1, 2, 6, 6] }],
    outputs: [{ name: 'y', shape: [-1, 3] }, { name: 'z', shape: [-1, 1] }],
    nodes,
    metadata: { producer: 'hnet test', seed: String(seed) },
  };
}

const f32 = Math.fround;

/** The 1.1 ops, from l1 [N, 4, 6, 6] and f1 [N, 4] of randomModel to z [N, 1]; shapes noted as they change. */
function branch11(random: () => number, w: (shape: number[]) => Weight): Model['nodes'] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const bound = (): number | null => (random() < 0.3 ? null : f32(random() * 2 - 1));
  const node = (name: string, op: Model['nodes'][number]['op'], inputs: string[]): Model['nodes'][number] => ({ name, op, inputs, outputs: [name] });
  return [
    // [N, 4, 6, 6] → [N, 2, 12, 12] (stride 2, kernel 2, two groups), → [N, 2, 6, 6]
    node('up', { type: 'ConvTranspose', weight: w([4, 1, 2, 2]), bias: random() < 0.5 ? w([2]) : null, strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], outputPadding: [0, 0], group: 2 }, ['l1']),
    node('down', { type: 'Resize', mode: pick(['nearest', 'linear'] as const), coordinates: pick(['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel'] as const), nearest: pick(['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const), scales: [0.5, 0.5] }, ['up']),
    node('clip', { type: 'Clip', min: bound(), max: null }, ['down']),
    node('hsig', { type: 'HardSigmoid', alpha: f32(0.1 + random() * 0.2), beta: f32(0.5) }, ['clip']),
    node('gate', { type: 'Mul' }, ['hsig', 'clip']),
    node('hswish', { type: 'HardSwish' }, ['gate']),
    // → [N, 2, 7, 7] → [N, 2, 1, 1] → [N, 2]
    node('pad', { type: 'Pad', pads: [0, 0, 1, 0, 0, 0, 0, 1], value: f32(random() - 0.5) }, ['hswish']),
    node('gmp', { type: 'GlobalMaxPool' }, ['pad']),
    node('squeeze', { type: 'Squeeze', axes: [2, -1] }, ['gmp']),
    node('shift', { type: 'Constant', value: w([1, 2]) }, []),
    node('centred', { type: 'Sub' }, ['squeeze', 'shift']),
    // [N, 2] ++ [N, 4] → [N, 6] → [N, 1, 6], + a Constant [1, 3, 1] expanded to [N, 3, 6]
    node('joined', { type: 'Concat', axis: 1 }, ['centred', 'f1']),
    node('tokens', { type: 'Unsqueeze', axes: [1] }, ['joined']),
    node('rows', { type: 'Constant', value: w([1, 3, 1]) }, []),
    node('rows_n', { type: 'Expand', shape: [-1, 3, 6] }, ['rows']),
    node('seq', { type: 'Add' }, ['tokens', 'rows_n']),
    node('ln', { type: 'LayerNorm', axis: -1, epsilon: f32(1e-5), scale: w([6]), bias: random() < 0.5 ? w([6]) : null }, ['seq']),
    node('gelu', { type: 'Gelu', tanhApproximation: random() < 0.5 }, ['ln']),
    // [N, 6, 3] x [N, 3, 6] → [N, 6, 6] → columns 1, 3 → [N, 6, 2] → [N, 2]
    node('seq_t', { type: 'Transpose', perm: [0, 2, 1] }, ['gelu']),
    node('attn', { type: 'MatMul' }, ['seq_t', 'ln']),
    node('cols', { type: 'Slice', starts: [0, 1], ends: [2 ** 31 - 1, 5], axes: [0, -1], steps: [1, 2] }, ['attn']),
    node('pooled', { type: 'ReduceMean', axes: [1], keepdims: false }, ['cols']),
    // exp(−x) > 0 keeps Sqrt, Pow and the Div defined.
    node('neg', { type: 'Neg' }, ['pooled']),
    node('exp', { type: 'Exp' }, ['neg']),
    node('sqrt', { type: 'Sqrt' }, ['exp']),
    node('pow', { type: 'Pow', exponent: f32(1 + random()) }, ['sqrt']),
    node('erf', { type: 'Erf' }, ['pow']),
    node('total', { type: 'ReduceSum', axes: [-1], keepdims: true }, ['pow']),
    node('ratio', { type: 'Div' }, ['erf', 'total']),
    node('z', { type: 'ReduceMax', axes: random() < 0.5 ? [1] : null, keepdims: true }, ['ratio']),
  ];
}

// ---- One op at a time: the reference tests' runner --------------------------------

export type Given = { shape: number[]; data: number[] };

/** Runs a one-node model on the given inputs (named x0, x1, ...) and returns its output. */
export function runOne(op: Op, ...inputs: Given[]): Given {
  const names = inputs.map((_, i) => `x${i}`);
  const model: Model = {
    inputs: inputs.map((t, i) => ({ name: names[i], shape: t.shape })),
    // runReference validates the model, so the output is declared with the shape it has.
    outputs: [{ name: 'out', shape: inferOpShape(op.type, op, inputs.map((t) => t.shape)) }],
    nodes: [{ name: 'op', op, inputs: names, outputs: ['out'] }],
    metadata: {},
  };
  const feeds = Object.fromEntries(inputs.map((t, i) => [names[i], { shape: t.shape, data: Float32Array.from(t.data) }]));
  const out = runReference(model, feeds).out;
  return { shape: out.shape, data: [...out.data] };
}

export function near(actual: number[], expected: number[], tolerance = 1e-6): void {
  assert.equal(actual.length, expected.length, `got [${actual}]`);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= tolerance * Math.max(1, Math.abs(expected[i])), `[${i}]: got ${a}, expected ${expected[i]} (all: [${actual}])`));
}

// The golden files of golden/ (golden/README.md): one small .hnet per op, and
// per weight storage for the layers (float32, float16, int8, int4; plain,
// hashed with a sign hash, hashed without), each with its inputs and the
// outputs of the reference forward pass as .npy. scripts/make-golden.ts writes
// them; test/golden.test.ts checks that this still builds the committed bytes.

import type { DType, Model, Op, ResizeOp, TensorInfo, Weight } from '../src/index.js';
import { decode, encode, inferOpShape, runReference, sizeOf, valuesFromFloat32, writeNpy } from '../src/index.js';
import { randomArray, rng } from '../src/testing.js';

/** The batch size of every input file (the models declare a symbolic batch, -1). */
const BATCH_SIZE = 2;

export const DTYPES: readonly DType[] = ['float32', 'float16', 'int8', 'int4'];
/** The layers whose weight is stored in every dtype and storage. */
export const LAYERS = ['Dense', 'Conv2D', 'ConvTranspose'] as const;
/** How a weight is stored: its dense values, or buckets with or without the sign hash ξ. */
export const STORAGES = ['plain', 'hashed-signed', 'hashed-unsigned'] as const;
export type Storage = (typeof STORAGES)[number];

/** One golden case as golden/manifest.json lists it. */
export interface GoldenCase {
  name: string;
  op: Op['type'];
  /** For the LAYERS: how the weight and the bias are stored. */
  weights?: { dtype: DType; storage: Storage };
  file: string;
  /** Graph input or output name → its .npy file. */
  inputs: Record<string, string>;
  outputs: Record<string, string>;
}

/** The manifest: what a reader in any language loops over. */
export interface GoldenManifest {
  description: string;
  batch: number;
  tolerance: { reference: number; runtime: number };
  cases: GoldenCase[];
}

/** A weight of `shape` in the given storage: about a third as many buckets as values when hashed. */
function weightOf(random: () => number, shape: number[], dtype: DType, storage: Storage): Weight {
  if (storage === 'plain') return { shape, hash: null, values: valuesFromFloat32(randomArray(random, sizeOf(shape), 0.5), dtype) };
  const buckets = Math.max(2, Math.ceil(sizeOf(shape) / 3));
  const seed = (): number => Math.floor(random() * 2 ** 32);
  return {
    shape,
    hash: { algorithm: 'xxh32', bucketSeed: seed(), signSeed: storage === 'hashed-signed' ? seed() : null },
    values: valuesFromFloat32(randomArray(random, buckets, 0.5), dtype),
  };
}

interface Spec {
  name: string;
  inputs: TensorInfo[];
  op: Op;
  weights?: GoldenCase['weights'];
  /** Inputs drawn from (0, 2] instead of [-2, 2), for ops that need them positive (Sqrt, a fractional Pow). */
  positive?: boolean;
  /** Nodes before the op: the Constant under test, which the op (an Add) joins to the graph's input. */
  before?: Model['nodes'];
  /** The op the case is for, when it is one of `before`. */
  testing?: Op['type'];
}

/** A layer's case in one weight storage, its values drawn from `seed`. */
function layerCase(type: (typeof LAYERS)[number], dtype: DType, storage: Storage, seed: number): Spec {
  const random = rng(seed);
  const w = (shape: number[]): Weight => weightOf(random, shape, dtype, storage);
  const weights = { dtype, storage };
  switch (type) {
    case 'Dense':
      return { name: `dense-${dtype}-${storage}`, inputs: [{ name: 'x', shape: [-1, 10] }], op: { type, weight: w([6, 10]), bias: w([6]) }, weights };
    case 'Conv2D':
      // Grouped, strided, dilated and unevenly padded, so one file exercises every attribute.
      return {
        name: `conv2d-${dtype}-${storage}`, inputs: [{ name: 'x', shape: [-1, 2, 6, 6] }],
        op: { type, weight: w([4, 1, 3, 3]), bias: w([4]), strides: [2, 1], pads: [1, 0, 1, 2], dilations: [1, 2], group: 2 },
        weights,
      };
    case 'ConvTranspose':
      // Grouped, strided, dilated, unevenly padded and output-padded: [N, 4, 3, 3] → [N, 2, 7, 6].
      return {
        name: `conv-transpose-${dtype}-${storage}`, inputs: [{ name: 'x', shape: [-1, 4, 3, 3] }],
        op: { type, weight: w([4, 1, 3, 3]), bias: w([2]), strides: [2, 1], pads: [1, 0, 0, 1], dilations: [1, 2], outputPadding: [1, 0], group: 2 },
        weights,
      };
  }
}

/**
 * Every case, in manifest order: the cases of format 1.0 first, then those of
 * 1.1, so that each case keeps its seeds (and its files their bytes) as cases are added.
 */
function specs(): Spec[] {
  const out: Spec[] = [];
  let seed = 1;
  const dtypes10 = DTYPES.filter((d) => d !== 'int4');
  for (const type of ['Dense', 'Conv2D'] as const) {
    for (const dtype of dtypes10) for (const storage of STORAGES) out.push(layerCase(type, dtype, storage, seed++));
  }
  const x = (shape: number[]): TensorInfo[] => [{ name: 'x', shape }];
  const random = rng(seed++);
  out.push(
    { name: 'relu', inputs: x([-1, 3, 4]), op: { type: 'Relu' } },
    { name: 'leaky-relu', inputs: x([-1, 3, 4]), op: { type: 'LeakyRelu', alpha: Math.fround(0.1) } },
    { name: 'sigmoid', inputs: x([-1, 3, 4]), op: { type: 'Sigmoid' } },
    { name: 'tanh', inputs: x([-1, 3, 4]), op: { type: 'Tanh' } },
    { name: 'softmax', inputs: x([-1, 3, 4]), op: { type: 'Softmax', axis: -1 } },
    { name: 'log-softmax', inputs: x([-1, 3, 4]), op: { type: 'LogSoftmax', axis: 1 } },
    { name: 'flatten', inputs: x([-1, 3, 2, 2]), op: { type: 'Flatten', axis: 1 } },
    { name: 'reshape', inputs: x([-1, 3, 4]), op: { type: 'Reshape', shape: [0, -1] } },
    {
      name: 'max-pool', inputs: x([-1, 2, 6, 6]),
      op: { type: 'MaxPool', kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], ceilMode: true },
    },
    {
      name: 'average-pool', inputs: x([-1, 2, 6, 6]),
      op: { type: 'AveragePool', kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: false, countIncludePad: false },
    },
    { name: 'global-average-pool', inputs: x([-1, 3, 4, 4]), op: { type: 'GlobalAveragePool' } },
    {
      name: 'batch-norm', inputs: x([-1, 3, 2, 2]),
      op: {
        type: 'BatchNorm', scale: randomArray(random, 3), bias: randomArray(random, 3), mean: randomArray(random, 3),
        variance: Float32Array.from({ length: 3 }, () => Math.fround(0.5 + random())), epsilon: Math.fround(1e-5),
      },
    },
    // b broadcasts along the batch and the last axis.
    { name: 'add', inputs: [{ name: 'a', shape: [-1, 3, 4] }, { name: 'b', shape: [3, 1] }], op: { type: 'Add' } },
  );
  // 1.1: int4 storage of the 1.0 layers, ConvTranspose in every storage, then the ops.
  for (const type of LAYERS) {
    for (const dtype of type === 'ConvTranspose' ? DTYPES : ['int4' as const]) {
      for (const storage of STORAGES) out.push(layerCase(type, dtype, storage, seed++));
    }
  }
  const ab = (a: number[], b: number[]): TensorInfo[] => [{ name: 'a', shape: a }, { name: 'b', shape: b }];
  const random11 = rng(seed);
  const hashedConstant = weightOf(random11, [3, 4], 'float32', 'hashed-signed');
  const plain = (shape: number[]): Weight => weightOf(random11, shape, 'float32', 'plain');
  const resize = (mode: 'nearest' | 'linear', coordinates: ResizeOp['coordinates'], nearest: ResizeOp['nearest'], scales: [number, number]): Op =>
    ({ type: 'Resize', mode, coordinates, nearest, scales });
  out.push(
    // The Constant (hashed) is added to x, the graph's input: c [3, 4] + x [N, 3, 4].
    {
      name: 'constant', inputs: x([-1, 3, 4]), op: { type: 'Add' }, testing: 'Constant',
      before: [{ name: 'Constant', op: { type: 'Constant', value: hashedConstant }, inputs: [], outputs: ['c'] }],
    },
    { name: 'concat', inputs: [{ name: 'a', shape: [-1, 2, 3] }, { name: 'b', shape: [-1, 1, 3] }, { name: 'c', shape: [-1, 3, 3] }], op: { type: 'Concat', axis: 1 } },
    // Axis 1: rows 1, 3 (end clamped); axis 2 backwards from the last column by 2: 5, 3, 1.
    { name: 'slice', inputs: x([-1, 4, 6]), op: { type: 'Slice', starts: [1, -1], ends: [100, -100], axes: [1, 2], steps: [2, -2] } },
    { name: 'clip', inputs: x([-1, 3, 4]), op: { type: 'Clip', min: Math.fround(-0.5), max: 1 } },
    { name: 'clip-max-only', inputs: x([-1, 3, 4]), op: { type: 'Clip', min: null, max: Math.fround(0.25) } },
    { name: 'hard-sigmoid', inputs: x([-1, 3, 4]), op: { type: 'HardSigmoid', alpha: Math.fround(0.2), beta: 0.5 } },
    { name: 'hard-swish', inputs: x([-1, 3, 4]), op: { type: 'HardSwish' } },
    { name: 'mul', inputs: ab([-1, 3, 4], [3, 1]), op: { type: 'Mul' } },
    { name: 'sub', inputs: ab([-1, 3, 4], [4]), op: { type: 'Sub' } },
    { name: 'div', inputs: ab([-1, 3, 4], [-1, 1, 4]), op: { type: 'Div' }, positive: true },
    { name: 'pow', inputs: x([-1, 3, 4]), op: { type: 'Pow', exponent: 1.5 }, positive: true },
    { name: 'sqrt', inputs: x([-1, 3, 4]), op: { type: 'Sqrt' }, positive: true },
    { name: 'exp', inputs: x([-1, 3, 4]), op: { type: 'Exp' } },
    { name: 'erf', inputs: x([-1, 3, 4]), op: { type: 'Erf' } },
    { name: 'neg', inputs: x([-1, 3, 4]), op: { type: 'Neg' } },
    { name: 'reduce-mean', inputs: x([-1, 3, 4]), op: { type: 'ReduceMean', axes: [1], keepdims: true } },
    { name: 'reduce-sum', inputs: x([-1, 3, 4]), op: { type: 'ReduceSum', axes: [-1], keepdims: false } },
    { name: 'reduce-sum-all', inputs: x([-1, 3, 4]), op: { type: 'ReduceSum', axes: null, keepdims: true } },
    { name: 'reduce-max', inputs: x([-1, 3, 4]), op: { type: 'ReduceMax', axes: [1, 2], keepdims: false } },
    { name: 'transpose', inputs: x([-1, 2, 3, 4]), op: { type: 'Transpose', perm: [0, 2, 3, 1] } },
    // b has no batch: it broadcasts over it.
    { name: 'matmul', inputs: ab([-1, 2, 3, 4], [2, 4, 5]), op: { type: 'MatMul' } },
    { name: 'layer-norm', inputs: x([-1, 3, 4]), op: { type: 'LayerNorm', axis: -1, epsilon: Math.fround(1e-5), scale: plain([4]), bias: plain([4]) } },
    { name: 'layer-norm-2d', inputs: x([-1, 3, 4]), op: { type: 'LayerNorm', axis: 1, epsilon: Math.fround(1e-3), scale: plain([3, 4]), bias: null } },
    { name: 'gelu', inputs: x([-1, 3, 4]), op: { type: 'Gelu', tanhApproximation: false } },
    { name: 'gelu-tanh', inputs: x([-1, 3, 4]), op: { type: 'Gelu', tanhApproximation: true } },
    { name: 'squeeze', inputs: x([-1, 3, 1, 4]), op: { type: 'Squeeze', axes: [2] } },
    { name: 'unsqueeze', inputs: x([-1, 3]), op: { type: 'Unsqueeze', axes: [1, -1] } },
    { name: 'pad', inputs: x([-1, 2, 3, 3]), op: { type: 'Pad', pads: [0, 0, 1, 2, 0, 0, 2, 1], value: 0.5 } },
    { name: 'global-max-pool', inputs: x([-1, 3, 4, 4]), op: { type: 'GlobalMaxPool' } },
    // Nearest with power-of-two scales only, so that no sampling position depends on float rounding.
    { name: 'resize-nearest', inputs: x([-1, 2, 3, 3]), op: resize('nearest', 'asymmetric', 'floor', [2, 2]) },
    { name: 'resize-nearest-half-pixel', inputs: x([-1, 2, 4, 4]), op: resize('nearest', 'half_pixel', 'round_prefer_ceil', [0.5, 2]) },
    { name: 'resize-linear', inputs: x([-1, 2, 3, 4]), op: resize('linear', 'half_pixel', 'round_prefer_floor', [2, 1.5]) },
    { name: 'resize-linear-align-corners', inputs: x([-1, 2, 3, 4]), op: resize('linear', 'align_corners', 'round_prefer_floor', [1.5, 2]) },
    { name: 'resize-linear-pytorch-half-pixel', inputs: x([-1, 2, 4, 4]), op: resize('linear', 'pytorch_half_pixel', 'round_prefer_floor', [0.25, 0.5]) },
    { name: 'expand', inputs: x([-1, 1, 4]), op: { type: 'Expand', shape: [-1, 3, 4] } },
  );
  return out;
}

/** The model of a case: inputs (→ the nodes before it) → op → y. */
function modelOf(spec: Spec): Model {
  const where = `golden ${spec.name}`;
  const before = spec.before ?? [];
  const shapes = new Map(spec.inputs.map((t) => [t.name, t.shape]));
  for (const node of before) shapes.set(node.outputs[0], inferOpShape(where, node.op, node.inputs.map((name) => shapes.get(name)!)));
  // The op reads the nodes' outputs, then the graph inputs.
  const opInputs = [...before.map((n) => n.outputs[0]), ...spec.inputs.map((t) => t.name)];
  const y: TensorInfo = { name: 'y', shape: inferOpShape(where, spec.op, opInputs.map((name) => shapes.get(name)!)) };
  return {
    inputs: spec.inputs,
    outputs: [y],
    nodes: [...before, { name: spec.op.type, op: spec.op, inputs: opInputs, outputs: [y.name] }],
    metadata: { 'golden.case': spec.name },
  };
}

/** Whether a file of golden/ is the generator's (README.md is written by hand). */
export const isGoldenFile = (name: string): boolean => name !== 'README.md';

/** Every golden file by name, manifest.json included, exactly as they are committed. */
export function goldenFiles(): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const cases: GoldenCase[] = [];
  specs().forEach((spec, i) => {
    const bytes = encode(modelOf(spec));
    // The expected outputs come from the file as a reader sees it, not from the model in memory.
    const model = decode(bytes);
    const random = rng(1000 + i);
    const feeds = Object.fromEntries(model.inputs.map((t) => {
      const shape = t.shape.map((d) => (d === -1 ? BATCH_SIZE : d));
      const data = randomArray(random, sizeOf(shape), 2);
      return [t.name, { shape, data: spec.positive ? data.map((v) => Math.abs(v) + 2 ** -10) : data }];
    }));
    const outputs = runReference(model, feeds);
    const entry: GoldenCase = { name: spec.name, op: spec.testing ?? spec.op.type, ...(spec.weights && { weights: spec.weights }), file: `${spec.name}.hnet`, inputs: {}, outputs: {} };
    files.set(entry.file, bytes);
    for (const [name, tensor] of Object.entries(feeds)) files.set((entry.inputs[name] = `${spec.name}.${name}.npy`), writeNpy(tensor));
    for (const t of model.outputs) files.set((entry.outputs[t.name] = `${spec.name}.${t.name}.npy`), writeNpy(outputs[t.name]));
    cases.push(entry);
  });
  const manifest: GoldenManifest = {
    description: 'hnet golden files: one .hnet per op and weight storage, its inputs and expected outputs as .npy (README.md)',
    batch: BATCH_SIZE,
    tolerance: { reference: 1e-6, runtime: 1e-5 },
    cases,
  };
  files.set('manifest.json', new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n'));
  return files;
}

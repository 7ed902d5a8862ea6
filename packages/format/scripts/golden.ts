// The golden files of golden/ (golden/README.md): one small .hnet per op, and
// per weight storage for the ops with weights (float32, float16, int8; plain,
// hashed with a sign hash, hashed without), each with its inputs and the
// outputs of the reference forward pass as .npy. scripts/make-golden.ts writes
// them; test/golden.test.ts checks that this still builds the committed bytes.

import type { DType, Model, Op, TensorInfo, Weight } from '../src/index.js';
import { decode, encode, inferOpShape, runReference, sizeOf, valuesFromFloat32, writeNpy } from '../src/index.js';
import { randomArray, rng } from '../src/testing.js';

/** The batch size of every input file (the models declare a symbolic batch, -1). */
const BATCH_SIZE = 2;

export const DTYPES: readonly DType[] = ['float32', 'float16', 'int8'];
/** How a weight is stored: its dense values, or buckets with or without the sign hash ξ. */
export const STORAGES = ['plain', 'hashed-signed', 'hashed-unsigned'] as const;
export type Storage = (typeof STORAGES)[number];

/** One golden case as golden/manifest.json lists it. */
export interface GoldenCase {
  name: string;
  op: Op['type'];
  /** For Dense and Conv2D: how the weight and the bias are stored. */
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
}

/** Every case, in manifest order: the ops with weights in each storage, then the others. */
function specs(): Spec[] {
  const out: Spec[] = [];
  let seed = 1;
  for (const type of ['Dense', 'Conv2D'] as const) {
    for (const dtype of DTYPES) {
      for (const storage of STORAGES) {
        const random = rng(seed++);
        const w = (shape: number[]): Weight => weightOf(random, shape, dtype, storage);
        const weights = { dtype, storage };
        if (type === 'Dense') {
          out.push({
            name: `dense-${dtype}-${storage}`, inputs: [{ name: 'x', shape: [-1, 10] }],
            op: { type, weight: w([6, 10]), bias: w([6]) }, weights,
          });
        } else {
          // Grouped, strided, dilated and unevenly padded, so one file exercises every attribute.
          out.push({
            name: `conv2d-${dtype}-${storage}`, inputs: [{ name: 'x', shape: [-1, 2, 6, 6] }],
            op: { type, weight: w([4, 1, 3, 3]), bias: w([4]), strides: [2, 1], pads: [1, 0, 1, 2], dilations: [1, 2], group: 2 },
            weights,
          });
        }
      }
    }
  }
  const x = (shape: number[]): TensorInfo[] => [{ name: 'x', shape }];
  const random = rng(seed);
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
  return out;
}

/** The one-node model of a case: inputs → op → y. */
function modelOf(spec: Spec): Model {
  const where = `golden ${spec.name}`;
  const y: TensorInfo = { name: 'y', shape: inferOpShape(where, spec.op, spec.inputs.map((t) => t.shape)) };
  return {
    inputs: spec.inputs,
    outputs: [y],
    nodes: [{ name: spec.op.type, op: spec.op, inputs: spec.inputs.map((t) => t.name), outputs: [y.name] }],
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
      return [t.name, { shape, data: randomArray(random, sizeOf(shape), 2) }];
    }));
    const outputs = runReference(model, feeds);
    const entry: GoldenCase = { name: spec.name, op: spec.op.type, ...(spec.weights && { weights: spec.weights }), file: `${spec.name}.hnet`, inputs: {}, outputs: {} };
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

// What a model holds, as plain data: nodes with their inferred shapes, every
// weight's virtual and stored size with its hash spec, and parameter totals;
// and how shapes, sizes and seeds are written in messages and reports.
// One description for every tool that reports on a model (hnet inspect, the
// web page) and every error that shows a shape.

import { readVersions } from './codec/decode.js';
import { blockOf } from './hash.js';
import type { Model, Weight } from './model.js';
import { sizeOf, weightsOf } from './model.js';
import { BATCH, inferShapes } from './shapes.js';
import { storedBytes } from './values.js';
import { formatVersionString } from './version.js';

/** A tensor shape as "[N, 1, 28, 28]" (N: the batch dimension); "?" when unknown. */
export const formatShape = (shape: readonly number[] | null): string =>
  shape ? `[${shape.map((d) => (d === BATCH ? 'N' : d)).join(', ')}]` : '?';

/** A weight's virtual shape as "[256×784]". */
export const formatWeightShape = (shape: readonly number[]): string => `[${shape.join('×')}]`;

export const formatBytes = (n: number): string =>
  n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(2)} MiB`;

export const formatCount = (n: number): string => n.toLocaleString('en-US');

/** A uint32 seed as "0x0000002a". */
export const hex = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

export interface WeightSummary {
  node: number;
  layer: string; // node name
  op: string;
  part: 'weight' | 'bias';
  shape: number[]; // virtual shape
  virtual: number;
  real: number; // stored values (K for a hashed weight)
  dtype: string;
  storedBytes: number; // bytes of the stored values in the file (int4: two per byte)
  hash: { algorithm: string; buckets: number; bucketSeed: number; signSeed: number | null; block: number } | null; // block: columns per hash (1 for xxh32)
}

export interface ModelSummary {
  inputs: Model['inputs'];
  outputs: Model['outputs'];
  nodes: { index: number; name: string; op: string; inputs: string[]; outputs: string[]; shape: number[] | null }[];
  weights: WeightSummary[];
  /**
   * BatchNorm's four vectors count as stored, dense parameters (float32).
   * storedBytes: the bytes of every stored value, weights and BatchNorm, without the file's framing.
   */
  parameters: { virtual: number; real: number; batchNorm: number; storedBytes: number };
  metadata: Record<string, string>;
}

export function summarizeModel(model: Model): ModelSummary {
  const shapes = inferShapes(model);
  const weights: WeightSummary[] = [];
  let batchNorm = 0;
  model.nodes.forEach((node, i) => {
    const add = (weight: Weight, part: 'weight' | 'bias'): void => {
      const real = weight.values.data.length;
      weights.push({
        node: i, layer: node.name, op: node.op.type, part, shape: [...weight.shape],
        virtual: sizeOf(weight.shape), real, dtype: weight.values.dtype, storedBytes: storedBytes(weight.values.dtype, real),
        hash: weight.hash && { algorithm: weight.hash.algorithm, buckets: real, bucketSeed: weight.hash.bucketSeed, signSeed: weight.hash.signSeed, block: blockOf(weight.hash) },
      });
    };
    const w = weightsOf(node.op);
    if (w) {
      add(w.weight, 'weight');
      if (w.bias) add(w.bias, 'bias');
    }
    if (node.op.type === 'BatchNorm') batchNorm += 4 * node.op.scale.length;
  });
  return {
    inputs: model.inputs,
    outputs: model.outputs,
    nodes: model.nodes.map((n, index) => ({
      index, name: n.name, op: n.op.type, inputs: n.inputs, outputs: n.outputs, shape: shapes.get(n.outputs[0]) ?? null,
    })),
    weights,
    parameters: {
      virtual: weights.reduce((s, w) => s + w.virtual, 0) + batchNorm,
      real: weights.reduce((s, w) => s + w.real, 0) + batchNorm,
      batchNorm,
      storedBytes: weights.reduce((s, w) => s + w.storedBytes, 0) + 4 * batchNorm,
    },
    metadata: model.metadata,
  };
}

export interface FileDescription extends ModelSummary {
  formatVersion: string; // "1.0"
  minReaderVersion: string;
  bytes: { file: number; denseFloat32: number };
}

/** The summary of a model decoded from `bytes`, with the file's versions and size against dense float32. */
export function describeFile(model: Model, bytes: Uint8Array): FileDescription {
  const summary = summarizeModel(model);
  const versions = readVersions(bytes);
  return {
    formatVersion: formatVersionString(versions.format),
    minReaderVersion: formatVersionString(versions.minReader),
    ...summary,
    bytes: { file: bytes.length, denseFloat32: summary.parameters.virtual * 4 },
  };
}

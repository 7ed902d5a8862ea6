// What `hnet inspect` shows, computed in the browser from a decoded model:
// inputs/outputs, nodes with inferred shapes, each weight's virtual vs real
// size, bucket dtype and hash seeds, the size against the dense float32
// model, metadata. The counting follows packages/convert (cli/verbs/inspect.ts):
// BatchNorm's four vectors count as stored parameters, dense.

import { formatVersionString, inferShapes, minReaderVersion, sizeOf, weightsOf } from '@hnet/format';

/**
 * @param {import('@hnet/format').Model} model
 * @param {number} fileBytes size of the .hnet file
 */
export function describeModel(model, fileBytes) {
  const shapes = inferShapes(model);
  const weights = [];
  let batchNorm = 0;
  model.nodes.forEach((node, index) => {
    const w = weightsOf(node.op);
    const add = (weight, part) =>
      weights.push({
        node: index, layer: node.name, op: node.op.type, part, shape: [...weight.shape],
        virtual: sizeOf(weight.shape), real: weight.values.data.length, dtype: weight.values.dtype,
        hash: weight.hash && { algorithm: weight.hash.algorithm, bucketSeed: weight.hash.bucketSeed, signSeed: weight.hash.signSeed },
      });
    if (w) {
      add(w.weight, 'weight');
      if (w.bias) add(w.bias, 'bias');
    }
    if (node.op.type === 'BatchNorm') batchNorm += 4 * node.op.scale.length;
  });
  const virtual = weights.reduce((s, w) => s + w.virtual, 0) + batchNorm;
  const real = weights.reduce((s, w) => s + w.real, 0) + batchNorm;
  const producer = model.nodes.find((n) => n.outputs.includes(model.outputs[0]?.name));
  return {
    minReaderVersion: formatVersionString(minReaderVersion(model)),
    inputs: model.inputs,
    outputs: model.outputs,
    nodes: model.nodes.map((n, index) => ({ index, name: n.name, op: n.op.type, shape: shapes.get(n.outputs[0]) ?? null })),
    weights,
    parameters: { virtual, real, batchNorm },
    bytes: { file: fileBytes, denseFloat32: virtual * 4 },
    lastOp: producer?.op.type,
    metadata: model.metadata,
  };
}

/** Whether the digit canvas can feed this model: one input of 784 values per example, one output of 10. */
export function classifiesDigits(description) {
  const [input] = description.inputs;
  const [output] = description.outputs;
  const per = (t) => (t.shape[0] === -1 ? t.shape.slice(1) : null);
  return description.inputs.length === 1 && description.outputs.length === 1 &&
    per(input) !== null && sizeOf(per(input)) === 784 && per(output) !== null && sizeOf(per(output)) === 10;
}

export const formatCount = (n) => n.toLocaleString('en-US');

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

export const formatShape = (shape) => (shape ? `[${shape.map((d) => (d < 0 ? 'N' : d)).join(', ')}]` : '?');

export const hex = (seed) => `0x${(seed >>> 0).toString(16).padStart(8, '0')}`;

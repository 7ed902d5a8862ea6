// Versioning of the .hnet format (docs/FORMAT.md, "Versioning").

import type { Model, OpType, Weight } from './model.js';
import { weightsOf } from './model.js';

export const FILE_IDENTIFIER = 'HNET';

export interface Version {
  major: number;
  minor: number;
}

/** The version this library writes, and the newest it reads. */
export const FORMAT_VERSION: Readonly<Version> = { major: 1, minor: 2 };

/** The format minor version that introduced each op: a file using it needs a reader at least that new. */
const OP_SINCE_MINOR: Record<OpType, number> = {
  Dense: 0, Conv2D: 0, Relu: 0, LeakyRelu: 0, Sigmoid: 0, Tanh: 0, Softmax: 0, LogSoftmax: 0,
  Flatten: 0, Reshape: 0, MaxPool: 0, AveragePool: 0, GlobalAveragePool: 0, BatchNorm: 0, Add: 0,
  Constant: 1, Concat: 1, Slice: 1, Clip: 1, HardSigmoid: 1, HardSwish: 1, Mul: 1, Sub: 1, Div: 1, Pow: 1,
  Sqrt: 1, Exp: 1, Erf: 1, Neg: 1, ReduceMean: 1, ReduceSum: 1, ReduceMax: 1, Transpose: 1, MatMul: 1,
  LayerNorm: 1, Gelu: 1, Squeeze: 1, Unsqueeze: 1, Pad: 1, GlobalMaxPool: 1, Resize: 1, ConvTranspose: 1, Expand: 1,
};

/** The format minor version that introduced a weight's storage: its dtype and its hash algorithm. */
function weightSinceMinor(weight: Weight): number {
  const dtype = weight.values.dtype === 'int4' ? 1 : 0;
  const algorithm = weight.hash?.algorithm;
  const hash = algorithm === 'xxh32-aligned-block' ? 2 : algorithm === 'xxh32-block' ? 1 : 0;
  return Math.max(dtype, hash);
}

/** The oldest reader that can run this model: the newest feature it uses (op, dtype or hash). */
export function minReaderVersion(model: Model): Version {
  let minor = 0;
  for (const node of model.nodes) {
    minor = Math.max(minor, OP_SINCE_MINOR[node.op.type]);
    const weights = weightsOf(node.op);
    if (weights) {
      minor = Math.max(minor, weightSinceMinor(weights.weight));
      if (weights.bias) minor = Math.max(minor, weightSinceMinor(weights.bias));
    }
  }
  return { major: FORMAT_VERSION.major, minor };
}

export const formatVersionString = (v: Version): string => `${v.major}.${v.minor}`;

// Versioning of the .hnet format (docs/FORMAT.md, "Versioning").

import type { Model, OpType } from './model.js';

export const FILE_IDENTIFIER = 'HNET';

export interface Version {
  major: number;
  minor: number;
}

/** The version this library writes, and the newest it reads. */
export const FORMAT_VERSION: Readonly<Version> = { major: 1, minor: 0 };

/** The format minor version that introduced each op: a file using it needs a reader at least that new. */
const OP_SINCE_MINOR: Record<OpType, number> = {
  Dense: 0, Conv2D: 0, Relu: 0, LeakyRelu: 0, Sigmoid: 0, Tanh: 0, Softmax: 0, LogSoftmax: 0,
  Flatten: 0, Reshape: 0, MaxPool: 0, AveragePool: 0, GlobalAveragePool: 0, BatchNorm: 0, Add: 0,
};

/** The oldest reader that can run this model: the newest feature it uses. */
export function minReaderVersion(model: Model): Version {
  let minor = 0;
  for (const node of model.nodes) minor = Math.max(minor, OP_SINCE_MINOR[node.op.type]);
  return { major: FORMAT_VERSION.major, minor };
}

export const formatVersionString = (v: Version): string => `${v.major}.${v.minor}`;

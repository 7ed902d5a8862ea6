// The in-memory hnet model: the one type every package shares.
// It mirrors schemas/hnet.fbs with plain TypeScript values; encode() and
// decode() translate between the two. Tensors are referred to by name here
// (indices exist only in the file).

/** Storage type of a weight's stored values. */
export type DType = 'float32' | 'float16' | 'int8';

/**
 * Stored values in their storage form, so that decode(encode(m)) is exact.
 * Use valuesToFloat32 / valuesFromFloat32 (values.ts) to convert.
 */
export type StoredValues =
  | { dtype: 'float32'; data: Float32Array }
  | { dtype: 'float16'; data: Uint16Array } // IEEE binary16 bit patterns
  | { dtype: 'int8'; data: Int8Array; scale: number }; // value = scale * q

/** How virtual values are derived from buckets (docs/FORMAT.md, "Hash spec"). */
export interface HashSpec {
  algorithm: 'xxh32';
  bucketSeed: number; // uint32
  /** uint32 seed of the sign hash ξ, or null for "no sign" (ξ = +1). */
  signSeed: number | null;
}

/**
 * A weight or bias. Without hash, values holds product(shape) values in
 * row-major order; with hash, values holds the K buckets.
 */
export interface Weight {
  shape: number[]; // virtual shape
  hash: HashSpec | null;
  values: StoredValues;
}

/** Graph input or output. -1 marks the symbolic batch dimension. */
export interface TensorInfo {
  name: string;
  shape: number[];
}

export type Pads4 = [top: number, left: number, bottom: number, right: number];
export type Pair = [number, number];

export interface DenseOp {
  type: 'Dense';
  weight: Weight; // [out, in]
  bias: Weight | null; // [out]
}
export interface Conv2DOp {
  type: 'Conv2D';
  weight: Weight; // [M, C / group, KH, KW]
  bias: Weight | null; // [M]
  strides: Pair;
  pads: Pads4;
  dilations: Pair;
  group: number;
}
export interface MaxPoolOp {
  type: 'MaxPool';
  kernel: Pair;
  strides: Pair;
  pads: Pads4;
  dilations: Pair;
  ceilMode: boolean;
}
export interface AveragePoolOp {
  type: 'AveragePool';
  kernel: Pair;
  strides: Pair;
  pads: Pads4;
  ceilMode: boolean;
  countIncludePad: boolean;
}
export interface BatchNormOp {
  type: 'BatchNorm';
  scale: Float32Array;
  bias: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}

export type Op =
  | DenseOp
  | Conv2DOp
  | { type: 'Relu' }
  | { type: 'LeakyRelu'; alpha: number }
  | { type: 'Sigmoid' }
  | { type: 'Tanh' }
  | { type: 'Softmax'; axis: number }
  | { type: 'LogSoftmax'; axis: number }
  | { type: 'Flatten'; axis: number }
  | { type: 'Reshape'; shape: number[] }
  | MaxPoolOp
  | AveragePoolOp
  | { type: 'GlobalAveragePool' }
  | BatchNormOp
  | { type: 'Add' };

export type OpType = Op['type'];

export interface Node {
  name: string;
  op: Op;
  inputs: string[]; // tensor names
  outputs: string[];
}

export interface Model {
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  nodes: Node[]; // topological order
  metadata: Record<string, string>;
}

/** Every op type, in the order of the schema's Op union (tag = index + 1). */
export const OP_TYPES: readonly OpType[] = [
  'Dense', 'Conv2D', 'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Softmax', 'LogSoftmax',
  'Flatten', 'Reshape', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'BatchNorm', 'Add',
];

/** The weights of a node that has any (Dense, Conv2D), for code that walks all of them. */
export function weightsOf(op: Op): { weight: Weight; bias: Weight | null } | null {
  return op.type === 'Dense' || op.type === 'Conv2D' ? { weight: op.weight, bias: op.bias } : null;
}

/** Number of elements of a shape (all dims must be known). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

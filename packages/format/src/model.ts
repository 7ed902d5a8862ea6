// The in-memory hnet model: the one type every package shares.
// It mirrors schemas/hnet.fbs with plain TypeScript values; encode() and
// decode() translate between the two. Tensors are referred to by name here
// (indices exist only in the file).

/** Storage type of a weight's stored values. */
export type DType = 'float32' | 'float16' | 'int8' | 'int4';

/**
 * Stored values in their storage form, so that decode(encode(m)) is exact.
 * Use valuesToFloat32 / valuesFromFloat32 (values.ts) to convert.
 */
export type StoredValues =
  | { dtype: 'float32'; data: Float32Array }
  | { dtype: 'float16'; data: Uint16Array } // IEEE binary16 bit patterns
  | { dtype: 'int8'; data: Int8Array; scale: number } // value = scale * q
  | { dtype: 'int4'; data: Int8Array; scale: number }; // 1.1: one q in [-7, 7] per element here, two per byte in the file

/** How virtual values are derived from buckets (docs/FORMAT.md, "Hash spec", "Block hashing"). */
export type HashSpec =
  | {
      algorithm: 'xxh32'; // one hash per virtual weight
      bucketSeed: number; // uint32
      /** uint32 seed of the sign hash ξ, or null for "no sign" (ξ = +1). */
      signSeed: number | null;
    }
  | {
      // 1.1 xxh32-block: one hash per block of `block` consecutive columns;
      // 1.2 xxh32-aligned-block: its runs start on a multiple of 4 buckets, and σ comes from the same hash
      algorithm: 'xxh32-block' | 'xxh32-aligned-block';
      bucketSeed: number;
      signSeed: number | null;
      block: number; // Z: 1..32 for xxh32-block; 4, 8, .., 64 for xxh32-aligned-block
    };

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
export interface ConvTransposeOp {
  type: 'ConvTranspose';
  weight: Weight; // [C, M / group, KH, KW]
  bias: Weight | null; // [M]
  strides: Pair;
  pads: Pads4;
  dilations: Pair;
  outputPadding: Pair;
  group: number;
}
export interface LayerNormOp {
  type: 'LayerNorm';
  axis: number; // normalizes dims axis..rank-1
  epsilon: number;
  scale: Weight; // shape of the normalized dims
  bias: Weight | null;
}
export interface SliceOp {
  type: 'Slice';
  starts: number[]; // ONNX semantics, negative from the end, clamped
  ends: number[];
  axes: number[]; // filled in: [0..n) when the file has none
  steps: number[]; // filled in: all 1 when the file has none
}
export interface ResizeOp {
  type: 'Resize';
  mode: 'nearest' | 'linear';
  coordinates: 'half_pixel' | 'asymmetric' | 'align_corners' | 'pytorch_half_pixel';
  nearest: 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';
  scales: Pair; // [scale_h, scale_w]
}
export type ReduceOp = { type: 'ReduceMean' | 'ReduceSum' | 'ReduceMax'; axes: number[] | null; keepdims: boolean };
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
  | { type: 'Add' }
  // 1.1
  | { type: 'Constant'; value: Weight }
  | { type: 'Concat'; axis: number }
  | SliceOp
  | { type: 'Clip'; min: number | null; max: number | null } // null: no bound
  | { type: 'HardSigmoid'; alpha: number; beta: number }
  | { type: 'HardSwish' }
  | { type: 'Mul' }
  | { type: 'Sub' }
  | { type: 'Div' }
  | { type: 'Pow'; exponent: number }
  | { type: 'Sqrt' }
  | { type: 'Exp' }
  | { type: 'Erf' }
  | { type: 'Neg' }
  | ReduceOp
  | { type: 'Transpose'; perm: number[] }
  | { type: 'MatMul' }
  | LayerNormOp
  | { type: 'Gelu'; tanhApproximation: boolean }
  | { type: 'Squeeze'; axes: number[] }
  | { type: 'Unsqueeze'; axes: number[] }
  | { type: 'Pad'; pads: number[]; value: number } // [begins..., ends...]
  | { type: 'GlobalMaxPool' }
  | ResizeOp
  | ConvTransposeOp
  | { type: 'Expand'; shape: number[] }; // -1: the graph's batch size

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
  // 1.1
  'Constant', 'Concat', 'Slice', 'Clip', 'HardSigmoid', 'HardSwish', 'Mul', 'Sub', 'Div', 'Pow', 'Sqrt', 'Exp',
  'Erf', 'Neg', 'ReduceMean', 'ReduceSum', 'ReduceMax', 'Transpose', 'MatMul', 'LayerNorm', 'Gelu', 'Squeeze',
  'Unsqueeze', 'Pad', 'GlobalMaxPool', 'Resize', 'ConvTranspose', 'Expand',
];

/**
 * The weights of a node that has any, for code that walks all of them:
 * Dense, Conv2D, ConvTranspose (weight, bias), LayerNorm (scale, bias), Constant (value).
 */
export function weightsOf(op: Op): { weight: Weight; bias: Weight | null } | null {
  switch (op.type) {
    case 'Dense':
    case 'Conv2D':
    case 'ConvTranspose':
      return { weight: op.weight, bias: op.bias };
    case 'LayerNorm':
      return { weight: op.scale, bias: op.bias };
    case 'Constant':
      return { weight: op.value, bias: null };
    default:
      return null;
  }
}

/** Number of elements of a shape (all dims must be known). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

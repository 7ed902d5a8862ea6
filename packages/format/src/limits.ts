// The caps every reader of .hnet enforces, so that a file of a few hundred
// bytes cannot ask for gigabytes or hours (docs/FORMAT.md, "Reader rules").
// packages/runtime-wasm/assembly/limits.ts holds the same numbers (AssemblyScript
// cannot import this file); a runtime test checks they are equal.

/** Elements of any tensor at batch 1, and of any virtual weight: 2^28 floats = 1 GiB. */
export const MAX_ELEMENTS = 2 ** 28;

/** Rank of any shape: tensors, weights, Reshape targets. */
export const MAX_RANK = 8;

/**
 * Work of one example, summed over the nodes: multiply-adds for Dense and Conv2D
 * (output size × product(weight.shape[1..])), ConvTranspose (input size ×
 * product(weight.shape[1..])) and MatMul (output size × K); window reads for
 * MaxPool and AveragePool (output size × KH × KW); input size for ReduceMean,
 * ReduceSum, ReduceMax, GlobalAveragePool and GlobalMaxPool; output size for every other op (validate.ts workOf).
 */
export const MAX_WORK = 2 ** 36;

/** Kernel sizes, strides, pads, dilations and padded spatial axes: at most 2^28 (keeps i32 index arithmetic exact). */
export const MAX_GEOMETRY = 2 ** 28;

/** Largest dimension of a weight, and a Conv2D's group: what an i32 holds. */
export const MAX_DIMENSION = 0x7fffffff;

// The caps of every reader of .hnet (docs/FORMAT.md, "Reader rules"): the same
// numbers as packages/format/src/limits.ts, which this AssemblyScript cannot
// import; test/limits.test.ts reads them through hnet_limit and compares.

/** Elements of any tensor at batch 1, and of any virtual weight: 2^28 floats = 1 GiB. */
export const MAX_ELEMENTS: i64 = 1 << 28;

/** Rank of any shape: tensors, weights, Reshape targets. */
export const MAX_RANK: i32 = 8;

/** Work of one example, summed over the nodes, in multiply-adds: about a minute of one core. */
export const MAX_WORK: f64 = 68719476736; // 2^36

/** Kernel sizes, strides, pads, dilations and padded spatial axes (keeps the kernels' i32 index arithmetic exact). */
export const MAX_GEOMETRY: i64 = 1 << 28;

/** Largest dimension of a weight, and a Conv2D's group. */
export const MAX_DIMENSION: i64 = 0x7fffffff;

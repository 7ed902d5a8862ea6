// The in-memory data set every loader (data.ts) returns and the epoch loop
// (loop.ts) consumes; apart from the loaders so that the browser reaches it
// without Node's file system.

/** Examples stored back to back: x has count · product(shape) values. */
export interface Dataset {
  x: Float32Array;
  /** Class labels, or null for unlabeled data (distillation only). */
  y: Int32Array | null;
  /** Shape of one example, e.g. [28, 28] or [784]. */
  shape: number[];
  count: number;
  /** The file the labels came from, for messages (set by the loaders). */
  labelsFile?: string;
}

/** Examples [from, from + n) of a dataset (views, no copy). */
export function sliceDataset(data: Dataset, from: number, n: number): Dataset {
  const per = data.x.length / data.count;
  return {
    x: data.x.subarray(from * per, (from + n) * per),
    y: data.y ? data.y.subarray(from, from + n) : null,
    shape: [...data.shape],
    count: n,
  };
}

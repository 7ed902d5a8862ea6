// Which input elements a Slice keeps and a Resize reads, shared by both
// engines so that they cut and sample alike (as pooling.ts for the divisor).
// The rules themselves are the format's (sliceRange, resizeSource...), the
// ones the reference forward pass follows.

import { resizedSize, resizeLinear, resizeNearest, resizeSource, sliceRange, type ResizeOp, type SliceOp } from '@hnet/format';

/** One sliced axis: elements start, start + step, … (count of them), step != 0. */
export interface SliceRange {
  axis: number;
  start: number;
  count: number;
  step: number;
}

/** The ranges of a Slice on an input shape, with ONNX's negative indices and clamping (the format's sliceRange). */
export function sliceRanges(op: SliceOp, shape: readonly number[]): SliceRange[] {
  return op.axes.map((a, k) => {
    const axis = a < 0 ? a + shape.length : a;
    const { first, step, length } = sliceRange(shape[axis], op.starts[k], op.ends[k], op.steps[k]);
    return { axis, start: first, count: length, step };
  });
}

/** The output size of a resized axis and its sampling matrix [out, in]. */
export function resizeAxis(op: ResizeOp, inSize: number, axis: 0 | 1): { size: number; matrix: Float32Array } {
  const size = resizedSize(inSize, op.scales[axis]);
  return { size, matrix: resizeMatrix(op, inSize, size, Math.fround(op.scales[axis])) };
}

/**
 * The Resize of one spatial axis as a matrix [out, in]: output element o is
 * Σ_i A[o, i] · x[i]. Nearest has one 1 per row; linear the two weights of
 * the neighbours of the source coordinate, clamped to the input. The scale
 * is float32, as the file stores it and onnxruntime and the reference use it.
 */
function resizeMatrix(op: ResizeOp, inSize: number, outSize: number, scale: number): Float32Array {
  const a = new Float32Array(outSize * inSize);
  for (let o = 0; o < outSize; o++) {
    const source = resizeSource(op.coordinates, o, scale, inSize, outSize);
    if (op.mode === 'nearest') {
      a[o * inSize + resizeNearest(op.nearest, source, inSize)] = 1;
    } else {
      const { low, high, t } = resizeLinear(source, inSize);
      a[o * inSize + low] += 1 - t;
      a[o * inSize + high] += t;
    }
  }
  return a;
}

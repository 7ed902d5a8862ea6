// Which input elements a Slice keeps and a Resize reads, shared by both
// engines so that they cut and sample alike (as pooling.ts for the divisor).

import { resizedSize, sliceRange, type ResizeOp, type SliceOp } from '@hnet/format';

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
    const src = sourceCoordinate(op.coordinates, o, scale, inSize, outSize);
    if (op.mode === 'nearest') {
      a[o * inSize + Math.min(Math.max(nearestIndex(op.nearest, src), 0), inSize - 1)] = 1;
    } else {
      const x = Math.min(Math.max(src, 0), inSize - 1);
      const lo = Math.floor(x);
      const hi = Math.min(lo + 1, inSize - 1);
      a[o * inSize + lo] += 1 - (x - lo);
      a[o * inSize + hi] += x - lo;
    }
  }
  return a;
}

/** ONNX Resize coordinate_transformation_mode, with the scale given (not the size ratio). */
function sourceCoordinate(mode: ResizeOp['coordinates'], o: number, scale: number, inSize: number, outSize: number): number {
  switch (mode) {
    case 'half_pixel':
      return (o + 0.5) / scale - 0.5;
    case 'pytorch_half_pixel':
      return outSize > 1 ? (o + 0.5) / scale - 0.5 : 0;
    case 'asymmetric':
      return o / scale;
    case 'align_corners':
      return outSize > 1 ? (o * (inSize - 1)) / (outSize - 1) : 0;
  }
}

function nearestIndex(mode: ResizeOp['nearest'], x: number): number {
  switch (mode) {
    case 'round_prefer_floor':
      return x - Math.floor(x) === 0.5 ? Math.floor(x) : Math.round(x);
    case 'round_prefer_ceil':
      return x - Math.floor(x) === 0.5 ? Math.ceil(x) : Math.round(x);
    case 'floor':
      return Math.floor(x);
    case 'ceil':
      return Math.ceil(x);
  }
}

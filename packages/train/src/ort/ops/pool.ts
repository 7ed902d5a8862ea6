// Pooling, NCHW.
//   MaxPool: ONNX MaxPool's second output holds the flat index (over all of
//     x) of each window's maximum; dx scatter-adds dy there. On ties the
//     gradient goes to one element (tfjs gives every tied element the full dy).
//     Windows that tile x (LeNet's 2×2 stride 2) skip the indices, whose
//     kernel is slow: dy is spread over each window where x equals the max.
//   AveragePool: x is zero-padded so that every window lies inside, then a
//     plain AveragePool (÷ KH·KW) is rescaled by KH·KW / divisor (the
//     format's divisor: cells inside the input, or its pads if counted).
//     dx spreads dy / divisor over each window: a ConvTranspose with a kernel
//     of ones, one channel per (n, c), cropped back to x.
//   GlobalAveragePool: dx = dy / (H·W) broadcast over the plane.
//   GlobalMaxPool: dy goes to every element equal to its plane's maximum
//     (ties included, as tfjs's max).

import { sizeOf, type AveragePoolOp, type MaxPoolOp, type Op } from '@hnet/format';
import { averageDivisor } from '../../pooling.js';
import type { GraphBuilder } from '../graph.js';
import { transposedConv, type OpRule } from './rule.js';

/** Windows that tile x exactly (kernel = stride, no padding or dilation): the backward needs no indices. */
function tiles(op: MaxPoolOp, xShape: readonly number[]): boolean {
  const [kh, kw] = op.kernel;
  return (
    op.strides[0] === kh && op.strides[1] === kw && op.dilations.every((d) => d === 1) && op.pads.every((p) => p === 0) &&
    xShape[2] % kh === 0 && xShape[3] % kw === 0
  );
}

/** [N, C, OH, OW] → [N, C, OH·KH, OW·KW], each value repeated over its window (nearest-neighbour upsampling). */
function spread(g: GraphBuilder, t: string, kh: number, kw: number): string {
  const scales = g.constant('maxpool.scales', 'float32', [4], Float32Array.of(1, 1, kh, kw));
  return g.op('Resize', [t, '', scales], { mode: 'nearest', nearest_mode: 'floor', coordinate_transformation_mode: 'asymmetric' }, 'maxpool.spread');
}

export const maxPool: OpRule<MaxPoolOp> = {
  forward(g, op, f) {
    const attributes = { kernel_shape: op.kernel, strides: op.strides, pads: op.pads, dilations: op.dilations, ceil_mode: op.ceilMode ? 1 : 0 };
    // A MaxPool without its Indices output runs on onnxruntime's fast pooling kernel.
    if (tiles(op, f.xShapes[0])) return { y: g.op('MaxPool', [f.x[0]], attributes, 'maxpool') };
    const [y, indices] = g.opN('MaxPool', [f.x[0]], 2, attributes, 'maxpool');
    return { y, extra: { indices } }; // y [N, C, OH, OW], indices int64 into x flattened
  },
  backward(g, op, s, dy) {
    const xShape = s.xShapes[0];
    if (!s.extra.indices) {
      // Tiled windows: dy goes to every element equal to its window's maximum (as in tfjs, ties included).
      const [kh, kw] = op.kernel;
      const isMax = g.op('Equal', [s.x[0], spread(g, s.y, kh, kw)]);
      return { dx: [g.op('Where', [isMax, spread(g, dy, kh, kw), g.scalar(0)], {}, 'maxpool.dx')] };
    }
    const zeros = g.op('ConstantOfShape', [g.ints([sizeOf(xShape)])], {}, 'maxpool.zeros');
    const flat = g.op('ScatterElements', [zeros, g.op('Reshape', [s.extra.indices, g.ints([-1])]), g.op('Reshape', [dy, g.ints([-1])])], { axis: 0, reduction: 'add' }, 'maxpool.scatter');
    return { dx: [g.op('Reshape', [flat, g.ints(xShape)], {}, 'maxpool.dx')] };
  },
};

/** Padding that puts every window inside: [top, left, bottom, right]. */
function fullPads(op: AveragePoolOp, xShape: readonly number[], yShape: readonly number[]): [number, number, number, number] {
  const [pt, pl] = op.pads;
  const bottom = Math.max(0, (yShape[2] - 1) * op.strides[0] + op.kernel[0] - pt - xShape[2]);
  const right = Math.max(0, (yShape[3] - 1) * op.strides[1] + op.kernel[1] - pl - xShape[3]);
  return [pt, pl, bottom, right];
}

export const averagePool: OpRule<AveragePoolOp> = {
  forward(g, op, f) {
    const [, , oh, ow] = f.yShape;
    const [pt, pl, pb, pr] = fullPads(op, f.xShapes[0], f.yShape);
    const padded = pt || pl || pb || pr ? g.op('Pad', [f.x[0], g.ints([0, 0, pt, pl, 0, 0, pb, pr])], {}, 'avgpool.pad') : f.x[0];
    const mean = g.op('AveragePool', [padded], { kernel_shape: op.kernel, strides: op.strides }, 'avgpool.mean');
    const area = op.kernel[0] * op.kernel[1];
    const rescale = averageDivisor(f.xShapes[0], op, oh, ow).map((d) => area / d);
    return { y: g.op('Mul', [mean, g.constant('avgpool.rescale', 'float32', [1, 1, oh, ow], rescale)], {}, 'avgpool') };
  },
  backward(g, op, s, dy) {
    const [n, c, h, w] = s.xShapes[0];
    const [, , oh, ow] = s.yShape;
    const [kh, kw] = op.kernel;
    const inverse = averageDivisor(s.xShapes[0], op, oh, ow).map((d) => 1 / d);
    const scaled = g.op('Mul', [dy, g.constant('avgpool.inverse', 'float32', [1, 1, oh, ow], inverse)]);
    const planes = g.op('Reshape', [scaled, g.ints([n * c, 1, oh, ow])]);
    const ones = g.constant('avgpool.ones', 'float32', [1, 1, kh, kw], new Float32Array(kh * kw).fill(1));
    const full: [number, number] = [(oh - 1) * op.strides[0] + kh, (ow - 1) * op.strides[1] + kw];
    const cropped = transposedConv(g, planes, ones, { kernel_shape: [kh, kw], strides: op.strides }, full, [op.pads[0], op.pads[1]], [h, w], 'avgpool.spread');
    return { dx: [g.op('Reshape', [cropped, g.ints([n, c, h, w])], {}, 'avgpool.dx')] };
  },
};

export const globalAveragePool: OpRule<Extract<Op, { type: 'GlobalAveragePool' }>> = {
  forward: (g, op, f) => ({ y: g.op('GlobalAveragePool', [f.x[0]], {}, 'gap') }),
  backward(g, op, s, dy) {
    const xShape = s.xShapes[0];
    const scaled = g.op('Mul', [dy, g.scalar(1 / (xShape[2] * xShape[3]))]);
    return { dx: [g.op('Expand', [scaled, g.ints(xShape)], {}, 'gap.dx')] };
  },
};

export const globalMaxPool: OpRule<Extract<Op, { type: 'GlobalMaxPool' }>> = {
  forward: (g, op, f) => ({ y: g.op('GlobalMaxPool', [f.x[0]], {}, 'gmp') }),
  backward: (g, op, s, dy) => ({ dx: [g.op('Where', [g.op('Equal', [s.x[0], s.y]), dy, g.scalar(0)], {}, 'gmp.dx')] }),
};

// Conv2D: y = conv(x, W) + b, W [M, C/g, KH, KW], NCHW.
//   dx = ConvTranspose(dy, W), cut to x's rows/cols: the forward padding cut
//        off, zero-filled where the last windows did not reach the end of x.
//   dW = a convolution of x by dy with batch and channel axes swapped: the
//        batch becomes the channels summed over, stride and dilation trade
//        places; per group, x's channels of group gi meet dy's of group gi.
//   db = Σ_{N,OH,OW} dy
// ConvTranspose: y = convT(x, W) + b, W [C, M/g, KH, KW], the adjoint of a
// Conv2D from M channels to C with the same W and geometry, so
//   dx = Conv(dy, W) (cut to x where output_padding ≥ stride left a row over)
//   dW = the Conv2D weight gradient of that convolution, with dy as its
//        input and x as its output gradient
//   db = Σ_{N,OH,OW} dy

import type { Conv2DOp, ConvTransposeOp, Pads4, Pair } from '@hnet/format';
import type { GraphBuilder } from '../graph.js';
import { transposedConv, type OpRule } from './rule.js';

interface ConvGeometry {
  weightShape: readonly number[]; // [M, C/g, KH, KW]
  strides: Pair;
  pads: Pads4;
  dilations: Pair;
  group: number;
}

/**
 * ∂loss/∂W [M, C/g, KH, KW] of a convolution x [N, C, H, W] → y [N, M, OH, OW] given dy:
 * x → [C/g, g·N, H, W] (channel index gi·N + n), dy → [M, N, OH, OW], correlated.
 */
function weightGradient(g: GraphBuilder, x: string, xShape: readonly number[], dy: string, yShape: readonly number[], op: ConvGeometry, hint: string): string {
  const [, cg, kh, kw] = op.weightShape;
  const [n, , h, w] = xShape;
  const [, , oh, ow] = yShape;
  const groups = op.group;
  const xs =
    groups === 1
      ? g.op('Transpose', [x], { perm: [1, 0, 2, 3] }, `${hint}.xT`)
      : g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [x, g.ints([n, groups, cg, h, w])])], { perm: [2, 1, 0, 3, 4] }), g.ints([cg, groups * n, h, w])], {}, `${hint}.xT`);
  const dys = g.op('Transpose', [dy], { perm: [1, 0, 2, 3] }, `${hint}.dyT`);
  const corr = g.op('Conv', [xs, dys], { kernel_shape: [oh, ow], strides: op.dilations, dilations: op.strides, pads: op.pads, group: groups }, `${hint}.corr`);
  // corr [C/g, M, KH', KW'] with KH' >= KH: the taps past the kernel are dropped.
  const khFull = Math.floor((h + op.pads[0] + op.pads[2] - ((oh - 1) * op.strides[0] + 1)) / op.dilations[0]) + 1;
  const kwFull = Math.floor((w + op.pads[1] + op.pads[3] - ((ow - 1) * op.strides[1] + 1)) / op.dilations[1]) + 1;
  const taps = khFull === kh && kwFull === kw ? corr : g.op('Slice', [corr, g.ints([0, 0]), g.ints([kh, kw]), g.ints([2, 3])], {}, `${hint}.taps`);
  return g.op('Transpose', [taps], { perm: [1, 0, 2, 3] }, `${hint}.dW`); // [M, C/g, KH, KW]
}

export const conv2d: OpRule<Conv2DOp> = {
  forward(g, op, f) {
    const [, , kh, kw] = op.weight.shape;
    const inputs = [f.x[0], f.weight!];
    if (f.bias) inputs.push(f.bias);
    const y = g.op('Conv', inputs, { kernel_shape: [kh, kw], strides: op.strides, pads: op.pads, dilations: op.dilations, group: op.group }, 'conv');
    return { y }; // [N, M, OH, OW]
  },
  backward(g, op, s, dy, want) {
    const [, , kh, kw] = op.weight.shape;
    const [, , h, w] = s.xShapes[0];
    const [, , oh, ow] = s.yShape;
    const [pt, pl] = op.pads;

    let dx: string | null = null;
    if (want[0]) {
      const full: [number, number] = [(oh - 1) * op.strides[0] + (kh - 1) * op.dilations[0] + 1, (ow - 1) * op.strides[1] + (kw - 1) * op.dilations[1] + 1];
      const attributes = { kernel_shape: [kh, kw], strides: op.strides, dilations: op.dilations, group: op.group };
      dx = transposedConv(g, dy, s.weight!, attributes, full, [pt, pl], [h, w], 'conv.dx'); // [N, C, H, W]
    }
    const dWeight = weightGradient(g, s.x[0], s.xShapes[0], dy, s.yShape, { ...op, weightShape: op.weight.shape }, 'conv');
    const dBias = s.bias ? g.op('ReduceSum', [dy, g.ints([0, 2, 3])], { keepdims: 0 }, 'conv.db') : undefined;
    return { dx: [dx], dWeight, dBias };
  },
};

/** onnxruntime refuses output_padding ≥ stride (ONNX allows it below the dilation). */
const padsPastStride = (op: ConvTransposeOp) => op.outputPadding[0] >= op.strides[0] || op.outputPadding[1] >= op.strides[1];

export const convTranspose: OpRule<ConvTransposeOp> = {
  forward(g, op, f) {
    const [, , kh, kw] = op.weight.shape;
    const geometry = { kernel_shape: [kh, kw], strides: op.strides, dilations: op.dilations, group: op.group };
    if (!padsPastStride(op)) {
      const inputs = f.bias ? [f.x[0], f.weight!, f.bias] : [f.x[0], f.weight!];
      return { y: g.op('ConvTranspose', inputs, { ...geometry, pads: op.pads, output_padding: op.outputPadding }, 'convT') }; // [N, M, OH, OW]
    }
    // Otherwise: the full output without its begin pads, cut or zero-extended at the end to [OH, OW], then the bias.
    const [, m, oh, ow] = f.yShape;
    const [, , h, w] = f.xShapes[0];
    const open = g.op('ConvTranspose', [f.x[0], f.weight!], { ...geometry, pads: [op.pads[0], op.pads[1], 0, 0] }, 'convT.open');
    const openSize = [(h - 1) * op.strides[0] + (kh - 1) * op.dilations[0] + 1 - op.pads[0], (w - 1) * op.strides[1] + (kw - 1) * op.dilations[1] + 1 - op.pads[1]];
    const cut = g.op('Slice', [open, g.ints([0, 0]), g.ints([Math.min(oh, openSize[0]), Math.min(ow, openSize[1])]), g.ints([2, 3])], {}, 'convT.cut');
    const y = g.op('Pad', [cut, g.ints([0, 0, 0, 0, 0, 0, Math.max(0, oh - openSize[0]), Math.max(0, ow - openSize[1])])], {}, 'convT.extended');
    return { y: f.bias ? g.op('Add', [y, g.op('Reshape', [f.bias, g.ints([1, m, 1, 1])])], {}, 'convT') : y };
  },
  backward(g, op, s, dy, want) {
    const [, , kh, kw] = op.weight.shape;
    const [n, c, h, w] = s.xShapes[0];
    let dx: string | null = null;
    if (want[0]) {
      const conv = g.op('Conv', [dy, s.weight!], { kernel_shape: [kh, kw], strides: op.strides, pads: op.pads, dilations: op.dilations, group: op.group }, 'convT.dx');
      // Rows past x's end exist only where output_padding ≥ stride (allowed when below the dilation).
      dx = padsPastStride(op) ? g.op('Slice', [conv, g.ints([0, 0, 0, 0]), g.ints([n, c, h, w])], {}, 'convT.dx') : conv;
    }
    // The adjoint convolution: dy [N, M, OH, OW] → x-shaped [N, C, H, W] by W read as [C, M/g, KH, KW].
    const dWeight = weightGradient(g, dy, s.yShape, s.x[0], s.xShapes[0], { ...op, weightShape: op.weight.shape }, 'convT');
    const dBias = s.bias ? g.op('ReduceSum', [dy, g.ints([0, 2, 3])], { keepdims: 0 }, 'convT.db') : undefined;
    return { dx: [dx], dWeight, dBias };
  },
};

// Conv2D: y = conv(x, W) + b, W [M, C/g, KH, KW], NCHW.
//   dx = ConvTranspose(dy, W), cut to x's rows/cols: the forward padding cut
//        off, zero-filled where the last windows did not reach the end of x.
//   dW = a convolution of x by dy with batch and channel axes swapped: the
//        batch becomes the channels summed over, stride and dilation trade
//        places; per group, x's channels of group gi meet dy's of group gi.
//   db = Σ_{N,OH,OW} dy

import type { Conv2DOp } from '@hnet/format';
import { transposedConv, type OpRule } from './rule.js';

export const conv2d: OpRule<Conv2DOp> = {
  forward(g, op, f) {
    const [, , kh, kw] = op.weight.shape;
    const inputs = [f.x[0], f.weight!];
    if (f.bias) inputs.push(f.bias);
    const y = g.op('Conv', inputs, { kernel_shape: [kh, kw], strides: op.strides, pads: op.pads, dilations: op.dilations, group: op.group }, 'conv');
    return { y }; // [N, M, OH, OW]
  },
  backward(g, op, s, dy, want) {
    const [, cg, kh, kw] = op.weight.shape;
    const [n, , h, w] = s.xShapes[0];
    const [, , oh, ow] = s.yShape;
    const groups = op.group;
    const [pt, pl] = op.pads;

    let dx: string | null = null;
    if (want[0]) {
      const full: [number, number] = [(oh - 1) * op.strides[0] + (kh - 1) * op.dilations[0] + 1, (ow - 1) * op.strides[1] + (kw - 1) * op.dilations[1] + 1];
      const attributes = { kernel_shape: [kh, kw], strides: op.strides, dilations: op.dilations, group: groups };
      dx = transposedConv(g, dy, s.weight!, attributes, full, [pt, pl], [h, w], 'conv.dx'); // [N, C, H, W]
    }

    // x → [C/g, g·N, H, W] (channel index gi·N + n), dy → [M, N, OH, OW].
    const xs =
      groups === 1
        ? g.op('Transpose', [s.x[0]], { perm: [1, 0, 2, 3] }, 'conv.xT')
        : g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [s.x[0], g.ints([n, groups, cg, h, w])])], { perm: [2, 1, 0, 3, 4] }), g.ints([cg, groups * n, h, w])], {}, 'conv.xT');
    const dys = g.op('Transpose', [dy], { perm: [1, 0, 2, 3] }, 'conv.dyT');
    const corr = g.op('Conv', [xs, dys], { kernel_shape: [oh, ow], strides: op.dilations, dilations: op.strides, pads: op.pads, group: groups }, 'conv.corr');
    // corr [C/g, M, KH', KW'] with KH' >= KH: the taps past the kernel are dropped.
    const khFull = Math.floor((h + op.pads[0] + op.pads[2] - ((oh - 1) * op.strides[0] + 1)) / op.dilations[0]) + 1;
    const kwFull = Math.floor((w + op.pads[1] + op.pads[3] - ((ow - 1) * op.strides[1] + 1)) / op.dilations[1]) + 1;
    const taps = khFull === kh && kwFull === kw ? corr : g.op('Slice', [corr, g.ints([0, 0]), g.ints([kh, kw]), g.ints([2, 3])], {}, 'conv.taps');
    const dWeight = g.op('Transpose', [taps], { perm: [1, 0, 2, 3] }, 'conv.dW'); // [M, C/g, KH, KW]
    const dBias = s.bias ? g.op('ReduceSum', [dy, g.ints([0, 2, 3])], { keepdims: 0 }, 'conv.db') : undefined;
    return { dx: [dx], dWeight, dBias };
  },
};

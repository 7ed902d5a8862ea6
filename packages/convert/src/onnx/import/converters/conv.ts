// Conv (dense, grouped and depthwise: Conv2D's group) and ConvTranspose, 2-D only.

import { plainWeight, type Pair } from '@hnet/format';
import { int, ints } from '../attributes.js';
import { converter, LATEST_OPSET } from '../converter.js';
import { plainValues } from '../known.js';
import { refuse } from '../refusal.js';
import { pair, WINDOW_ATTRIBUTES, windowPads } from './window.js';

/** The kernel of a 4-D weight, checked against kernel_shape when it is given. */
function kernelOf(dims: number[], kernelShape: number[] | null): Pair {
  if (dims.length !== 4) refuse(`only 2-D convolution is supported (weight rank ${dims.length})`);
  const kernel: Pair = [dims[2], dims[3]];
  const ks = kernelShape;
  if (ks && (ks.length !== 2 || ks[0] !== kernel[0] || ks[1] !== kernel[1])) refuse(`kernel_shape [${ks}] does not match the weight [${dims}]`);
  return kernel;
}

export const conv = converter({
  opTypes: ['Conv'],
  opsets: [1, LATEST_OPSET],
  attributes: { ...WINDOW_ATTRIBUTES, group: int(1) },
  convert(ctx) {
    const x = ctx.data(0);
    const w = ctx.constant(1, 'weight W');
    const kernel = kernelOf(w.dims, ctx.attrs.kernel_shape);
    const strides = pair(ctx.attrs.strides, 'strides');
    const dilations = pair(ctx.attrs.dilations, 'dilations');
    const pads = windowPads(ctx.attrs, ctx.shape(x), kernel, strides, dilations);
    const m = w.dims[0];
    const bias = ctx.optionalConstant(2, 'bias B');
    if (bias && bias.values.length !== m) refuse(`bias has ${bias.values.length} values for ${m} output channels`);
    ctx.emit({
      type: 'Conv2D',
      weight: plainWeight(Float32Array.from(plainValues(w, 'weight W')), w.dims),
      bias: bias ? plainWeight(Float32Array.from(plainValues(bias, 'bias B')), [m]) : null,
      strides, pads, dilations, group: ctx.attrs.group,
    }, [x]);
  },
});

export const convTranspose = converter({
  opTypes: ['ConvTranspose'],
  opsets: [1, LATEST_OPSET],
  attributes: { ...WINDOW_ATTRIBUTES, group: int(1), output_padding: ints(), output_shape: ints() },
  convert(ctx) {
    const x = ctx.data(0);
    const w = ctx.constant(1, 'weight W');
    const kernel = kernelOf(w.dims, ctx.attrs.kernel_shape);
    if (ctx.attrs.output_shape) refuse('output_shape is not supported; export with explicit pads and output_padding');
    if (ctx.attrs.auto_pad !== 'NOTSET' && ctx.attrs.auto_pad !== 'VALID') refuse(`auto_pad "${ctx.attrs.auto_pad}" is not supported for ConvTranspose; export with explicit pads`);
    const strides = pair(ctx.attrs.strides, 'strides');
    const dilations = pair(ctx.attrs.dilations, 'dilations');
    const pads = windowPads(ctx.attrs, ctx.shape(x), kernel, strides, dilations);
    const op = ctx.attrs.output_padding ?? [0, 0];
    if (op.length !== 2 || op.some((p, i) => !Number.isInteger(p) || p < 0 || (p >= strides[i] && p >= dilations[i]))) {
      refuse(`output_padding [${op}] must be 2 entries, each below its stride or dilation`);
    }
    const group = ctx.attrs.group;
    const m = w.dims[1] * group;
    const bias = ctx.optionalConstant(2, 'bias B');
    if (bias && bias.values.length !== m) refuse(`bias has ${bias.values.length} values for ${m} output channels`);
    ctx.emit({
      type: 'ConvTranspose',
      weight: plainWeight(Float32Array.from(plainValues(w, 'weight W')), w.dims),
      bias: bias ? plainWeight(Float32Array.from(plainValues(bias, 'bias B')), [m]) : null,
      strides, pads, dilations, outputPadding: [op[0], op[1]], group,
    }, [x]);
  },
});

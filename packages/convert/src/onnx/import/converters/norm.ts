// BatchNormalization (inference) and LayerNormalization. A BatchNorm after a
// Dense/Conv2D is folded into it by a pass (../passes/batchnorm.ts).

import { BATCH, plainWeight } from '@hnet/format';
import { float, int, ints } from '../attributes.js';
import { converter, LATEST_OPSET } from '../converter.js';
import { count, plainValues } from '../known.js';
import { refuse } from '../refusal.js';

export const batchNormalization = converter({
  opTypes: ['BatchNormalization'],
  opsets: [1, LATEST_OPSET],
  attributes: { epsilon: float(1e-5), momentum: float(0.9), training_mode: int(0), spatial: int(1), is_test: int(0), consumed_inputs: ints() },
  convert(ctx) {
    if (ctx.attrs.training_mode) refuse('training_mode=1 is not supported; export the model in eval mode');
    if (!ctx.attrs.spatial) refuse('spatial=0 (per-element statistics) is not supported');
    for (const extra of ctx.outputs.slice(1)) {
      if (extra && ctx.used(extra)) refuse(`the training output "${extra}" is used; only inference BatchNormalization is supported`);
    }
    const x = ctx.data(0);
    const [scale, bias, mean, variance] = ['scale', 'B', 'mean', 'var'].map((what, i) => plainValues(ctx.constant(i + 1, what), what));
    const c = scale.length;
    if ([bias, mean, variance].some((t) => t.length !== c)) refuse('scale, B, mean and var must have the same length');
    ctx.emit({
      type: 'BatchNorm',
      scale: Float32Array.from(scale), bias: Float32Array.from(bias),
      mean: Float32Array.from(mean), variance: Float32Array.from(variance), epsilon: ctx.attrs.epsilon,
    }, [x]);
  },
});

export const layerNormalization = converter({
  opTypes: ['LayerNormalization'],
  opsets: [17, LATEST_OPSET],
  attributes: { axis: int(-1), epsilon: float(1e-5), stash_type: int(1) },
  convert(ctx) {
    for (const extra of ctx.outputs.slice(1)) {
      if (extra && ctx.used(extra)) refuse(`the output "${extra}" (mean or inverse deviation) is used; hnet computes only the normalized tensor`);
    }
    const x = ctx.data(0);
    const shape = ctx.shape(x);
    const axis = ctx.attrs.axis < 0 ? ctx.attrs.axis + shape.length : ctx.attrs.axis;
    if (axis < 1 || axis >= shape.length) refuse(`axis ${ctx.attrs.axis} must normalize trailing dimensions of [${shape}], not the batch`);
    const dims = shape.slice(axis);
    if (dims.includes(BATCH)) refuse(`the normalized dimensions [${dims}] must be known`);
    const parameter = (i: number, what: string): Float32Array | null => {
      const k = ctx.optionalConstant(i, what);
      if (!k) return null;
      const v = plainValues(k, what);
      if (v.length === count(dims)) return Float32Array.from(v);
      if (v.length === 1) return new Float32Array(count(dims)).fill(v[0]);
      return refuse(`${what} of shape [${k.dims}] does not match the normalized dimensions [${dims}]`);
    };
    const scale = parameter(1, 'scale') ?? refuse('scale (input 1) is missing');
    const bias = parameter(2, 'bias B');
    ctx.emit({
      type: 'LayerNorm', axis, epsilon: ctx.attrs.epsilon,
      scale: plainWeight(scale, dims), bias: bias ? plainWeight(bias, dims) : null,
    }, [x]);
  },
});

// MaxPool, AveragePool (2-D) and the global poolings.

import type { Pads4, Pair } from '@hnet/format';
import { int } from '../attributes.js';
import { converter, LATEST_OPSET, type ConvertContext } from '../converter.js';
import { refuse } from '../refusal.js';
import { pair, WINDOW_ATTRIBUTES, windowPads } from './window.js';

interface Window { x: string; kernel: Pair; strides: Pair; pads: Pads4; dilations: Pair; ceilMode: boolean }

function window(ctx: ConvertContext<typeof WINDOW_ATTRIBUTES & { ceil_mode: ReturnType<typeof int> }>): Window {
  const { attrs } = ctx;
  const x = ctx.data(0);
  const k = attrs.kernel_shape ?? refuse('missing attribute kernel_shape');
  if (k.length !== 2) refuse(`only 2-D pooling is supported (kernel_shape [${k}])`);
  if (!k.every((v) => Number.isInteger(v) && v >= 1)) refuse(`kernel_shape [${k}] must be positive integers`);
  const kernel = k as Pair;
  const strides = pair(attrs.strides, 'strides');
  const dilations = pair(attrs.dilations, 'dilations');
  const pads = windowPads(attrs, ctx.shape(x), kernel, strides, dilations);
  return { x, kernel, strides, pads, dilations, ceilMode: attrs.ceil_mode !== 0 };
}

export const maxPool = converter({
  opTypes: ['MaxPool'],
  opsets: [1, LATEST_OPSET],
  // storage_order only concerns the Indices output, which is refused.
  attributes: { ...WINDOW_ATTRIBUTES, ceil_mode: int(0), storage_order: int(0) },
  convert(ctx) {
    const indices = ctx.outputs[1];
    if (indices && ctx.used(indices)) refuse('the Indices output is not supported');
    const { x, ...w } = window(ctx);
    ctx.emit({ type: 'MaxPool', ...w }, [x]);
  },
});

export const averagePool = converter({
  opTypes: ['AveragePool'],
  opsets: [1, LATEST_OPSET],
  attributes: { ...WINDOW_ATTRIBUTES, ceil_mode: int(0), count_include_pad: int(0) },
  convert(ctx) {
    const { x, kernel, strides, pads, dilations, ceilMode } = window(ctx);
    if (dilations[0] !== 1 || dilations[1] !== 1) refuse('AveragePool dilations are not supported');
    ctx.emit({ type: 'AveragePool', kernel, strides, pads, ceilMode, countIncludePad: ctx.attrs.count_include_pad !== 0 }, [x]);
  },
});

function global4d(ctx: ConvertContext, type: 'GlobalAveragePool' | 'GlobalMaxPool'): void {
  const x = ctx.data(0);
  if (ctx.shape(x).length !== 4) refuse(`only 4-D inputs [N, C, H, W] are supported, got rank ${ctx.shape(x).length}`);
  ctx.emit({ type }, [x]);
}

export const globalAveragePool = converter({
  opTypes: ['GlobalAveragePool'],
  opsets: [1, LATEST_OPSET],
  attributes: {},
  convert: (ctx) => global4d(ctx, 'GlobalAveragePool'),
});

export const globalMaxPool = converter({
  opTypes: ['GlobalMaxPool'],
  opsets: [1, LATEST_OPSET],
  attributes: {},
  convert: (ctx) => global4d(ctx, 'GlobalMaxPool'),
});

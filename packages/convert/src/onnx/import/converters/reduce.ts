// ReduceMean, ReduceSum, ReduceMax (and, on known values only, ReduceMin/ReduceProd).
// The axes are an attribute until opset 13 (ReduceSum) or 18 (the others), an input after.

import { int, ints } from '../attributes.js';
import { converter, LATEST_OPSET, type Converter, type NodeContext } from '../converter.js';
import { intList, reduceKnown, type Known } from '../known.js';
import { refuse } from '../refusal.js';

const REDUCE_ATTRIBUTES = { axes: ints(), keepdims: int(1), noop_with_empty_axes: int(0) };

/** The axes (null: all), or 'identity' when noop_with_empty_axes and none are given. */
function reduceAxes(ctx: NodeContext<typeof REDUCE_ATTRIBUTES>, k: Known | null, axesInputSince: number, rank: number): number[] | null | 'identity' {
  const axes = ctx.opset < axesInputSince ? ctx.attrs.axes : ctx.has(1) ? intList(k ?? ctx.constant(1, 'axes'), 'axes') : null;
  if (axes === null || axes.length === 0) return ctx.attrs.noop_with_empty_axes ? 'identity' : null;
  return axes.map((a) => (a < 0 ? a + rank : a)).map((a) => (a >= 0 && a < rank ? a : refuse(`axes [${axes}] out of range for rank ${rank}`)));
}

function reduce(opType: string, axesInputSince: number, kind: 'mean' | 'sum' | 'max' | 'min' | 'prod'): Converter<typeof REDUCE_ATTRIBUTES> {
  const hnet = ({ ReduceMean: 'ReduceMean', ReduceSum: 'ReduceSum', ReduceMax: 'ReduceMax' } as const)[opType as 'ReduceMean'];
  return converter({
    opTypes: [opType],
    opsets: [1, LATEST_OPSET],
    attributes: REDUCE_ATTRIBUTES,
    convert(ctx) {
      if (!hnet) refuse(`${opType} is only supported on constants (folded at import)`);
      const x = ctx.data(0);
      const axes = reduceAxes(ctx, null, axesInputSince, ctx.shape(x).length);
      if (axes === 'identity') return ctx.alias(ctx.out, x);
      ctx.emit({ type: hnet, axes, keepdims: ctx.attrs.keepdims !== 0 }, [x]);
    },
    fold(ctx, [x, k]) {
      const axes = reduceAxes(ctx, k, axesInputSince, x!.dims.length);
      return [axes === 'identity' ? x! : reduceKnown(ctx.budget, x!, axes, ctx.attrs.keepdims !== 0, kind)];
    },
  });
}

export const reduceMean = reduce('ReduceMean', 18, 'mean');
export const reduceSum = reduce('ReduceSum', 13, 'sum');
export const reduceMax = reduce('ReduceMax', 18, 'max');
export const reduceMin = reduce('ReduceMin', 18, 'min');
export const reduceProd = reduce('ReduceProd', 18, 'prod');

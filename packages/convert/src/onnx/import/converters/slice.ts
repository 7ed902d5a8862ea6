// Slice, Split (one Slice per output), Gather with a constant index (Slice +
// Squeeze) and Concat (constant parts become Constant nodes).

import { BATCH, type Op } from '@hnet/format';
import { int, ints } from '../attributes.js';
import { converter, LATEST_OPSET, type ConvertContext, type NodeContext } from '../converter.js';
import { concatKnown, gatherKnown, intList, sliceKnown, sliceRange, type Known } from '../known.js';
import { refuse } from '../refusal.js';

interface SliceParams { starts: number[]; ends: number[]; axes: number[]; steps: number[] }

/** Slice parameters: attributes before opset 10, known inputs after. */
function sliceParams(ctx: NodeContext<typeof SLICE_ATTRIBUTES>, inputs: (Known | null)[], rank: number): SliceParams {
  const list = (attr: number[] | null, i: number, what: string): number[] | null => {
    if (ctx.opset < 10) return attr;
    if (!ctx.has(i)) return null;
    return intList(inputs[i] ?? ctx.constant(i, what), what);
  };
  const starts = list(ctx.attrs.starts, 1, 'starts') ?? refuse('missing starts');
  const ends = list(ctx.attrs.ends, 2, 'ends') ?? refuse('missing ends');
  const axes = (list(ctx.attrs.axes, 3, 'axes') ?? starts.map((_, i) => i)).map((a) => (a < 0 ? a + rank : a));
  const steps = list(null, 4, 'steps') ?? starts.map(() => 1);
  if ([ends, axes, steps].some((l) => l.length !== starts.length)) refuse('starts, ends, axes and steps must have the same length');
  if (axes.some((a) => a < 0 || a >= rank)) refuse(`axes [${axes}] out of range for rank ${rank}`);
  if (steps.some((s) => s === 0)) refuse('a step of 0');
  return { starts, ends, axes, steps };
}

const SLICE_ATTRIBUTES = { starts: ints(), ends: ints(), axes: ints() };

/**
 * The hnet Slice of computed data, its bounds clamped to the known sizes
 * (INT64_MAX "to the end" becomes the size). The batch axis is not sliced.
 */
function sliceOp(shape: number[], p: SliceParams): Op {
  const starts: number[] = [];
  const ends: number[] = [];
  p.axes.forEach((axis, i) => {
    const size = shape[axis];
    if (size === BATCH) refuse(`slicing the batch axis ${axis} is not supported`);
    const r = sliceRange(size, p.starts[i], p.ends[i], p.steps[i]);
    starts.push(r.start);
    const end = r.start + r.count * p.steps[i];
    ends.push(end < 0 ? -(size + 1) : end); // a negative end would count from the back: -(size+1) clamps to "before 0"
  });
  return { type: 'Slice', starts, ends, axes: [...p.axes], steps: [...p.steps] };
}

export const slice = converter({
  opTypes: ['Slice'],
  opsets: [1, LATEST_OPSET],
  attributes: SLICE_ATTRIBUTES,
  convert(ctx) {
    const x = ctx.data(0);
    const shape = ctx.shape(x);
    ctx.emit(sliceOp(shape, sliceParams(ctx, [], shape.length)), [x]);
  },
  fold(ctx, inputs) {
    const x = inputs[0]!;
    const p = sliceParams(ctx, inputs, x.dims.length);
    return [sliceKnown(ctx.budget, x, p.starts, p.ends, p.axes, p.steps)];
  },
});

/** The size of each output of a Split along a dimension of `size`. */
function splitSizes(ctx: NodeContext<typeof SPLIT_ATTRIBUTES>, k: Known | null, size: number): number[] {
  const given = ctx.opset < 13 ? ctx.attrs.split : ctx.has(1) ? intList(k ?? ctx.constant(1, 'split'), 'split') : null;
  if (given) {
    if (given.length !== ctx.outputs.length || given.reduce((a, b) => a + b, 0) !== size) {
      refuse(`split [${given}] does not divide a dimension of ${size} into ${ctx.outputs.length} outputs`);
    }
    return given;
  }
  if (size === BATCH) refuse('splitting the batch axis is not supported');
  const n = ctx.attrs.num_outputs ?? ctx.outputs.length;
  // ONNX: equal parts, the last one smaller when the size does not divide.
  const part = Math.ceil(size / n);
  return Array.from({ length: n }, (_, i) => Math.max(0, Math.min(part, size - i * part)));
}

const SPLIT_ATTRIBUTES = { axis: int(0), split: ints(), num_outputs: int(null) };

function splitParams(ctx: NodeContext<typeof SPLIT_ATTRIBUTES>, k: Known | null, shape: number[]): SliceParams[] {
  const rank = shape.length;
  const axis = ctx.attrs.axis < 0 ? ctx.attrs.axis + rank : ctx.attrs.axis;
  if (axis < 0 || axis >= rank) refuse(`axis ${ctx.attrs.axis} out of range for rank ${rank}`);
  if (shape[axis] === BATCH) refuse('splitting the batch axis is not supported');
  let at = 0;
  return splitSizes(ctx, k, shape[axis]).map((n) => {
    at += n;
    return { starts: [at - n], ends: [at], axes: [axis], steps: [1] };
  });
}

export const split = converter({
  opTypes: ['Split'],
  opsets: [1, LATEST_OPSET],
  attributes: SPLIT_ATTRIBUTES,
  convert(ctx: ConvertContext<typeof SPLIT_ATTRIBUTES>) {
    const x = ctx.data(0);
    const shape = ctx.shape(x);
    splitParams(ctx, null, shape).forEach((p, i) => {
      if (ctx.outputs[i]) ctx.emit(sliceOp(shape, p), [x], ctx.outputs[i], i === 0 ? undefined : `${i}`);
    });
  },
  fold: (ctx, [x, k]) => splitParams(ctx, k, x!.dims).map((p) => sliceKnown(ctx.budget, x!, p.starts, p.ends, p.axes, p.steps)),
});

export const gather = converter({
  opTypes: ['Gather'],
  opsets: [1, LATEST_OPSET],
  attributes: { axis: int(0) },
  convert(ctx) {
    const x = ctx.data(0);
    const shape = ctx.shape(x);
    const rank = shape.length;
    const axis = ctx.attrs.axis < 0 ? ctx.attrs.axis + rank : ctx.attrs.axis;
    if (axis < 0 || axis >= rank) refuse(`axis ${ctx.attrs.axis} out of range for rank ${rank}`);
    const indices = ctx.constant(1, 'indices');
    const idx = intList(indices, 'indices');
    if (idx.length !== 1 || indices.dims.length > 1) refuse(`only one constant index is supported on computed data, got indices of shape [${indices.dims}]`);
    if (shape[axis] === BATCH) refuse(`gathering along the batch axis ${axis} is not supported`);
    const i = idx[0] < 0 ? idx[0] + shape[axis] : idx[0];
    if (i < 0 || i >= shape[axis]) refuse(`index ${idx[0]} out of range for a dimension of ${shape[axis]}`);
    const slice: Op = { type: 'Slice', starts: [i], ends: [i + 1], axes: [axis], steps: [1] };
    // A scalar index drops the axis; a 1-D index of one keeps it.
    if (indices.dims.length === 1) return void ctx.emit(slice, [x]);
    const picked = ctx.emit(slice, [x], ctx.temp('slice'), 'slice');
    ctx.emit({ type: 'Squeeze', axes: [axis] }, [picked]);
  },
  fold: (ctx, [x, indices]) => [gatherKnown(ctx.budget, x!, indices!, ctx.attrs.axis)],
});

export const concat = converter({
  opTypes: ['Concat'],
  opsets: [1, LATEST_OPSET],
  attributes: { axis: int(null) },
  convert(ctx) {
    const parts = ctx.inputs.map((_, i) => ctx.operand(i));
    const rank = ctx.shape(parts[0]).length;
    ctx.emit({ type: 'Concat', axis: concatAxis(ctx, rank) }, parts);
  },
  fold: (ctx, parts) => [concatKnown(ctx.budget, parts.map((p) => p!), concatAxis(ctx, parts[0]!.dims.length))],
});

function concatAxis(ctx: NodeContext<{ axis: ReturnType<typeof int<null>> }>, rank: number): number {
  const axis = ctx.attrs.axis ?? (ctx.opset < 4 ? 1 : refuse('missing attribute axis'));
  const a = axis < 0 ? axis + rank : axis;
  return a >= 0 && a < rank ? a : refuse(`axis ${axis} out of range for rank ${rank}`);
}

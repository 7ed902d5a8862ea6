// Ops that rearrange a tensor without computing: Reshape, Flatten, Squeeze,
// Unsqueeze, Transpose, Expand. Their shape operands are known at import;
// an entry that is N·k (the batch size from Shape, times k) becomes the
// constant-shape form hnet stores: 0 (copy the batch dimension) or -1.

import { BATCH } from '@hnet/format';
import { int, ints } from '../attributes.js';
import { converter, LATEST_OPSET, type NodeContext } from '../converter.js';
import { broadcastDims, broadcastIndex, count, dependsOnBatch, intList, pick, sizeList, transposeKnown, type Known } from '../known.js';
import { refuse } from '../refusal.js';

/** The target of a Reshape: from the attribute (opset < 5) or the known second input. */
function reshapeTarget(ctx: NodeContext<typeof RESHAPE_ATTRIBUTES>, k: Known | null): Known {
  if (ctx.opset < 5 || ctx.attrs.shape) {
    const s = ctx.attrs.shape ?? refuse('missing attribute shape');
    return { dims: [s.length], dataType: 7, values: Float64Array.from(s), batch: null };
  }
  const s = k ?? ctx.constant(1, 'shape');
  if (s.dims.length !== 1) refuse(`shape must be 1-D, got [${s.dims}]`);
  return s;
}

const RESHAPE_ATTRIBUTES = { shape: ints(), allowzero: int(0), consumed_inputs: ints() };

function checkEntries(values: ArrayLike<number>): void {
  for (const v of Array.from(values)) if (!Number.isInteger(v) || v < -1) refuse(`shape entry ${v} is not a size, 0 or -1`);
}

export const reshape = converter({
  opTypes: ['Reshape'],
  opsets: [1, LATEST_OPSET],
  attributes: RESHAPE_ATTRIBUTES,
  convert(ctx) {
    const x = ctx.operand(0);
    const xShape = ctx.shape(x);
    const s = reshapeTarget(ctx, null);
    const allowzero = ctx.attrs.allowzero !== 0;
    // Entries a + b·N: constants stay; N·k becomes 0 where it copies the batch dimension, else the one -1.
    const symbolic: number[] = [];
    const target = Array.from(s.values, (a, i) => {
      const b = s.batch ? s.batch[i] : 0;
      if (b === 0) return a;
      if (a === 0 && xShape[i] === BATCH && b === ctx.batchScale(x) && !allowzero) return 0;
      symbolic.push(i);
      return -1;
    });
    const at = symbolic.find((i) => s.values[i] !== 0 || s.batch![i] < 0) ??
      (target.filter((d) => d === -1).length > 1 ? symbolic[symbolic.length - 1] : undefined);
    if (at !== undefined) {
      refuse(`the batch size N lands at position ${at} of the shape; hnet needs it where the input's batch dimension is, or as the one inferred (-1) entry`);
    }
    checkEntries(target);
    if (allowzero && target.includes(0)) refuse('allowzero=1 with a 0 in the shape (an empty dimension) is not supported');
    ctx.emit({ type: 'Reshape', shape: target }, [x]);
  },
  fold(ctx, [x, k]) {
    const s = reshapeTarget(ctx, k);
    if (dependsOnBatch(s)) return null; // a constant reshaped to the batch size: computed at run time
    const target = intList(s, 'shape');
    checkEntries(target);
    const dims = target.map((d, i) => (d === 0 && !ctx.attrs.allowzero ? x!.dims[i] : d));
    const known = dims.filter((d) => d !== -1);
    if (dims.includes(-1)) dims[dims.indexOf(-1)] = count(x!.dims) / count(known);
    if (count(dims) !== count(x!.dims) || !dims.every(Number.isInteger)) refuse(`cannot reshape [${x!.dims}] to [${target}]`);
    return [{ ...x!, dims }];
  },
});

const flattenAxis = (axis: number, rank: number): number => {
  const a = axis < 0 ? axis + rank : axis;
  return a >= 0 && a <= rank ? a : refuse(`axis ${axis} out of range for rank ${rank}`);
};

export const flatten = converter({
  opTypes: ['Flatten'],
  opsets: [1, LATEST_OPSET],
  attributes: { axis: int(1) },
  convert(ctx) {
    const x = ctx.data(0);
    ctx.emit({ type: 'Flatten', axis: flattenAxis(ctx.attrs.axis, ctx.shape(x).length) }, [x]);
  },
  fold(ctx, [x]) {
    const axis = flattenAxis(ctx.attrs.axis, x!.dims.length);
    return [{ ...x!, dims: [count(x!.dims.slice(0, axis)), count(x!.dims.slice(axis))] }];
  },
});

/** Squeeze/Unsqueeze axes: the attribute before opset 13, the known second input after. */
function axesOf(ctx: NodeContext<{ axes: ReturnType<typeof ints> }>, k: Known | null): number[] | null {
  if (ctx.opset < 13) return ctx.attrs.axes;
  if (!ctx.has(1)) return null;
  return intList(k ?? ctx.constant(1, 'axes'), 'axes');
}

const normalized = (axes: number[], rank: number): number[] =>
  axes.map((a) => (a < 0 ? a + rank : a)).map((a) => (a >= 0 && a < rank ? a : refuse(`axis out of range for rank ${rank} in [${axes}]`)));

function squeezeAxes(dims: number[], axes: number[] | null): number[] {
  const chosen = axes === null ? dims.flatMap((d, i) => (d === 1 ? [i] : [])) : normalized(axes, dims.length);
  for (const a of chosen) if (dims[a] !== 1) refuse(`dimension ${a} of [${dims}] is not 1 and cannot be squeezed`);
  return chosen;
}

export const squeeze = converter({
  opTypes: ['Squeeze'],
  opsets: [1, LATEST_OPSET],
  attributes: { axes: ints() },
  convert(ctx) {
    const x = ctx.data(0);
    ctx.emit({ type: 'Squeeze', axes: squeezeAxes(ctx.shape(x), axesOf(ctx, null)) }, [x]);
  },
  fold(ctx, [x, k]) {
    const axes = squeezeAxes(x!.dims, axesOf(ctx, k));
    return [{ ...x!, dims: x!.dims.filter((_, i) => !axes.includes(i)) }];
  },
});

function unsqueezed(dims: number[], axes: number[] | null): { axes: number[]; dims: number[] } {
  if (!axes) refuse('missing axes');
  const rank = dims.length + axes!.length;
  const at = normalized(axes!, rank).sort((p, q) => p - q);
  const out = [...dims];
  for (const a of at) out.splice(a, 0, 1);
  return { axes: at, dims: out };
}

export const unsqueeze = converter({
  opTypes: ['Unsqueeze'],
  opsets: [1, LATEST_OPSET],
  attributes: { axes: ints() },
  convert(ctx) {
    const x = ctx.data(0);
    ctx.emit({ type: 'Unsqueeze', axes: unsqueezed(ctx.shape(x), axesOf(ctx, null)).axes }, [x]);
  },
  fold: (ctx, [x, k]) => [{ ...x!, dims: unsqueezed(x!.dims, axesOf(ctx, k)).dims }],
});

function permOf(perm: number[] | null, rank: number): number[] {
  const p = perm ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (p.length !== rank || [...p].sort((a, b) => a - b).some((v, i) => v !== i)) refuse(`perm [${p}] is not a permutation of ${rank} axes`);
  return p;
}

export const transpose = converter({
  opTypes: ['Transpose'],
  opsets: [1, LATEST_OPSET],
  attributes: { perm: ints() },
  convert(ctx) {
    const x = ctx.data(0);
    ctx.emit({ type: 'Transpose', perm: permOf(ctx.attrs.perm, ctx.shape(x).length) }, [x]);
  },
  fold: (ctx, [x]) => [transposeKnown(ctx.budget, x!, permOf(ctx.attrs.perm, x!.dims.length))],
});

/** Expand's shape: constants, and N (the batch size, from Shape) as -1. */
function expandShape(s: Known): number[] {
  return Array.from(s.values, (a, i) => {
    const b = s.batch ? s.batch[i] : 0;
    if (b === 0) return Number.isInteger(a) && a >= 1 ? a : refuse(`shape entry ${a} is not a size`);
    if (a === 0 && b === 1) return -1;
    return refuse(`shape entry ${i} is ${a} + ${b}·N; hnet can only expand to the batch size N itself`);
  });
}

export const expand = converter({
  opTypes: ['Expand'],
  opsets: [8, LATEST_OPSET],
  attributes: {},
  convert(ctx) {
    const shape = expandShape(ctx.constant(1, 'shape'));
    ctx.emit({ type: 'Expand', shape }, [ctx.operand(0)]);
  },
  fold(ctx, [x, s]) {
    if (dependsOnBatch(s!)) return null; // repeated over the batch at run time (a class token)
    const dims = broadcastDims([x!.dims, sizeList(s!, 'shape')]);
    ctx.budget.charge(count(dims), `an Expand to [${dims}]`);
    return [pick(x!, dims, broadcastIndex(x!.dims, dims))];
  },
});

// Ops that move or combine values: Flatten, Reshape, Squeeze and Unsqueeze
// (the gradient takes the input's shape back), Transpose (the inverse
// permutation), Concat (split back), Slice (dy padded, or scattered, into
// zeros), Pad (dy cropped), Expand and Add (with broadcasting: the gradient
// sums over the broadcast axes), the inference-only BatchNorm (a fixed
// per-channel affine map from the stored statistics, as the tfjs engine
// treats it; nothing of it is trained) and Constant (a trainable value:
// its gradient is dy).

import { normalizeAxis, sizeOf, type BatchNormOp, type Op, type SliceOp } from '@hnet/format';
import { sliceRanges } from '../../sampling.js';
import type { GraphBuilder } from '../graph.js';
import { unbroadcast, type OpRule } from './rule.js';

type OpOf<T extends Op['type']> = Extract<Op, { type: T }>;

/** Forward: x reshaped to the output's (static) shape; backward: dy back to x's. */
function reshapeRule<T extends Op>(hint: string): OpRule<T> {
  return {
    forward: (g, op, f) => ({ y: g.op('Reshape', [f.x[0], g.ints(f.yShape)], {}, hint) }),
    backward: (g, op, s, dy) => ({ dx: [g.op('Reshape', [dy, g.ints(s.xShapes[0])], {}, `${hint}.dx`)] }),
  };
}

export const flatten = reshapeRule<OpOf<'Flatten'>>('flatten');
export const reshape = reshapeRule<OpOf<'Reshape'>>('reshape');
export const squeeze = reshapeRule<OpOf<'Squeeze'>>('squeeze');
export const unsqueeze = reshapeRule<OpOf<'Unsqueeze'>>('unsqueeze');

export const transpose: OpRule<OpOf<'Transpose'>> = {
  forward: (g, op, f) => ({ y: g.op('Transpose', [f.x[0]], { perm: op.perm }, 'transpose') }),
  backward(g, op, s, dy) {
    const inverse = op.perm.map((_, k) => op.perm.indexOf(k));
    return { dx: [g.op('Transpose', [dy], { perm: inverse }, 'transpose.dx')] };
  },
};

/** dx_k = the part of dy along the axis that input k filled. */
export const concat: OpRule<OpOf<'Concat'>> = {
  forward: (g, op, f) => ({ y: g.op('Concat', f.x, { axis: normalizeAxis(op.axis, f.xShapes[0].length, f.where) }, 'concat') }),
  backward(g, op, s, dy, want) {
    if (s.x.length === 1) return { dx: [dy] };
    const axis = normalizeAxis(op.axis, s.xShapes[0].length, s.where);
    const parts = g.opN('Split', [dy, g.ints(s.xShapes.map((shape) => shape[axis]))], s.x.length, { axis }, 'concat.dx');
    return { dx: parts.map((d, k) => (want[k] ? d : null)) };
  },
};

/**
 * Forward: ONNX Slice (which clamps as the format says). Backward: unit
 * steps pad dy back to x's shape with zeros; other steps scatter dy into
 * zeros at the flat indices of the kept elements (sampling.ts's ranges).
 */
export const slice: OpRule<SliceOp> = {
  forward: (g, op, f) => ({
    y: g.op('Slice', [f.x[0], g.ints(op.starts), g.ints(op.ends), g.ints(op.axes), g.ints(op.steps)], {}, 'slice'),
  }),
  backward(g, op, s, dy) {
    const xShape = s.xShapes[0];
    const ranges = sliceRanges(op, xShape);
    if (ranges.every((r) => r.step === 1)) {
      const pads = new Array<number>(2 * xShape.length).fill(0);
      for (const r of ranges) {
        pads[r.axis] = r.start;
        pads[xShape.length + r.axis] = xShape[r.axis] - r.start - r.count;
      }
      return { dx: [g.op('Pad', [dy, g.ints(pads)], {}, 'slice.dx')] };
    }
    const index = keptIndices(xShape, s.yShape, ranges);
    const zeros = g.op('ConstantOfShape', [g.ints([sizeOf(xShape)])], {}, 'slice.zeros');
    const at = g.constant('slice.index', 'int64', [index.length], index);
    const flat = g.op('ScatterElements', [zeros, at, g.op('Reshape', [dy, g.ints([-1])])], { axis: 0 }, 'slice.scatter');
    return { dx: [g.op('Reshape', [flat, g.ints(xShape)], {}, 'slice.dx')] };
  },
};

/** The flat index in x of each element of the slice, in the slice's row-major order. */
function keptIndices(xShape: readonly number[], yShape: readonly number[], ranges: ReturnType<typeof sliceRanges>): BigInt64Array {
  const first = xShape.map(() => 0);
  const step = xShape.map(() => 1);
  for (const r of ranges) {
    first[r.axis] = r.start;
    step[r.axis] = r.step;
  }
  const strides = xShape.map((_, k) => sizeOf(xShape.slice(k + 1)));
  const out = new BigInt64Array(sizeOf(yShape));
  for (let i = 0; i < out.length; i++) {
    let rest = i;
    let flat = 0;
    for (let k = yShape.length - 1; k >= 0; k--) {
      const j = rest % yShape[k];
      rest = Math.floor(rest / yShape[k]);
      flat += (first[k] + j * step[k]) * strides[k];
    }
    out[i] = BigInt(flat);
  }
  return out;
}

/** Constant-mode padding; dx = dy cropped back to x. */
export const pad: OpRule<OpOf<'Pad'>> = {
  forward: (g, op, f) => ({ y: g.op('Pad', [f.x[0], g.ints(op.pads), g.scalar(op.value)], { mode: 'constant' }, 'pad') }),
  backward(g, op, s, dy) {
    const xShape = s.xShapes[0];
    const begins = op.pads.slice(0, xShape.length);
    return { dx: [g.op('Slice', [dy, g.ints(begins), g.ints(begins.map((b, k) => b + xShape[k]))], {}, 'pad.dx')] };
  },
};

export const expand: OpRule<OpOf<'Expand'>> = {
  forward: (g, op, f) => ({ y: g.op('Expand', [f.x[0], g.ints(f.yShape)], {}, 'expand') }),
  backward: (g, op, s, dy) => ({ dx: [unbroadcast(g, dy, s.yShape, s.xShapes[0], 'expand.dx')] }),
};

/** y = the (virtual) value; its gradient is dy. */
export const constant: OpRule<OpOf<'Constant'>> = {
  forward: (g, op, f) => ({ y: f.weight! }),
  backward: (g, op, s, dy) => ({ dx: [], dWeight: dy }),
};

/** y = x · mul + add per channel (axis 1), mul = scale / √(var + ε), add = bias − mean · mul; dx = dy · mul. */
function batchNormConstants(g: GraphBuilder, op: BatchNormOp, rank: number): { mul: string; add: string } {
  const c = op.scale.length;
  const dims = Array.from({ length: rank }, (_, k) => (k === 1 ? c : 1));
  const mul = new Float32Array(c);
  const add = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    mul[k] = op.scale[k] / Math.sqrt(op.variance[k] + op.epsilon);
    add[k] = op.bias[k] - op.mean[k] * mul[k];
  }
  return { mul: g.constant('bn.mul', 'float32', dims, mul), add: g.constant('bn.add', 'float32', dims, add) };
}

export const batchNorm: OpRule<BatchNormOp> = {
  forward(g, op, f) {
    const { mul, add } = batchNormConstants(g, op, f.xShapes[0].length);
    return { y: g.op('Add', [g.op('Mul', [f.x[0], mul]), add], {}, 'bn'), extra: { mul } };
  },
  backward: (g, op, s, dy) => ({ dx: [g.op('Mul', [dy, s.extra.mul], {}, 'bn.dx')] }),
};

export const add: OpRule<OpOf<'Add'>> = {
  forward: (g, op, f) => ({ y: g.op('Add', [f.x[0], f.x[1]], {}, 'add') }),
  backward: (g, op, s, dy, want) => ({
    dx: s.xShapes.map((shape, k) => (want[k] ? unbroadcast(g, dy, s.yShape, shape, 'add.dx') : null)),
  }),
};

// Ops that move or combine values without weights: Flatten and Reshape (the
// gradient takes the input's shape back), the inference-only BatchNorm (a
// fixed per-channel affine map from the stored statistics, as the tfjs
// engine treats it; nothing of it is trained) and Add (with broadcasting:
// the gradient sums over the broadcast axes).

import type { BatchNormOp, Op } from '@hnet/format';
import type { GraphBuilder } from '../graph.js';
import type { OpRule } from './rule.js';

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
    dx: s.xShapes.map((shape, k) => (want[k] ? unbroadcast(g, dy, s.yShape, shape) : null)),
  }),
};

/** Sums dy [yShape] over the axes a broadcast of [shape] expanded, back to [shape]. */
function unbroadcast(g: GraphBuilder, dy: string, yShape: readonly number[], shape: readonly number[]): string {
  const lead = yShape.length - shape.length;
  const axes = yShape.map((d, k) => k).filter((k) => k < lead || (shape[k - lead] === 1 && yShape[k] !== 1));
  if (axes.length === 0) return dy;
  const summed = g.op('ReduceSum', [dy, g.ints(axes)], { keepdims: 1 });
  return g.op('Reshape', [summed, g.ints(shape)], {}, 'add.dx');
}

// Reductions over constant axes (all axes when none are given). The backward
// reshapes dy to the kept-dims shape and broadcasts it back over x:
// ReduceSum copies it, ReduceMean divides by the count reduced, ReduceMax
// sends it to every element equal to the maximum (ties included, as tfjs).

import { normalizeAxis, sizeOf, type ReduceOp } from '@hnet/format';
import type { OpRule } from './rule.js';

function reducedAxes(op: ReduceOp, rank: number, where: string): number[] {
  return op.axes === null ? [...Array(rank).keys()] : op.axes.map((a) => normalizeAxis(a, rank, where));
}

export const reduce: OpRule<ReduceOp> = {
  forward(g, op, f) {
    const axes = reducedAxes(op, f.xShapes[0].length, f.where);
    return { y: g.op(op.type, [f.x[0], g.ints(axes)], { keepdims: op.keepdims ? 1 : 0 }, op.type.toLowerCase()) };
  },
  backward(g, op, s, dy) {
    const xShape = s.xShapes[0];
    const axes = reducedAxes(op, xShape.length, s.where);
    const kept = xShape.map((d, k) => (axes.includes(k) ? 1 : d));
    const spread = g.op('Reshape', [dy, g.ints(kept)]); // broadcasts over x below
    const hint = `${op.type.toLowerCase()}.dx`;
    if (op.type === 'ReduceMax') {
      const isMax = g.op('Equal', [s.x[0], g.op('Reshape', [s.y, g.ints(kept)])]);
      return { dx: [g.op('Where', [isMax, spread, g.scalar(0)], {}, hint)] };
    }
    const scaled = op.type === 'ReduceMean' ? g.op('Mul', [spread, g.scalar(sizeOf(kept) / sizeOf(xShape))]) : spread;
    return { dx: [g.op('Expand', [scaled, g.ints(xShape)], {}, hint)] };
  },
};

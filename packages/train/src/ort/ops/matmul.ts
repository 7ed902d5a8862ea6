// MatMul of two computed tensors, rank >= 2, batch dims broadcast (numpy):
//   y = a · b            [..., M, K] · [..., K, N] → [..., M, N]
//   da = dy · bᵀ         summed back over the batch dims a was broadcast along
//   db = aᵀ · dy         likewise for b

import type { Op } from '@hnet/format';
import type { GraphBuilder } from '../graph.js';
import { unbroadcast, type OpRule } from './rule.js';

/** The last two axes swapped. */
function transposed(g: GraphBuilder, t: string, rank: number): string {
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return g.op('Transpose', [t], { perm }, 'matmul.T');
}

export const matMul: OpRule<Extract<Op, { type: 'MatMul' }>> = {
  forward: (g, op, f) => ({ y: g.op('MatMul', [f.x[0], f.x[1]], {}, 'matmul') }),
  backward(g, op, s, dy, want) {
    const [aShape, bShape] = s.xShapes;
    const lead = s.yShape.slice(0, -2);
    const da = () => unbroadcast(g, g.op('MatMul', [dy, transposed(g, s.x[1], bShape.length)]), [...lead, ...aShape.slice(-2)], aShape, 'matmul.da');
    const db = () => unbroadcast(g, g.op('MatMul', [transposed(g, s.x[0], aShape.length), dy]), [...lead, ...bShape.slice(-2)], bShape, 'matmul.db');
    return { dx: [want[0] ? da() : null, want[1] ? db() : null] };
  },
};

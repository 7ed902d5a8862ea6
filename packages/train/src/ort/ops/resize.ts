// Resize of H and W (nearest or linear) as two products with constant
// sampling matrices A [out, in] (sampling.ts, shared with the tfjs engine):
//   y = A_h · x · A_wᵀ        [OH, H] · [N, C, H, W] · [W, OW] → [N, C, OH, OW]
//   dx = A_hᵀ · dy · A_w      the scatter-add of nearest, the weight spread of linear

import type { ResizeOp } from '@hnet/format';
import { resizeAxis } from '../../sampling.js';
import type { GraphBuilder } from '../graph.js';
import type { OpRule } from './rule.js';

/** A_h [OH, H] and A_w [OW, W], each as a constant or its transpose (the forward needs A_h, A_wᵀ; the backward A_hᵀ, A_w). */
function matrices(g: GraphBuilder, op: ResizeOp, xShape: readonly number[], transposeH: boolean, transposeW: boolean): { h: string; w: string } {
  const [, , h, w] = xShape;
  const constant = (hint: string, size: number, a: { size: number; matrix: Float32Array }, transpose: boolean) => {
    if (!transpose) return g.constant(hint, 'float32', [a.size, size], a.matrix);
    const t = Float32Array.from({ length: a.matrix.length }, (_, k) => a.matrix[(k % a.size) * size + Math.floor(k / a.size)]);
    return g.constant(`${hint}T`, 'float32', [size, a.size], t);
  };
  return { h: constant('resize.ah', h, resizeAxis(op, h, 0), transposeH), w: constant('resize.aw', w, resizeAxis(op, w, 1), transposeW) };
}

export const resize: OpRule<ResizeOp> = {
  forward(g, op, f) {
    const a = matrices(g, op, f.xShapes[0], false, true);
    return { y: g.op('MatMul', [a.h, g.op('MatMul', [f.x[0], a.w])], {}, 'resize') };
  },
  backward(g, op, s, dy) {
    const a = matrices(g, op, s.xShapes[0], true, false);
    return { dx: [g.op('MatMul', [a.h, g.op('MatMul', [dy, a.w])], {}, 'resize.dx')] };
  },
};

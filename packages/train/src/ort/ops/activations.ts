// Elementwise activations and (Log)Softmax on one axis, each with its
// derivative written from the saved input x or output y.

import { normalizeAxis, type Op } from '@hnet/format';
import { float, type GraphBuilder } from '../graph.js';
import type { OpRule } from './rule.js';

type OpOf<T extends Op['type']> = Extract<Op, { type: T }>;

/** dx = dy · [x > 0] (the derivative at 0 is 0, as in tfjs). */
export const relu: OpRule<OpOf<'Relu'>> = {
  forward: (g, op, f) => ({ y: g.op('Relu', [f.x[0]], {}, 'relu') }),
  backward: (g, op, s, dy) => ({ dx: [g.op('Where', [positive(g, s.x[0]), dy, g.scalar(0)], {}, 'relu.dx')] }),
};

/** dx = dy · (x > 0 ? 1 : alpha). */
export const leakyRelu: OpRule<OpOf<'LeakyRelu'>> = {
  forward: (g, op, f) => ({ y: g.op('LeakyRelu', [f.x[0]], { alpha: float(op.alpha) }, 'leaky') }),
  backward: (g, op, s, dy) => ({
    dx: [g.op('Where', [positive(g, s.x[0]), dy, g.op('Mul', [dy, g.scalar(op.alpha)])], {}, 'leaky.dx')],
  }),
};

/** dx = dy · y · (1 − y). */
export const sigmoid: OpRule<OpOf<'Sigmoid'>> = {
  forward: (g, op, f) => ({ y: g.op('Sigmoid', [f.x[0]], {}, 'sigmoid') }),
  backward: (g, op, s, dy) => ({
    dx: [g.op('Mul', [dy, g.op('Mul', [s.y, g.op('Sub', [g.scalar(1), s.y])])], {}, 'sigmoid.dx')],
  }),
};

/** dx = dy · (1 − y²). */
export const tanh: OpRule<OpOf<'Tanh'>> = {
  forward: (g, op, f) => ({ y: g.op('Tanh', [f.x[0]], {}, 'tanh') }),
  backward: (g, op, s, dy) => ({
    dx: [g.op('Mul', [dy, g.op('Sub', [g.scalar(1), g.op('Mul', [s.y, s.y])])], {}, 'tanh.dx')],
  }),
};

/** dx = y · (dy − Σ_axis dy·y). */
export const softmax: OpRule<OpOf<'Softmax'>> = {
  forward: (g, op, f) => ({ y: g.op('Softmax', [f.x[0]], { axis: normalizeAxis(op.axis, f.xShapes[0].length, f.where) }, 'softmax') }),
  backward(g, op, s, dy) {
    const axis = normalizeAxis(op.axis, s.xShapes[0].length, s.where);
    const dot = g.op('ReduceSum', [g.op('Mul', [dy, s.y]), g.ints([axis])], { keepdims: 1 });
    return { dx: [g.op('Mul', [s.y, g.op('Sub', [dy, dot])], {}, 'softmax.dx')] };
  },
};

/** dx = dy − exp(y) · Σ_axis dy. */
export const logSoftmax: OpRule<OpOf<'LogSoftmax'>> = {
  forward: (g, op, f) => ({ y: g.op('LogSoftmax', [f.x[0]], { axis: normalizeAxis(op.axis, f.xShapes[0].length, f.where) }, 'logsoftmax') }),
  backward(g, op, s, dy) {
    const axis = normalizeAxis(op.axis, s.xShapes[0].length, s.where);
    const total = g.op('ReduceSum', [dy, g.ints([axis])], { keepdims: 1 });
    return { dx: [g.op('Sub', [dy, g.op('Mul', [g.op('Exp', [s.y]), total])], {}, 'logsoftmax.dx')] };
  },
};

function positive(g: GraphBuilder, x: string): string {
  return g.op('Greater', [x, g.scalar(0)], {}, 'positive');
}

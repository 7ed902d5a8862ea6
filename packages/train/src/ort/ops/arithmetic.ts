// Element-wise arithmetic. Mul, Sub and Div broadcast their inputs (numpy):
// each input's gradient is summed back over the axes it was broadcast along.
// The unary ops write their derivative from the saved input x or output y.

import type { Op } from '@hnet/format';
import { unbroadcast, type OpRule } from './rule.js';

type OpOf<T extends Op['type']> = Extract<Op, { type: T }>;

/** y = a · b; da = dy · b, db = dy · a. */
export const mul: OpRule<OpOf<'Mul'>> = {
  forward: (g, op, f) => ({ y: g.op('Mul', [f.x[0], f.x[1]], {}, 'mul') }),
  backward: (g, op, s, dy, want) => ({
    dx: [
      want[0] ? unbroadcast(g, g.op('Mul', [dy, s.x[1]]), s.yShape, s.xShapes[0], 'mul.da') : null,
      want[1] ? unbroadcast(g, g.op('Mul', [dy, s.x[0]]), s.yShape, s.xShapes[1], 'mul.db') : null,
    ],
  }),
};

/** y = a − b; da = dy, db = −dy. */
export const sub: OpRule<OpOf<'Sub'>> = {
  forward: (g, op, f) => ({ y: g.op('Sub', [f.x[0], f.x[1]], {}, 'sub') }),
  backward: (g, op, s, dy, want) => ({
    dx: [
      want[0] ? unbroadcast(g, dy, s.yShape, s.xShapes[0], 'sub.da') : null,
      want[1] ? unbroadcast(g, g.op('Neg', [dy]), s.yShape, s.xShapes[1], 'sub.db') : null,
    ],
  }),
};

/** y = a / b; da = dy / b, db = −dy · y / b. */
export const div: OpRule<OpOf<'Div'>> = {
  forward: (g, op, f) => ({ y: g.op('Div', [f.x[0], f.x[1]], {}, 'div') }),
  backward: (g, op, s, dy, want) => ({
    dx: [
      want[0] ? unbroadcast(g, g.op('Div', [dy, s.x[1]]), s.yShape, s.xShapes[0], 'div.da') : null,
      want[1] ? unbroadcast(g, g.op('Neg', [g.op('Div', [g.op('Mul', [dy, s.y]), s.x[1]])]), s.yShape, s.xShapes[1], 'div.db') : null,
    ],
  }),
};

/** y = x^e; dx = dy · e · x^(e−1). */
export const pow: OpRule<OpOf<'Pow'>> = {
  forward: (g, op, f) => ({ y: g.op('Pow', [f.x[0], g.scalar(op.exponent)], {}, 'pow') }),
  backward: (g, op, s, dy) => ({
    dx: [g.op('Mul', [dy, g.op('Mul', [g.op('Pow', [s.x[0], g.scalar(op.exponent - 1)]), g.scalar(op.exponent)])], {}, 'pow.dx')],
  }),
};

/** dx = dy / (2y). */
export const sqrt: OpRule<OpOf<'Sqrt'>> = {
  forward: (g, op, f) => ({ y: g.op('Sqrt', [f.x[0]], {}, 'sqrt') }),
  backward: (g, op, s, dy) => ({ dx: [g.op('Div', [dy, g.op('Mul', [s.y, g.scalar(2)])], {}, 'sqrt.dx')] }),
};

/** dx = dy · y. */
export const exp: OpRule<OpOf<'Exp'>> = {
  forward: (g, op, f) => ({ y: g.op('Exp', [f.x[0]], {}, 'exp') }),
  backward: (g, op, s, dy) => ({ dx: [g.op('Mul', [dy, s.y], {}, 'exp.dx')] }),
};

/** dx = dy · 2/√π · exp(−x²). */
export const erf: OpRule<OpOf<'Erf'>> = {
  forward: (g, op, f) => ({ y: g.op('Erf', [f.x[0]], {}, 'erf') }),
  backward(g, op, s, dy) {
    const bell = g.op('Exp', [g.op('Neg', [g.op('Mul', [s.x[0], s.x[0]])])]);
    return { dx: [g.op('Mul', [dy, g.op('Mul', [bell, g.scalar(2 / Math.sqrt(Math.PI))])], {}, 'erf.dx')] };
  },
};

/** dx = −dy. */
export const neg: OpRule<OpOf<'Neg'>> = {
  forward: (g, op, f) => ({ y: g.op('Neg', [f.x[0]], {}, 'neg') }),
  backward: (g, op, s, dy) => ({ dx: [g.op('Neg', [dy], {}, 'neg.dx')] }),
};

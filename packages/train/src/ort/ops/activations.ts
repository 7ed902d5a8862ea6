// Elementwise activations (Relu, LeakyRelu, Sigmoid, Tanh, Clip, HardSigmoid,
// HardSwish, Gelu) and (Log)Softmax on one axis, each with its derivative
// written from the saved input x or output y.

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

/** x ≥ lo and x ≤ hi: where a clipped value follows its input (bounds included, as tfjs's gradients). */
function inside(g: GraphBuilder, x: string, lo: number | null, hi: number | null): string | null {
  const above = lo === null ? null : g.op('GreaterOrEqual', [x, g.scalar(lo)]);
  const below = hi === null ? null : g.op('LessOrEqual', [x, g.scalar(hi)]);
  return above && below ? g.op('And', [above, below], {}, 'inside') : above ?? below;
}

/** y = min(max(x, min), max); dx = dy inside the bounds, else 0. */
export const clip: OpRule<OpOf<'Clip'>> = {
  forward(g, op, f) {
    const bounds = [op.min === null ? '' : g.scalar(op.min), ...(op.max === null ? [] : [g.scalar(op.max)])];
    return { y: g.op('Clip', [f.x[0], ...bounds], {}, 'clip') };
  },
  backward(g, op, s, dy) {
    const mask = inside(g, s.x[0], op.min, op.max);
    return { dx: [mask ? g.op('Where', [mask, dy, g.scalar(0)], {}, 'clip.dx') : dy] };
  },
};

/** y = clamp(αx + β, 0, 1); dx = dy · α where αx + β is inside [0, 1]. */
export const hardSigmoid: OpRule<OpOf<'HardSigmoid'>> = {
  forward: (g, op, f) => ({ y: g.op('HardSigmoid', [f.x[0]], { alpha: float(op.alpha), beta: float(op.beta) }, 'hardsigmoid') }),
  backward(g, op, s, dy) {
    const v = g.op('Add', [g.op('Mul', [s.x[0], g.scalar(op.alpha)]), g.scalar(op.beta)]);
    return { dx: [g.op('Where', [inside(g, v, 0, 1)!, g.op('Mul', [dy, g.scalar(op.alpha)]), g.scalar(0)], {}, 'hardsigmoid.dx')] };
  },
};

/** y = x · h, h = clamp(x/6 + 1/2, 0, 1); dx = dy · (h + x/6 where x/6 + 1/2 is inside [0, 1]). */
export const hardSwish: OpRule<OpOf<'HardSwish'>> = {
  forward: (g, op, f) => ({ y: g.op('HardSwish', [f.x[0]], {}, 'hardswish') }),
  backward(g, op, s, dy) {
    const sixth = g.op('Mul', [s.x[0], g.scalar(1 / 6)]);
    const v = g.op('Add', [sixth, g.scalar(0.5)]);
    const h = g.op('Clip', [v, g.scalar(0), g.scalar(1)]);
    const slope = g.op('Add', [h, g.op('Where', [inside(g, v, 0, 1)!, sixth, g.scalar(0)])]);
    return { dx: [g.op('Mul', [dy, slope], {}, 'hardswish.dx')] };
  },
};

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

/**
 * Exact: y = x · Φ(x), Φ(x) = (1 + erf(x/√2)) / 2; dx = dy · (Φ(x) + x · exp(−x²/2)/√(2π)).
 * Tanh: y = x/2 · (1 + t), t = tanh(c·(x + a·x³));
 *       dx = dy · ((1 + t)/2 + x/2 · (1 − t²) · c · (1 + 3a·x²)).
 */
export const gelu: OpRule<OpOf<'Gelu'>> = {
  forward(g, op, f): { y: string; extra: Record<string, string> } {
    const x = f.x[0];
    const half = g.op('Mul', [x, g.scalar(0.5)]);
    if (!op.tanhApproximation) {
      const phi2 = g.op('Add', [g.op('Erf', [g.op('Mul', [x, g.scalar(Math.SQRT1_2)])]), g.scalar(1)]); // 2Φ(x)
      return { y: g.op('Mul', [half, phi2], {}, 'gelu'), extra: { phi2 } };
    }
    const cube = g.op('Mul', [g.op('Mul', [x, x]), x]);
    const t = g.op('Tanh', [g.op('Mul', [g.op('Add', [x, g.op('Mul', [cube, g.scalar(GELU_A)])]), g.scalar(GELU_C)])]);
    return { y: g.op('Mul', [half, g.op('Add', [t, g.scalar(1)])], {}, 'gelu'), extra: { t } };
  },
  backward(g, op, s, dy) {
    const x = s.x[0];
    const x2 = g.op('Mul', [x, x]);
    const half = g.op('Mul', [x, g.scalar(0.5)]);
    if (!op.tanhApproximation) {
      const density = g.op('Mul', [g.op('Exp', [g.op('Mul', [x2, g.scalar(-0.5)])]), g.scalar(1 / Math.sqrt(2 * Math.PI))]);
      const slope = g.op('Add', [g.op('Mul', [s.extra.phi2, g.scalar(0.5)]), g.op('Mul', [x, density])]);
      return { dx: [g.op('Mul', [dy, slope], {}, 'gelu.dx')] };
    }
    const t = s.extra.t;
    const sech2 = g.op('Sub', [g.scalar(1), g.op('Mul', [t, t])]);
    const inner = g.op('Mul', [g.op('Add', [g.scalar(1), g.op('Mul', [x2, g.scalar(3 * GELU_A)])]), g.scalar(GELU_C)]);
    const slope = g.op('Add', [g.op('Mul', [g.op('Add', [t, g.scalar(1)]), g.scalar(0.5)]), g.op('Mul', [half, g.op('Mul', [sech2, inner])])]);
    return { dx: [g.op('Mul', [dy, slope], {}, 'gelu.dx')] };
  },
};

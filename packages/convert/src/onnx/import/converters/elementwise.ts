// Element-wise ops: activations and math of one input, arithmetic of two with
// numpy broadcasting. On known inputs the activations are evaluated by the
// reference forward pass (the driver's evaluate), the definition of what hnet
// computes; the arithmetic has folds of its own, since shape arithmetic is
// integer and may involve the batch size (value a + b·N), which they keep exact.

import type { Op } from '@hnet/format';
import { float, int, ints, string, type AttrSpec, type AttrValues } from '../attributes.js';
import { converter, LATEST_OPSET, type Converter, type NodeContext } from '../converter.js';
import { elementwise, plainValues, type Affine } from '../known.js';
import { DataType } from '../../proto.js';
import { refuse } from '../refusal.js';

const LEGACY = { consumed_inputs: ints() }; // opset < 6: an optimization hint, meaningless here

/** One converter for an op of one input that maps to one hnet op. */
function unary<S extends AttrSpec>(opType: string, opsets: [number, number], attributes: S, toOp: (a: AttrValues<S>) => Op): Converter<S> {
  return converter({
    opTypes: [opType],
    opsets,
    attributes,
    convert: (ctx) => void ctx.emit(toOp(ctx.attrs), [ctx.data(0)]),
  });
}

export const relu = unary('Relu', [1, LATEST_OPSET], LEGACY, () => ({ type: 'Relu' }));
export const leakyRelu = unary('LeakyRelu', [1, LATEST_OPSET], { ...LEGACY, alpha: float(0.01) }, (a) => ({ type: 'LeakyRelu', alpha: a.alpha }));
export const sigmoid = unary('Sigmoid', [1, LATEST_OPSET], LEGACY, () => ({ type: 'Sigmoid' }));
export const tanh = unary('Tanh', [1, LATEST_OPSET], LEGACY, () => ({ type: 'Tanh' }));
export const hardSigmoid = unary('HardSigmoid', [1, LATEST_OPSET], { ...LEGACY, alpha: float(0.2), beta: float(0.5) },
  (a) => ({ type: 'HardSigmoid', alpha: a.alpha, beta: a.beta }));
export const hardSwish = unary('HardSwish', [14, LATEST_OPSET], {}, () => ({ type: 'HardSwish' }));
export const sqrt = unary('Sqrt', [1, LATEST_OPSET], LEGACY, () => ({ type: 'Sqrt' }));
export const exp = unary('Exp', [1, LATEST_OPSET], LEGACY, () => ({ type: 'Exp' }));
export const erf = unary('Erf', [9, LATEST_OPSET], {}, () => ({ type: 'Erf' }));
export const gelu = unary('Gelu', [20, LATEST_OPSET], { approximate: string('none') }, (a) => {
  if (a.approximate !== 'none' && a.approximate !== 'tanh') refuse(`approximate "${a.approximate}" is not supported (none or tanh)`);
  return { type: 'Gelu', tanhApproximation: a.approximate === 'tanh' };
});

// Neg is exact on values that involve the batch size.
export const neg = converter({
  opTypes: ['Neg'],
  opsets: [1, LATEST_OPSET],
  attributes: LEGACY,
  convert: (ctx) => void ctx.emit({ type: 'Neg' }, [ctx.data(0)]),
  fold: (ctx, [x]) => [elementwise(ctx.budget, [x!], x!.dataType, ([v]) => ({ a: -v.a, b: -v.b }))],
});

/** Clip before opset 11: the bounds are attributes (absent: no bound). */
export const clipAttributes = converter({
  opTypes: ['Clip'],
  opsets: [1, 10],
  attributes: { ...LEGACY, min: float(null), max: float(null) },
  convert: (ctx) => void ctx.emit({ type: 'Clip', min: ctx.attrs.min, max: ctx.attrs.max }, [ctx.data(0)]),
});

/** Clip from opset 11: the bounds are optional inputs, which hnet needs constant. */
function clipBound(ctx: NodeContext, i: number, what: string): number | null {
  if (!ctx.has(i)) return null;
  const v = plainValues(ctx.constant(i, what), what);
  if (v.length !== 1) refuse(`${what} must be a scalar, got ${v.length} values`);
  return v[0];
}

export const clipInputs = converter({
  opTypes: ['Clip'],
  opsets: [11, LATEST_OPSET],
  attributes: {},
  convert(ctx) {
    const x = ctx.data(0);
    ctx.emit({ type: 'Clip', min: clipBound(ctx, 1, 'min'), max: clipBound(ctx, 2, 'max') }, [x]);
  },
});

export const pow = converter({
  opTypes: ['Pow'],
  opsets: [1, LATEST_OPSET],
  attributes: {},
  convert(ctx) {
    const x = ctx.data(0);
    const e = plainValues(ctx.constant(1, 'the exponent'), 'the exponent');
    if (new Set(e).size !== 1) refuse(`the exponent must be one value (a scalar), got ${e.length} different values`);
    ctx.emit({ type: 'Pow', exponent: e[0] }, [x]);
  },
});

type Binary = 'Add' | 'Sub' | 'Mul' | 'Div';

/** Arithmetic on a + b·N, refused where the result would not stay affine in N. */
const AFFINE: Record<Binary, (dataType: number) => (xs: Affine[]) => Affine> = {
  Add: () => ([x, y]) => ({ a: x.a + y.a, b: x.b + y.b }),
  Sub: () => ([x, y]) => ({ a: x.a - y.a, b: x.b - y.b }),
  Mul: () => ([x, y]) => {
    if (x.b !== 0 && y.b !== 0) refuse('a product of two values that depend on the batch size cannot be folded');
    return { a: x.a * y.a, b: x.b * y.a + y.b * x.a };
  },
  Div: (dataType) => ([x, y]) => {
    if (y.b !== 0) refuse('a division by a value that depends on the batch size cannot be folded');
    const integer = dataType !== DataType.FLOAT && dataType !== DataType.DOUBLE && dataType !== DataType.FLOAT16;
    if (x.b !== 0 && integer && (x.a % y.a !== 0 || x.b % y.a !== 0)) refuse(`(${x.a} + ${x.b}·N) / ${y.a} is not an integer for every batch size N`);
    return { a: x.a / y.a, b: x.b / y.a };
  },
};

function binary(opType: Binary): Converter {
  return converter({
    opTypes: [opType],
    opsets: [1, LATEST_OPSET],
    // Before opset 7: broadcast=1 with the right operand a suffix of the left's shape, which is numpy
    // broadcasting; the legacy axis attribute (another alignment) is refused.
    attributes: { ...LEGACY, broadcast: int(0) },
    convert: (ctx) => void ctx.emit({ type: opType }, [ctx.operand(0), ctx.operand(1)]),
    fold: (ctx, [x, y]) => [elementwise(ctx.budget, [x!, y!], x!.dataType, AFFINE[opType](x!.dataType))],
  });
}

export const add = binary('Add');
export const sub = binary('Sub');
export const mul = binary('Mul');
export const div = binary('Div');

const onlyKnown = (op: string) => (): never => refuse(`${op} is only supported on shapes and constants (folded at import)`);

/** Equal of values known at import; a + b·N equals c for no batch size N ≥ 1 unless the terms match. */
export const equal = converter({
  opTypes: ['Equal'],
  opsets: [1, LATEST_OPSET],
  attributes: {},
  convert: onlyKnown('Equal'),
  fold: (ctx, [x, y]) => [elementwise(ctx.budget, [x!, y!], DataType.BOOL, ([p, q]) => {
    if (p.b === q.b) return { a: p.a === q.a ? 1 : 0, b: 0 };
    const n = (q.a - p.a) / (p.b - q.b); // the one batch size at which they are equal
    if (Number.isInteger(n) && n >= 1) refuse(`whether ${p.a} + ${p.b}·N equals ${q.a} + ${q.b}·N depends on the batch size`);
    return { a: 0, b: 0 };
  })],
});

export const where = converter({
  opTypes: ['Where'],
  opsets: [9, LATEST_OPSET],
  attributes: {},
  convert: onlyKnown('Where'),
  fold: (ctx, [c, x, y]) => [elementwise(ctx.budget, [c!, x!, y!], x!.dataType, ([p, q, r]) => {
    if (p.b !== 0) refuse('a Where condition that depends on the batch size cannot be folded');
    return p.a ? q : r;
  })],
});

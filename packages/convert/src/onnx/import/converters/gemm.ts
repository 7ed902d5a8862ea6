// Gemm and MatMul. A constant second operand is a weight: the node becomes a
// Dense (hashable), x [N, in] -> [N, out]; a MatMul of a rank-3+ input by a
// constant [K, N] is wrapped in Reshapes to and from [-1, K]. A MatMul of two
// computed tensors (attention) stays a MatMul.

import { BATCH, plainWeight } from '@hnet/format';
import { float, int } from '../attributes.js';
import { converter, LATEST_OPSET } from '../converter.js';
import { elementwise, matmulKnown, plainValues, transposeKnown, type Known } from '../known.js';
import { refuse } from '../refusal.js';

/** A bias broadcast to one value per output: scalar, [out], [1, out]... */
export function vectorBias(c: Known, out: number, scale: number, what: string): Float32Array {
  const values = plainValues(c, what);
  if (values.length === 1) return new Float32Array(out).fill(scale * values[0]);
  if (values.length !== out || c.dims.filter((d) => d !== 1).length > 1) {
    refuse(`${what} of shape [${c.dims}] is not one value per output (${out}); only a per-output bias maps to hnet`);
  }
  return Float32Array.from(values, (v) => scale * v);
}

export const gemm = converter({
  opTypes: ['Gemm'],
  opsets: [1, LATEST_OPSET],
  attributes: { alpha: float(1), beta: float(1), transA: int(0), transB: int(0), broadcast: int(0) },
  convert(ctx) {
    const { alpha, beta, transA, transB } = ctx.attrs;
    if (transA) refuse('transA=1 is not supported (hnet has no transpose of the input); export with the input as [N, in]');
    const x = ctx.data(0);
    const b = ctx.constant(1, 'weight B');
    if (b.dims.length !== 2) refuse(`weight B must be 2-D, got [${b.dims.join(', ')}]`);
    const bv = plainValues(b, 'weight B');
    // Dense stores [out, in]: B as-is when transB, else transposed; alpha folded in.
    const [outF, inF] = transB ? b.dims : [b.dims[1], b.dims[0]];
    const w = new Float32Array(outF * inF);
    for (let o = 0; o < outF; o++) {
      for (let i = 0; i < inF; i++) w[o * inF + i] = alpha * bv[transB ? o * inF + i : i * outF + o];
    }
    const c = ctx.optionalConstant(2, 'bias C');
    const bias = c && beta !== 0 ? plainWeight(vectorBias(c, outF, beta, 'bias C'), [outF]) : null;
    ctx.emit({ type: 'Dense', weight: plainWeight(w, [outF, inF]), bias }, [x]);
  },
  fold(ctx, [a, b, c]) {
    const { alpha, beta, transA, transB } = ctx.attrs;
    const product = matmulKnown(ctx.budget, transA ? transposeKnown(ctx.budget, a!, [1, 0]) : a!, transB ? transposeKnown(ctx.budget, b!, [1, 0]) : b!);
    const scaled = elementwise(ctx.budget, [product], product.dataType, ([p]) => ({ a: alpha * p.a, b: 0 }));
    if (!c || beta === 0) return [scaled];
    return [elementwise(ctx.budget, [scaled, c], product.dataType, ([p, q]) => ({ a: p.a + beta * q.a, b: 0 }))];
  },
});

export const matmul = converter({
  opTypes: ['MatMul'],
  opsets: [1, LATEST_OPSET],
  attributes: {},
  convert(ctx) {
    const b = ctx.known(1);
    if (!b || b.dims.length !== 2 || ctx.known(0)) {
      // Two computed tensors (or a constant left operand): numpy matmul.
      return void ctx.emit({ type: 'MatMul' }, [ctx.operand(0), ctx.operand(1)]);
    }
    const x = ctx.data(0);
    const bv = plainValues(b, 'the second input');
    const [inF, outF] = b.dims;
    const w = new Float32Array(outF * inF); // [out, in] = Bᵀ
    for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) w[o * inF + i] = bv[i * outF + o];
    const dense = { type: 'Dense' as const, weight: plainWeight(w, [outF, inF]), bias: null };
    const shape = ctx.shape(x);
    if (shape.length === 2) return void ctx.emit(dense, [x]);
    if (shape.length < 2) refuse(`the first input has rank ${shape.length}; MatMul by a weight needs rank >= 2`);
    // [..., K] -> [-1, K] -> Dense -> [..., N]: the one batch-sized dimension becomes -1.
    if (shape.filter((d) => d === BATCH).length > 1) refuse(`input [${shape}] has more than one batch-sized dimension`);
    if (shape[shape.length - 1] !== inF) refuse(`input [${shape}] does not match the weight [${b.dims}]`);
    const rows = ctx.emit({ type: 'Reshape', shape: [-1, inF] }, [x], ctx.temp('rows'), 'rows');
    const product = ctx.emit(dense, [rows], ctx.temp('dense'), 'dense');
    const back = [...shape.slice(0, -1), outF].map((d) => (d === BATCH ? -1 : d));
    ctx.emit({ type: 'Reshape', shape: back }, [product]);
  },
  fold(ctx, [a, b]) {
    return [matmulKnown(ctx.budget, a!, b!)];
  },
});

// Dense: y = x · Wᵀ + b, W [out, in] as the format stores it.
//   dx = dy · W            [N, out] · [out, in] → [N, in]
//   dW = dyᵀ · x           [out, N] · [N, in]   → [out, in]
//   db = Σ_N dy            [out]

import type { DenseOp } from '@hnet/format';
import type { OpRule } from './rule.js';

export const dense: OpRule<DenseOp> = {
  forward(g, op, f) {
    const inputs = [f.x[0], f.weight!];
    if (f.bias) inputs.push(f.bias);
    return { y: g.op('Gemm', inputs, { transB: 1 }, 'dense') }; // [N, out]
  },
  backward(g, op, s, dy, want) {
    return {
      dx: [want[0] ? g.op('MatMul', [dy, s.weight!], {}, 'dense.dx') : null],
      dWeight: g.op('Gemm', [dy, s.x[0]], { transA: 1 }, 'dense.dW'),
      dBias: s.bias ? g.op('ReduceSum', [dy, g.ints([0])], { keepdims: 0 }, 'dense.db') : undefined,
    };
  },
};

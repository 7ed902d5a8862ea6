// Quantization-aware training in the ONNX graph: the twin of quantize.ts's
// fakeQuantize (the file's own rounding), as nodes. The backward needs no
// nodes: the straight-through estimator hands the gradient of the quantized
// values to the float ones unchanged.

import { QMAX } from '@hnet/format';
import type { QuantizedDType } from '../quantize.js';
import type { GraphBuilder } from './graph.js';

/** The smallest normal float32: the scale of an all-zero tensor, where any positive scale gives the file's zeros. */
const MIN_SCALE = 1.1754943508222875e-38;

/** values → scale · clip(round(values / scale), ±qmax) with scale = max|values| / qmax (one scale for the tensor). */
export function emitFakeQuantize(g: GraphBuilder, values: string, dtype: QuantizedDType, hint: string): string {
  const qmax = QMAX[dtype];
  const max = g.op('ReduceMax', [g.op('Abs', [values], {}, `${hint}.abs`)], { keepdims: 0 }, `${hint}.max`);
  const scale = g.op('Max', [g.op('Div', [max, g.scalar(qmax)], {}, `${hint}.scale`), g.scalar(MIN_SCALE)], {}, `${hint}.scale.pos`);
  const q = g.op('Round', [g.op('Div', [values, scale], {}, `${hint}.ratio`)], {}, `${hint}.round`);
  const clipped = g.op('Clip', [q, g.scalar(-qmax), g.scalar(qmax)], {}, `${hint}.q`);
  return g.op('Mul', [clipped, scale], {}, `${hint}.quantized`);
}

// Every op of the format, mapped to its forward/backward rule.

import type { Op, OpType } from '@hnet/format';
import { clip, gelu, hardSigmoid, hardSwish, logSoftmax, leakyRelu, relu, sigmoid, softmax, tanh } from './activations.js';
import { div, erf, exp, mul, neg, pow, sqrt, sub } from './arithmetic.js';
import { conv2d, convTranspose } from './conv.js';
import { dense } from './dense.js';
import { matMul } from './matmul.js';
import { layerNorm } from './norm.js';
import { averagePool, globalAveragePool, globalMaxPool, maxPool } from './pool.js';
import { reduce } from './reduce.js';
import { resize } from './resize.js';
import type { OpRule } from './rule.js';
import { add, batchNorm, concat, constant, expand, flatten, pad, reshape, slice, squeeze, transpose, unsqueeze } from './structural.js';

export const RULES: { [T in OpType]: OpRule<Extract<Op, { type: T }>> } = {
  Dense: dense,
  Conv2D: conv2d,
  Relu: relu,
  LeakyRelu: leakyRelu,
  Sigmoid: sigmoid,
  Tanh: tanh,
  Softmax: softmax,
  LogSoftmax: logSoftmax,
  Flatten: flatten,
  Reshape: reshape,
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalAveragePool,
  BatchNorm: batchNorm,
  Add: add,
  // 1.1
  Constant: constant,
  Concat: concat,
  Slice: slice,
  Clip: clip,
  HardSigmoid: hardSigmoid,
  HardSwish: hardSwish,
  Mul: mul,
  Sub: sub,
  Div: div,
  Pow: pow,
  Sqrt: sqrt,
  Exp: exp,
  Erf: erf,
  Neg: neg,
  ReduceMean: reduce,
  ReduceSum: reduce,
  ReduceMax: reduce,
  Transpose: transpose,
  MatMul: matMul,
  LayerNorm: layerNorm,
  Gelu: gelu,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Pad: pad,
  GlobalMaxPool: globalMaxPool,
  Resize: resize,
  ConvTranspose: convTranspose,
  Expand: expand,
};

export function ruleOf(op: Op): OpRule {
  return RULES[op.type] as OpRule;
}

// Every op of the format, mapped to its forward/backward rule.

import { pending11, type Op, type OpType } from '@hnet/format';
import { logSoftmax, leakyRelu, relu, sigmoid, softmax, tanh } from './activations.js';
import { conv2d } from './conv.js';
import { dense } from './dense.js';
import { averagePool, globalAveragePool, maxPool } from './pool.js';
import type { OpRule } from './rule.js';
import { add, batchNorm, flatten, reshape } from './structural.js';

export const RULES: { [T in OpType]?: OpRule<Extract<Op, { type: T }>> } = { // PENDING-1.1: not Partial once every op has a rule
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
};

export function ruleOf(op: Op): OpRule {
  return (RULES[op.type] as OpRule | undefined) ?? pending11(op.type, 'a training rule'); // PENDING-1.1
}

// The registry: every converter, one entry per ONNX op type and opset range.
// Adding an op is adding its converter file and one name below (CONTRIBUTING.md,
// "Adding an op"). Two converters that claim the same op at the same opset
// are a bug, caught when this module loads.

import type { Converter } from '../converter.js';
import { refuse } from '../refusal.js';
import { conv, convTranspose } from './conv.js';
import * as elementwise from './elementwise.js';
import { gemm, matmul } from './gemm.js';
import { batchNormalization, layerNormalization } from './norm.js';
import { pad } from './pad.js';
import { averagePool, globalAveragePool, globalMaxPool, maxPool } from './pool.js';
import { reduceMax, reduceMean, reduceMin, reduceProd, reduceSum } from './reduce.js';
import { expand, flatten, reshape, squeeze, transpose, unsqueeze } from './reshape.js';
import { resize, upsample } from './resize.js';
import { cast, constantOfShape, range, shape } from './shape.js';
import { concat, gather, slice, split } from './slice.js';
import { logSoftmax, softmaxOp } from './softmax.js';

const CONVERTERS: Converter[] = [
  gemm, matmul, conv, convTranspose,
  maxPool, averagePool, globalAveragePool, globalMaxPool,
  batchNormalization, layerNormalization, softmaxOp, logSoftmax,
  ...Object.values(elementwise),
  reshape, flatten, squeeze, unsqueeze, transpose, expand,
  slice, split, gather, concat, pad, resize, upsample,
  reduceMean, reduceSum, reduceMax, reduceMin, reduceProd,
  shape, constantOfShape, range, cast,
] as Converter[];

const BY_OP = new Map<string, Converter[]>();
for (const c of CONVERTERS) {
  for (const op of c.opTypes) {
    const list = BY_OP.get(op) ?? [];
    const clash = list.find((o) => o.opsets[0] <= c.opsets[1] && c.opsets[0] <= o.opsets[1]);
    if (clash) throw new Error(`two converters claim ${op} at opsets ${c.opsets} and ${clash.opsets}`);
    BY_OP.set(op, [...list, c]);
  }
}

/** The converter of an op at a default-domain opset, or a refusal saying why there is none. */
export function converterFor(opType: string, opset: number): Converter {
  const list = BY_OP.get(opType) ?? refuse('op not supported');
  const c = list.find((o) => o.opsets[0] <= opset && opset <= o.opsets[1]);
  if (c) return c;
  const ranges = list.map((o) => `${o.opsets[0]}..${o.opsets[1]}`).join(', ');
  return refuse(`opset ${opset} of ${opType} is not supported (hnet reads opsets ${ranges})`);
}

/** Every ONNX op type some converter reads. */
export const SUPPORTED_OPS: readonly string[] = [...BY_OP.keys()].sort();

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

/**
 * The lookup over a list of converters: op type and opset → converter, or a
 * refusal saying why there is none. Two converters that claim the same op at
 * an overlapping opset throw here.
 */
export function registryOf(converters: readonly Converter[]): (opType: string, opset: number) => Converter {
  const byOp = new Map<string, Converter[]>();
  for (const c of converters) {
    for (const op of c.opTypes) {
      const list = byOp.get(op) ?? [];
      const clash = list.find((o) => o.opsets[0] <= c.opsets[1] && c.opsets[0] <= o.opsets[1]);
      if (clash) throw new Error(`two converters claim ${op} at opsets ${c.opsets.join('..')} and ${clash.opsets.join('..')}`);
      byOp.set(op, [...list, c]);
    }
  }
  return (opType, opset) => {
    const list = byOp.get(opType) ?? refuse('op not supported');
    const c = list.find((o) => o.opsets[0] <= opset && opset <= o.opsets[1]);
    if (c) return c;
    const ranges = list.map((o) => `${o.opsets[0]}..${o.opsets[1]}`).join(', ');
    return refuse(`opset ${opset} of ${opType} is not supported (hnet reads opsets ${ranges})`);
  };
}

/** The converter of an op at a default-domain opset, or a refusal saying why there is none. */
export const converterFor = registryOf(CONVERTERS);

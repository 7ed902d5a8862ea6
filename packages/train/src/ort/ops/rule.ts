// What every op of the format provides to the ONNX compiler: its forward and
// its backward, written as ONNX nodes, side by side in one file per op family.
// Shapes are static (one graph per batch size), so every Reshape, Slice and
// Expand below is built from known numbers.

import type { Op } from '@hnet/format';
import type { GraphBuilder } from '../graph.js';

export interface Forward {
  /** Input tensor names and their shapes. */
  x: string[];
  xShapes: number[][];
  yShape: number[];
  /** The virtual weight [out, in] / [M, C/g, KH, KW] and bias of a Dense or Conv2D, else null. */
  weight: string | null;
  bias: string | null;
  /** "nodes[3] (conv1, Conv2D)", for errors. */
  where: string;
}

/** What the forward leaves for the backward: its output, and any extra tensor (MaxPool's indices). */
export interface Saved extends Forward {
  y: string;
  extra: Record<string, string>;
}

export interface Gradients {
  /** Gradient per input (null where not wanted). */
  dx: (string | null)[];
  dWeight?: string;
  dBias?: string;
}

export interface OpRule<T extends Op = Op> {
  forward(g: GraphBuilder, op: T, f: Forward): { y: string; extra?: Record<string, string> };
  /** `want[k]`: whether input k needs its gradient (the model input never does). */
  backward(g: GraphBuilder, op: T, s: Saved, dy: string, want: boolean[]): Gradients;
}

/** Copies rows/cols [begin, begin + size) of the last two axes of t, zero-filling past its end. */
export function cropSpatial(g: GraphBuilder, t: string, shape: readonly number[], begin: readonly [number, number], size: readonly [number, number]): string {
  const r = shape.length;
  const [h, w] = [shape[r - 2], shape[r - 1]];
  const short = [Math.max(0, begin[0] + size[0] - h), Math.max(0, begin[1] + size[1] - w)];
  let out = t;
  if (short[0] > 0 || short[1] > 0) {
    const pads = new Array(2 * r).fill(0);
    pads[r + r - 2] = short[0];
    pads[r + r - 1] = short[1];
    out = g.op('Pad', [out, g.ints(pads)], {}, 'pad');
  }
  if (begin[0] > 0 || begin[1] > 0 || h + short[0] !== begin[0] + size[0] || w + short[1] !== begin[1] + size[1]) {
    out = g.op('Slice', [out, g.ints([begin[0], begin[1]]), g.ints([begin[0] + size[0], begin[1] + size[1]]), g.ints([r - 2, r - 1])], {}, 'crop');
  }
  return out;
}

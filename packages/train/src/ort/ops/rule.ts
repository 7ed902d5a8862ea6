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
  /**
   * The node's virtual weights in the format's shape (weightsOf: a Dense's [out, in], a Conv2D's
   * [M, C/g, KH, KW], a ConvTranspose's [C, M/g, KH, KW], a LayerNorm's scale, a Constant's value)
   * and bias, else null.
   */
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

/**
 * ConvTranspose of dy by w whose output is rows/cols [begin, begin + size) of
 * the full transposed convolution: the begin side is cut by pads, the end side
 * by pads too, or zero-filled by output_padding where the last windows stop
 * short of the input's end.
 */
export function transposedConv(
  g: GraphBuilder,
  dy: string,
  w: string,
  attributes: { kernel_shape: number[]; strides: number[]; dilations?: number[]; group?: number },
  full: readonly [number, number],
  begin: readonly [number, number],
  size: readonly [number, number],
  hint: string,
): string {
  const end = [full[0] - begin[0] - size[0], full[1] - begin[1] - size[1]];
  return g.op('ConvTranspose', [dy, w], {
    ...attributes,
    pads: [begin[0], begin[1], Math.max(0, end[0]), Math.max(0, end[1])],
    output_padding: [Math.max(0, -end[0]), Math.max(0, -end[1])],
  }, hint);
}

/** Sums dy [yShape] over the axes a numpy broadcast of [shape] expanded, back to [shape]. */
export function unbroadcast(g: GraphBuilder, dy: string, yShape: readonly number[], shape: readonly number[], hint: string): string {
  const lead = yShape.length - shape.length;
  const axes = yShape.map((d, k) => k).filter((k) => k < lead || (shape[k - lead] === 1 && yShape[k] !== 1));
  if (axes.length === 0) return dy;
  const summed = g.op('ReduceSum', [dy, g.ints(axes)], { keepdims: 1 });
  return g.op('Reshape', [summed, g.ints(shape)], {}, hint);
}

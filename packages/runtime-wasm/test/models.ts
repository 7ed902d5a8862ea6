// Seeded random models for the runtime tests: every op, every bucket dtype,
// hashed and plain weights, signed and unsigned hashes, odd sizes (SIMD
// tails), strides, pads, dilations, groups, ceil modes and broadcasting.

import type { DType, HashSpec, Model, Node, Op, Weight } from '@hnet/format';
import { hashedWeight, inferOpShape, plainWeight } from '@hnet/format';
import { randomArray, rng } from '@hnet/format/testing';
export { randomArray, rng };

export const DTYPES: DType[] = ['float32', 'float16', 'int8', 'int4'];

export interface WeightChoice {
  dtype?: DType;
  hashed?: boolean;
  /** Hash with xxh32-block of this many columns per block instead of per-element xxh32. */
  block?: number;
  /** With block: xxh32-aligned-block (format 1.2) instead of xxh32-block. */
  aligned?: boolean;
}

/** Builds a graph one node at a time, tracking shapes with format's inference (-1 = batch). */
export class GraphBuilder {
  nodes: Node[] = [];
  shapes = new Map<string, number[]>();
  private count = 0;

  constructor(readonly random: () => number, readonly choice: WeightChoice = {}) {}

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.random() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.random() * xs.length)];
  }

  weight(shape: number[]): Weight {
    const n = shape.reduce((a, b) => a * b, 1);
    const dense = randomArray(this.random, n, 1 / Math.sqrt(n / shape[0]));
    const dtype = this.choice.dtype ?? this.pick(DTYPES);
    const hashed = this.choice.hashed ?? this.random() < 0.75;
    if (!hashed) return plainWeight(dense, shape, dtype);
    const seeds = {
      bucketSeed: Math.floor(this.random() * 2 ** 32),
      signSeed: this.random() < 0.8 ? Math.floor(this.random() * 2 ** 32) : null,
    };
    const block = this.choice.block;
    const hash: HashSpec = block === undefined ? { algorithm: 'xxh32', ...seeds }
      : { algorithm: this.choice.aligned ? 'xxh32-aligned-block' : 'xxh32-block', ...seeds, block };
    return hashedWeight(dense, shape, hash, this.int(1, Math.max(1, Math.ceil(n / 2))), dtype);
  }

  add(op: Op, inputs: string[]): string {
    const name = `t${this.count++}`;
    const where = `${op.type} ${name}`;
    this.shapes.set(name, inferOpShape(where, op, inputs.map((t) => this.shapes.get(t)!)));
    this.nodes.push({ name: `${op.type.toLowerCase()}${this.count}`, op, inputs, outputs: [name] });
    return name;
  }

  shape(t: string): number[] {
    return this.shapes.get(t)!;
  }
}

/**
 * A random CNN + MLP using all 15 ops. Input [N, C, H, W] with random sizes,
 * output [N, classes] after Softmax or LogSoftmax.
 */
export function randomModel(seed: number, choice: WeightChoice = {}): Model {
  const g = new GraphBuilder(rng(seed), choice);
  const c0 = g.int(1, 3);
  const h0 = g.int(6, 11);
  const w0 = g.int(6, 11);
  g.shapes.set('x', [-1, c0, h0, w0]);

  // Conv2D with random geometry (still fitting the input).
  const m1 = g.int(2, 5);
  const k1 = g.int(1, 3);
  let t = g.add({
    type: 'Conv2D', weight: g.weight([m1, c0, k1, g.int(1, 3)]), bias: g.random() < 0.6 ? g.weight([m1]) : null,
    strides: [g.int(1, 2), g.int(1, 2)], pads: [g.int(0, 2), g.int(0, 2), g.int(0, 2), g.int(0, 2)],
    dilations: [g.int(1, 2), 1], group: 1,
  }, ['x']);
  const [, , h1, w1] = g.shape(t);
  t = g.add({
    type: 'BatchNorm', scale: randomArray(g.random, m1), bias: randomArray(g.random, m1), mean: randomArray(g.random, m1),
    variance: Float32Array.from({ length: m1 }, () => 0.5 + g.random()), epsilon: Math.fround(1e-5),
  }, [t]);
  t = g.add({ type: 'LeakyRelu', alpha: Math.fround(0.01 + g.random() * 0.2) }, [t]);
  // Depthwise (or grouped) conv that keeps the shape, then a residual Add.
  const depthwise = g.random() < 0.5;
  const mult = depthwise ? 1 : 2;
  const dw = g.add({
    type: 'Conv2D', weight: g.weight([m1 * mult, 1, 3, 3]), bias: g.weight([m1 * mult]),
    strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: m1,
  }, [t]);
  if (!depthwise) {
    // grouped with 2 outputs per group: back to m1 channels with a 1x1 conv
    t = g.add({ type: 'Add', }, [g.add({ type: 'Conv2D', weight: g.weight([m1, m1 * mult, 1, 1]), bias: null, strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 }, [dw]), t]);
  } else {
    t = g.add({ type: 'Add' }, [dw, t]);
  }
  // Broadcasting Add: [N, C, H, W] + [N, C, 1, 1].
  const gap = g.add({ type: 'GlobalAveragePool' }, [t]);
  t = g.add({ type: 'Add' }, g.random() < 0.5 ? [t, gap] : [gap, t]);
  t = g.add({ type: g.random() < 0.5 ? 'Sigmoid' : 'Tanh' }, [t]);
  // Pools with random windows that fit.
  const [, , hh, ww] = g.shape(t);
  if (hh >= 3 && ww >= 3) {
    const kh = g.int(1, 2), dw = g.int(1, 2);
    const kw = Math.min(g.int(1, 3), Math.floor((ww - 1) / dw) + 1);
    t = g.add({
      type: 'MaxPool', kernel: [kh, kw], strides: [g.int(1, 2), g.int(1, 2)],
      pads: [g.int(0, kh - 1), 0, g.int(0, kh - 1), 0], dilations: [1, dw], ceilMode: g.random() < 0.5,
    }, [t]);
  }
  const [, , ph, pw] = g.shape(t);
  if (ph >= 2 && pw >= 2) {
    t = g.add({
      type: 'AveragePool', kernel: [2, 2], strides: [g.int(1, 2), g.int(1, 2)], pads: [g.int(0, 1), g.int(0, 1), g.int(0, 1), g.int(0, 1)],
      ceilMode: g.random() < 0.5, countIncludePad: g.random() < 0.5,
    }, [t]);
  }
  t = g.add({ type: 'Relu' }, [t]);
  // To 2-D by Flatten or Reshape.
  const [, cc, hf, wf] = g.shape(t);
  t = g.random() < 0.5 ? g.add({ type: 'Flatten', axis: 1 }, [t]) : g.add({ type: 'Reshape', shape: [g.random() < 0.5 ? 0 : -1, cc * hf * wf] }, [t]);
  // Dense head with sizes that leave SIMD tails.
  const hidden = g.int(3, 21);
  t = g.add({ type: 'Dense', weight: g.weight([hidden, cc * hf * wf]), bias: g.random() < 0.7 ? g.weight([hidden]) : null }, [t]);
  t = g.add({ type: 'Tanh' }, [t]);
  const classes = g.int(2, 7);
  t = g.add({ type: 'Dense', weight: g.weight([classes, hidden]), bias: g.weight([classes]) }, [t]);
  t = g.add({ type: g.random() < 0.5 ? 'Softmax' : 'LogSoftmax', axis: g.random() < 0.5 ? -1 : 1 }, [t]);
  return {
    inputs: [{ name: 'x', shape: [-1, c0, h0, w0] }],
    outputs: [{ name: t, shape: g.shape(t) }],
    nodes: g.nodes,
    metadata: { producer: 'runtime-wasm test', seed: String(seed), conv1: `${h1}x${w1}` },
  };
}

/** A multi-layer perceptron, e.g. [784, 1000, 10], with the given weight choice. */
export function mlpModel(seed: number, sizes: number[], choice: WeightChoice = {}, compression?: number): Model {
  const g = new GraphBuilder(rng(seed), choice);
  g.shapes.set('x', [-1, sizes[0]]);
  let t = 'x';
  for (let i = 1; i < sizes.length; i++) {
    const shape = [sizes[i], sizes[i - 1]];
    let weight = g.weight(shape);
    if (compression && weight.hash) {
      const dense = randomArray(g.random, shape[0] * shape[1], 1 / Math.sqrt(shape[1]));
      weight = hashedWeight(dense, shape, weight.hash, Math.max(1, Math.round((shape[0] * shape[1]) / compression)), choice.dtype ?? 'float32');
    }
    t = g.add({ type: 'Dense', weight, bias: g.weight([sizes[i]]) }, [t]);
    if (i < sizes.length - 1) t = g.add({ type: 'Relu' }, [t]);
  }
  return { inputs: [{ name: 'x', shape: [-1, sizes[0]] }], outputs: [{ name: t, shape: [-1, sizes.at(-1)!] }], nodes: g.nodes, metadata: {} };
}

/**
 * A random model of the 1.1 ops: a MobileNet-style stage (1x1 conv,
 * depthwise conv, a hard activation, squeeze-and-excitation), optional
 * Concat/Slice, Resize or ConvTranspose and Pad, then tokens through
 * LayerNorm, attention (MatMul, Softmax), element-wise arithmetic against
 * Constants, and a reduction to a Dense head. Output [N, classes].
 */
export function randomModel11(seed: number, choice: WeightChoice = {}): Model {
  const g = new GraphBuilder(rng(seed), choice);
  const c0 = g.int(2, 5), h0 = g.int(4, 9), w0 = g.int(4, 9);
  g.shapes.set('x', [-1, c0, h0, w0]);
  const constant = (shape: number[]): string => g.add({ type: 'Constant', value: g.weight(shape) }, []);
  const conv = (x: string, m: number, k: number, stride: number, pad: number, group: number): string => {
    const c = g.shape(x)[1];
    return g.add({
      type: 'Conv2D', weight: g.weight([m, c / group, k, k]), bias: g.random() < 0.7 ? g.weight([m]) : null,
      strides: [stride, stride], pads: [pad, pad, pad, pad], dilations: [1, 1], group,
    }, [x]);
  };
  const activation = (x: string): string => {
    const pick = g.int(0, 4);
    if (pick === 0) return g.add({ type: 'Clip', min: -Math.fround(0.1 + g.random()), max: Math.fround(0.5 + g.random()) }, [x]);
    if (pick === 1) return g.add({ type: 'HardSwish' }, [x]);
    if (pick === 2) return g.add({ type: 'HardSigmoid', alpha: Math.fround(0.1 + 0.2 * g.random()), beta: 0.5 }, [x]);
    if (pick === 3) return g.add({ type: 'Gelu', tanhApproximation: g.random() < 0.5 }, [x]);
    return g.add({ type: 'Relu' }, [x]);
  };

  const m = g.int(3, 8);
  let t = activation(conv('x', m, 1, 1, 0, 1));
  t = activation(conv(t, m, 3, g.int(1, 2), g.int(0, 1), m)); // depthwise
  if (g.random() < 0.6) {
    const gate = g.add({ type: 'HardSigmoid', alpha: Math.fround(1 / 6), beta: 0.5 }, [g.add({ type: 'ReduceMean', axes: [2, 3], keepdims: true }, [t])]);
    t = g.add({ type: 'Mul' }, [t, gate]);
  }
  if (g.random() < 0.5) t = g.add({ type: 'Concat', axis: 1 }, [t, g.add({ type: 'Neg' }, [t])]);
  if (g.random() < 0.5) {
    const c = g.shape(t)[1];
    t = g.add({ type: 'Slice', starts: [g.int(0, c - 1)], ends: [2 ** 31 - 1], axes: [1], steps: [1] }, [t]);
  }
  const spatial = g.int(0, 3);
  if (spatial === 1) {
    const [, , rh, rw] = g.shape(t);
    t = g.add({
      type: 'Resize', mode: g.pick(['nearest', 'linear'] as const), coordinates: g.pick(['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel'] as const),
      nearest: g.pick(['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const), scales: [g.pick(rh >= 2 ? [0.5, 1.5, 2] : [1.5, 2]), g.pick(rw >= 2 ? [0.75, 2] : [2])],
    }, [t]);
  } else if (spatial === 2) {
    const c = g.shape(t)[1];
    const mt = g.int(1, 4);
    t = g.add({
      type: 'ConvTranspose', weight: g.weight([c, mt, 2, 2]), bias: g.random() < 0.5 ? null : g.weight([mt]),
      strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], outputPadding: [g.int(0, 1), g.int(0, 1)], group: 1,
    }, [t]);
  }
  if (g.random() < 0.4) t = g.add({ type: 'Pad', pads: [0, 0, g.int(0, 2), g.int(0, 2), 0, 0, g.int(0, 2), g.int(0, 2)], value: Math.fround(g.random()) }, [t]);
  const maxed = g.add({ type: 'GlobalMaxPool' }, [t]);
  t = g.add({ type: 'Add' }, [t, maxed]);

  // Tokens [N, S, C]: LayerNorm, single-head attention, arithmetic against constants.
  const [, c, h, w] = g.shape(t);
  let tok = g.add({ type: 'Transpose', perm: [0, 2, 1] }, [g.add({ type: 'Reshape', shape: [0, c, h * w] }, [t])]);
  tok = g.add({ type: 'LayerNorm', axis: -1, epsilon: Math.fround(1e-5), scale: plainWeight(randomArray(g.random, c), [c]), bias: g.random() < 0.5 ? plainWeight(randomArray(g.random, c), [c]) : null }, [tok]);
  const keys = g.add({ type: 'Transpose', perm: [0, 2, 1] }, [tok]);
  const scores = g.add({ type: 'Div' }, [g.add({ type: 'MatMul' }, [tok, keys]), constant([1])]);
  tok = g.add({ type: 'MatMul' }, [g.add({ type: g.random() < 0.8 ? 'Softmax' : 'LogSoftmax', axis: -1 }, [scores]), tok]);
  tok = g.add({ type: 'Sub' }, [tok, constant([c])]);
  tok = g.add(g.random() < 0.5 ? { type: 'Pow', exponent: 2 } : { type: 'Erf' }, [tok]);
  tok = g.add({ type: 'Sqrt' }, [g.add({ type: 'Exp' }, [g.add({ type: 'Neg' }, [tok])])]);
  const reduce = g.pick(['ReduceMean', 'ReduceSum', 'ReduceMax'] as const);
  let v = g.add({ type: reduce, axes: [1], keepdims: g.random() < 0.5 }, [tok]);
  if (g.shape(v).length === 3) v = g.add({ type: 'Squeeze', axes: [1] }, [v]);
  v = g.add({ type: 'Squeeze', axes: [-1] }, [g.add({ type: 'Unsqueeze', axes: [-1] }, [v])]);
  const classes = g.int(2, 6);
  v = g.add({ type: 'Dense', weight: g.weight([classes, c]), bias: g.weight([classes]) }, [v]);
  v = g.add({ type: 'Mul' }, [v, g.add({ type: 'Expand', shape: [-1, classes] }, [constant([1, 1])])]);
  return {
    inputs: [{ name: 'x', shape: [-1, c0, h0, w0] }],
    outputs: [{ name: v, shape: g.shape(v) }],
    nodes: g.nodes,
    metadata: { producer: 'runtime-wasm test', seed: String(seed) },
  };
}

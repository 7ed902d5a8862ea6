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
}

/** Builds a graph one node at a time, tracking shapes with format's inference (-1 = batch). */
class GraphBuilder {
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
    const hash: HashSpec = {
      algorithm: 'xxh32',
      bucketSeed: Math.floor(this.random() * 2 ** 32),
      signSeed: this.random() < 0.8 ? Math.floor(this.random() * 2 ** 32) : null,
    };
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

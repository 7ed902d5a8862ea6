// The benchmark models, built in code with @hnet/format so that the bench
// needs no fixtures: 784-1000-10 hashed at 1/8 and 1/64, a LeNet-style CNN,
// a MobileNet v2-style CNN and a small vision transformer, each hashed at
// 1/8, and the MLP and LeNet also with xxh32-block (bench/train/block-accuracy.ts
// trains the same builders), the MLPs also with int8 and int4 buckets. Weights are random
// (speed does not depend on them).

import type { DType, HashSpec, Model, Node, Op, Pads4, Pair, Weight } from '@hnet/format';
import { alignedBlockFor } from '@hnet/convert';
import { hashedWeight, plainWeight } from '@hnet/format';
import { rng } from '@hnet/format/testing';

/**
 * A bench model's hashing: per-element xxh32 (null), xxh32-block with Z
 * columns per hash (Z), or xxh32-aligned-block ({ aligned: Z }, or
 * { aligned: 'per layer' }: the converter's default, alignedBlockFor).
 */
export type BlockChoice = number | { aligned: number | 'per layer' } | null;

/** The choice's name in a model's label and in block-accuracy.ts's tables: "block 32", "aligned block 32". */
export const blockLabel = (block: BlockChoice): string => (block === null ? 'per-element' : typeof block === 'number' ? `block ${block}` : `aligned block ${block.aligned}`);

/** The hash spec of a choice, its Z lowered to at most K (a multiple of 4 when aligned), as the converter writes it. */
export function benchHash(seed: number, block: BlockChoice, buckets: number, rows: number): HashSpec {
  const seeds = { bucketSeed: seed * 2 + 1, signSeed: seed * 2 + 2 };
  if (block === null) return { algorithm: 'xxh32', ...seeds };
  if (typeof block === 'number') return { algorithm: 'xxh32-block', ...seeds, block: Math.min(block, buckets) };
  const z = block.aligned === 'per layer' ? alignedBlockFor(buckets, rows) : block.aligned;
  return { algorithm: 'xxh32-aligned-block', ...seeds, block: Math.max(4, Math.min(z, buckets - (buckets % 4))) };
}

/**
 * A weight of `shape` hashed into size/compression buckets (plain when
 * compression is 1), uniform in offset ± scale (default: 0 ± 1/√fan-in).
 */
function weight(
  random: () => number, shape: number[], compression: number, seed: number, block: BlockChoice = null,
  scale = 1 / Math.sqrt(shape.reduce((a, b) => a * b, 1) / shape[0]), offset = 0, dtype: DType = 'float32',
): Weight {
  const n = shape.reduce((a, b) => a * b, 1);
  const dense = Float32Array.from({ length: n }, () => offset + (random() * 2 - 1) * scale);
  if (compression <= 1) return plainWeight(dense, shape);
  const buckets = Math.max(1, Math.round(n / compression));
  // Z ≤ K, as the converter writes it (a longer run would wrap onto itself)
  return hashedWeight(dense, shape, benchHash(seed, block, buckets, shape[0]), buckets, dtype);
}

/** An MLP 784-…-10 (default 784-1000-10; the issue's baseline was measured on 784-300-100-10). */
export function mlp(compression: number, block: BlockChoice = null, hidden: number[] = [1000], dtype: DType = 'float32'): Model {
  const random = rng(compression + (hidden.length > 1 ? 500 : 0));
  const widths = [784, ...hidden, 10];
  const nodes: Node[] = [];
  let x = 'x';
  for (let l = 0; l + 1 < widths.length; l++) {
    const last = l + 2 === widths.length;
    const out = last ? 'y' : `h${l + 1}`;
    const weightOf = weight(random, [widths[l + 1], widths[l]], compression, l + 1, block, undefined, 0, dtype);
    nodes.push({ name: `fc${l + 1}`, op: { type: 'Dense', weight: weightOf, bias: weight(random, [widths[l + 1]], 1, 0) }, inputs: [x], outputs: [out] });
    if (!last) nodes.push({ name: `relu${l + 1}`, op: { type: 'Relu' }, inputs: [out], outputs: [`a${l + 1}`] });
    x = `a${l + 1}`;
  }
  return {
    inputs: [{ name: 'x', shape: [-1, 784] }],
    outputs: [{ name: 'y', shape: [-1, 10] }],
    nodes,
    metadata: { bench: `${widths.join('-')} at 1/${compression}${block === null ? '' : `, ${blockLabel(block)}`}${dtype === 'float32' ? '' : `, ${dtype} buckets`}` },
  };
}

/** LeNet-5 style: conv 6@5x5, pool, conv 16@5x5, pool, 256-120-84-10, input [N, 1, 28, 28]. */
export function lenet(compression: number, block: BlockChoice = null): Model {
  const random = rng(100 + compression);
  const conv = (m: number, c: number, seed: number) => ({
    type: 'Conv2D' as const, weight: weight(random, [m, c, 5, 5], compression, seed, block), bias: weight(random, [m], 1, 0),
    strides: [1, 1] as [number, number], pads: [0, 0, 0, 0] as [number, number, number, number], dilations: [1, 1] as [number, number], group: 1,
  });
  const pool = { type: 'MaxPool' as const, kernel: [2, 2] as [number, number], strides: [2, 2] as [number, number], pads: [0, 0, 0, 0] as [number, number, number, number], dilations: [1, 1] as [number, number], ceilMode: false };
  const dense = (o: number, i: number, seed: number) => ({ type: 'Dense' as const, weight: weight(random, [o, i], compression, seed, block), bias: weight(random, [o], 1, 0) });
  return {
    inputs: [{ name: 'x', shape: [-1, 1, 28, 28] }],
    outputs: [{ name: 'y', shape: [-1, 10] }],
    nodes: [
      { name: 'conv1', op: conv(6, 1, 1), inputs: ['x'], outputs: ['c1'] },
      { name: 'relu1', op: { type: 'Relu' }, inputs: ['c1'], outputs: ['r1'] },
      { name: 'pool1', op: pool, inputs: ['r1'], outputs: ['p1'] },
      { name: 'conv2', op: conv(16, 6, 2), inputs: ['p1'], outputs: ['c2'] },
      { name: 'relu2', op: { type: 'Relu' }, inputs: ['c2'], outputs: ['r2'] },
      { name: 'pool2', op: pool, inputs: ['r2'], outputs: ['p2'] },
      { name: 'flatten', op: { type: 'Flatten', axis: 1 }, inputs: ['p2'], outputs: ['f'] },
      { name: 'fc1', op: dense(120, 256, 3), inputs: ['f'], outputs: ['h1'] },
      { name: 'relu3', op: { type: 'Relu' }, inputs: ['h1'], outputs: ['a1'] },
      { name: 'fc2', op: dense(84, 120, 4), inputs: ['a1'], outputs: ['h2'] },
      { name: 'relu4', op: { type: 'Relu' }, inputs: ['h2'], outputs: ['a2'] },
      { name: 'fc3', op: dense(10, 84, 5), inputs: ['a2'], outputs: ['y'] },
    ],
    metadata: { bench: `LeNet-5 at 1/${compression}${block === null ? '' : `, ${blockLabel(block)}`}` },
  };
}

/** Builds a model node by node: each call appends a node reading `inputs` and returns its output's name. */
function graphBuilder() {
  const nodes: Node[] = [];
  const add = (name: string, op: Op, inputs: string[]): string => {
    nodes.push({ name, op, inputs, outputs: [name] });
    return name;
  };
  return { nodes, add };
}

/**
 * MobileNet v2 style (issue 12), input [N, 3, 32, 32]: a 3x3 stride-2 stem,
 * five inverted residual blocks (1x1 expand, ReLU6, depthwise 3x3, ReLU6, 1x1
 * project; a residual Add where the shape allows), a 1x1 head to 256,
 * global average pool, Dense to 10. BatchNorm is folded, as the importer does.
 */
export function mobilenet(compression: number): Model {
  const random = rng(200 + compression);
  const { nodes, add } = graphBuilder();
  let seed = 1;
  const conv = (name: string, x: string, cin: number, cout: number, k: number, stride: number, group = 1): string => add(name, {
    type: 'Conv2D', weight: weight(random, [cout, cin / group, k, k], compression, seed++), bias: weight(random, [cout], 1, 0),
    strides: [stride, stride], pads: Array(4).fill((k - 1) / 2) as Pads4, dilations: [1, 1], group,
  }, [x]);
  const relu6 = (name: string, x: string): string => add(name, { type: 'Clip', min: 0, max: 6 }, [x]);
  let x = relu6('stem.relu6', conv('stem', 'x', 3, 16, 3, 2)); // [N, 16, 16, 16]
  let channels = 16;
  // (expansion, out channels, stride), MobileNet v2's pattern at a small width
  const blocks: [number, number, number][] = [[4, 16, 1], [6, 24, 2], [6, 24, 1], [6, 32, 2], [6, 32, 1]];
  blocks.forEach(([t, cout, stride], b) => {
    const hidden = channels * t;
    const e = relu6(`b${b}.expand.relu6`, conv(`b${b}.expand`, x, channels, hidden, 1, 1));
    const d = relu6(`b${b}.dw.relu6`, conv(`b${b}.dw`, e, hidden, hidden, 3, stride, hidden));
    const p = conv(`b${b}.project`, d, hidden, cout, 1, 1);
    x = stride === 1 && cout === channels ? add(`b${b}.add`, { type: 'Add' }, [x, p]) : p;
    channels = cout;
  }); // [N, 32, 4, 4]
  x = relu6('head.relu6', conv('head', x, channels, 256, 1, 1));
  x = add('pool', { type: 'GlobalAveragePool' }, [x]);
  x = add('flatten', { type: 'Flatten', axis: 1 }, [x]);
  add('y', { type: 'Dense', weight: weight(random, [10, 256], compression, seed++), bias: weight(random, [10], 1, 0) }, [x]);
  return {
    inputs: [{ name: 'x', shape: [-1, 3, 32, 32] }],
    outputs: [{ name: 'y', shape: [-1, 10] }],
    nodes,
    metadata: { bench: `MobileNet v2 style at 1/${compression}` },
  };
}

/**
 * A small vision transformer (issue 12), input [N, 3, 32, 32]: 8x8 patches
 * embedded to D = 64 (16 tokens), a learned position embedding, two pre-norm
 * encoder layers (4 heads of 16: Q, K, V and output projections as Dense,
 * MatMul of activations for the scores and the weighted sum, Softmax over
 * rows; MLP 64-128-64 with Gelu), a final LayerNorm, the mean over tokens
 * and Dense to 10. Linear layers on [N, S, D] are Reshape → Dense → Reshape,
 * as the importer writes them.
 */
export function transformer(compression: number): Model {
  const random = rng(300 + compression);
  const { nodes, add } = graphBuilder();
  const [S, D, H, MLP] = [16, 64, 4, 128];
  const dh = D / H;
  let seed = 1;
  const plain = (shape: number[], scale: number, offset = 0): Weight => weight(random, shape, 1, 0, null, scale, offset);
  const linear = (name: string, x: string, din: number, dout: number): string => {
    const flat = add(`${name}.flat`, { type: 'Reshape', shape: [-1, din] }, [x]); // [N·S, din]
    const y = add(name, { type: 'Dense', weight: weight(random, [dout, din], compression, seed++), bias: weight(random, [dout], 1, 0) }, [flat]);
    return add(`${name}.tokens`, { type: 'Reshape', shape: [-1, S, dout] }, [y]); // [N, S, dout]
  };
  const norm = (name: string, x: string): string => add(name, { type: 'LayerNorm', axis: 2, epsilon: 1e-6, scale: plain([D], 0.2, 1), bias: plain([D], 0.1) }, [x]);
  const heads = (name: string, x: string): string => add(`${name}.heads`, { type: 'Transpose', perm: [0, 2, 1, 3] },
    [add(`${name}.split`, { type: 'Reshape', shape: [-1, S, H, dh] }, [x])]); // [N, H, S, dh]

  const patches = add('patch', {
    type: 'Conv2D', weight: weight(random, [D, 3, 8, 8], compression, seed++), bias: weight(random, [D], 1, 0),
    strides: [8, 8] as Pair, pads: [0, 0, 0, 0], dilations: [1, 1], group: 1,
  }, ['x']); // [N, D, 4, 4]
  const tokens = add('tokens', { type: 'Transpose', perm: [0, 2, 1] }, [add('patch.flat', { type: 'Reshape', shape: [-1, D, S] }, [patches])]); // [N, S, D]
  const position = add('position', { type: 'Constant', value: plain([1, S, D], 0.1) }, []);
  let x = add('embed', { type: 'Add' }, [tokens, position]);
  const scale = add('scale', { type: 'Constant', value: plainWeight(Float32Array.of(1 / Math.sqrt(dh)), [1]) }, []);
  for (let l = 0; l < 2; l++) {
    const n1 = norm(`l${l}.norm1`, x);
    const q = heads(`l${l}.q`, linear(`l${l}.q`, n1, D, D));
    const kT = add(`l${l}.kT`, { type: 'Transpose', perm: [0, 2, 3, 1] },
      [add(`l${l}.k.split`, { type: 'Reshape', shape: [-1, S, H, dh] }, [linear(`l${l}.k`, n1, D, D)])]); // [N, H, dh, S]
    const v = heads(`l${l}.v`, linear(`l${l}.v`, n1, D, D));
    const scores = add(`l${l}.scores`, { type: 'Mul' }, [add(`l${l}.qk`, { type: 'MatMul' }, [q, kT]), scale]); // [N, H, S, S]
    const attention = add(`l${l}.softmax`, { type: 'Softmax', axis: 3 }, [scores]);
    const mixed = add(`l${l}.av`, { type: 'MatMul' }, [attention, v]); // [N, H, S, dh]
    const merged = add(`l${l}.merge`, { type: 'Reshape', shape: [-1, S, D] }, [add(`l${l}.unheads`, { type: 'Transpose', perm: [0, 2, 1, 3] }, [mixed])]);
    x = add(`l${l}.residual1`, { type: 'Add' }, [x, linear(`l${l}.out`, merged, D, D)]);
    const n2 = norm(`l${l}.norm2`, x);
    const hidden = add(`l${l}.gelu`, { type: 'Gelu', tanhApproximation: false }, [linear(`l${l}.fc1`, n2, D, MLP)]);
    x = add(`l${l}.residual2`, { type: 'Add' }, [x, linear(`l${l}.fc2`, hidden, MLP, D)]);
  }
  const pooled = add('pool', { type: 'ReduceMean', axes: [1], keepdims: false }, [norm('norm', x)]); // [N, D]
  add('y', { type: 'Dense', weight: weight(random, [10, D], compression, seed++), bias: weight(random, [10], 1, 0) }, [pooled]);
  return {
    inputs: [{ name: 'x', shape: [-1, 3, 32, 32] }],
    outputs: [{ name: 'y', shape: [-1, 10] }],
    nodes,
    metadata: { bench: `small vision transformer at 1/${compression}` },
  };
}

export const MODELS: Record<string, () => Model> = {
  'mlp-1/8': () => mlp(8),
  'mlp-1/64': () => mlp(64),
  'lenet-1/8': () => lenet(8),
  'mobilenet-1/8': () => mobilenet(8),
  'transformer-1/8': () => transformer(8),
  // xxh32-block at the default Z = 32, and at Z = 16 for comparison (docs/RESULTS.md, "Block hashing")
  'mlp-1/8-block16': () => mlp(8, 16),
  'mlp-1/8-block32': () => mlp(8, 32),
  'mlp-1/64-block32': () => mlp(64, 32),
  'lenet-1/8-block32': () => lenet(8, 32),
  // xxh32-aligned-block (format 1.2): the same at Z = 32, runs on 4-bucket boundaries, one hash per block
  'mlp-1/8-aligned32': () => mlp(8, { aligned: 32 }),
  'mlp-1/64-aligned32': () => mlp(64, { aligned: 32 }),
  'lenet-1/8-aligned32': () => lenet(8, { aligned: 32 }),
  'mlp300-1/8-aligned32': () => mlp(8, { aligned: 32 }, [300, 100]),
  'mlp300-1/64-aligned32': () => mlp(64, { aligned: 32 }, [300, 100]),
  // and at Z = 64: two halves of 32 columns share one hash; and Z per layer, the converter's default
  'mlp-1/8-aligned': () => mlp(8, { aligned: 'per layer' }),
  'mlp-1/64-aligned': () => mlp(64, { aligned: 'per layer' }),
  'lenet-1/8-aligned': () => lenet(8, { aligned: 'per layer' }),
  'lenet-1/64-aligned': () => lenet(64, { aligned: 'per layer' }),
  'lenet-1/64-block32': () => lenet(64, 32),
  'mlp300-1/8-aligned': () => mlp(8, { aligned: 'per layer' }, [300, 100]),
  'mlp300-1/64-aligned': () => mlp(64, { aligned: 'per layer' }, [300, 100]),
  'mlp-1/8-aligned64': () => mlp(8, { aligned: 64 }),
  'mlp-1/64-aligned64': () => mlp(64, { aligned: 64 }),
  'lenet-1/8-aligned64': () => lenet(8, { aligned: 64 }),
  'mlp300-1/8-aligned64': () => mlp(8, { aligned: 64 }, [300, 100]),
  'mlp300-1/64-aligned64': () => mlp(64, { aligned: 64 }, [300, 100]),
  'mlp300-1/8-aligned64-int4': () => mlp(8, { aligned: 64 }, [300, 100], 'int4'),
  // 784-300-100-10, the MLP the issue's streaming baseline (0.10×) was measured on
  'mlp300-1/8': () => mlp(8, null, [300, 100]),
  'mlp300-1/8-block32': () => mlp(8, 32, [300, 100]),
  'mlp300-1/64-block32': () => mlp(64, 32, [300, 100]),
  // int8 buckets, the frontier's storage (docs/RESULTS.md, the compression frontier)
  'mlp-1/8-block32-int8': () => mlp(8, 32, [1000], 'int8'),
  'mlp300-1/8-block32-int8': () => mlp(8, 32, [300, 100], 'int8'),
  'mlp300-1/8-block32-int4': () => mlp(8, 32, [300, 100], 'int4'),
  'mlp-1/8-aligned32-int8': () => mlp(8, { aligned: 32 }, [1000], 'int8'),
  'mlp300-1/8-aligned32-int8': () => mlp(8, { aligned: 32 }, [300, 100], 'int8'),
  'mlp300-1/8-aligned32-int4': () => mlp(8, { aligned: 32 }, [300, 100], 'int4'),
};

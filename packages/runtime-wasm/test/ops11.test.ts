// The ops of format 1.1 against the reference forward pass of @hnet/format,
// and every fast kernel against its naive twin (hnet_set_naive): small graphs
// that reach each kernel's paths (SIMD bodies and tails, broadcast runs,
// collapsed and strided copies, one-block and scattered reductions, depthwise
// strides 1, 2 and 3, hashed weights of every dtype), in both modes, at batch
// 1, 3 and 8, on the release build and the debug build (assertions on).

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DType, Model, Op, Tensor } from '@hnet/format';
import { decode, encode, plainWeight, runReference, sizeOf } from '@hnet/format';
import { encodeUnvalidated } from '@hnet/format/testing';
import { loadModel } from '../src/index.js';
import { assertClose, lastErrorMessage, rawInstance, relativeError, TOLERANCE, WASM_PATHS } from './helpers.js';
import { DTYPES, GraphBuilder, randomArray, randomModel11, rng } from './models.js';

const MODES = ['materialized', 'streaming'] as const;
const BATCHES = [1, 3, 8];
let WASM: URL = WASM_PATHS.release;

/** Runs the model fast and naive in both modes; each must match the reference, and the two must match each other. */
async function check(model: Model, seed: number, label: string): Promise<void> {
  const bytes = encode(model);
  for (const mode of MODES) {
    const fast = await loadModel(bytes, { mode, wasm: WASM });
    const naive = await loadModel(bytes, { mode, wasm: WASM });
    naive.abi.exports.hnet_set_naive(1);
    try {
      for (const batch of BATCHES) {
        const random = rng(seed * 131 + batch);
        const inputs: Record<string, Tensor> = Object.fromEntries(model.inputs.map((t) => {
          const shape = t.shape.map((d) => (d === -1 ? batch : d));
          return [t.name, { shape, data: randomArray(random, sizeOf(shape), 2) }];
        }));
        const expected = runReference(model, inputs);
        const a = fast.run(inputs);
        const b = naive.run(inputs);
        for (const t of model.outputs) {
          const where = `${label}, ${mode}, batch ${batch}, ${t.name}`;
          assertClose(a[t.name], expected[t.name], `${where} (fast)`);
          assertClose(b[t.name], expected[t.name], `${where} (naive)`);
          const twins = relativeError(a[t.name].data, b[t.name].data);
          assert.ok(twins <= TOLERANCE, `${where}: fast and naive differ by ${twins.toExponential(2)}`);
        }
      }
    } finally {
      fast.dispose();
      naive.dispose();
    }
  }
}

function graph(g: GraphBuilder, inputs: Record<string, number[]>, outputs: string[]): Model {
  return {
    inputs: Object.entries(inputs).map(([name, shape]) => ({ name, shape })),
    outputs: outputs.map((name) => ({ name, shape: g.shape(name) })),
    nodes: g.nodes,
    metadata: {},
  };
}

function builder(seed: number, inputs: Record<string, number[]>, dtype?: DType): GraphBuilder {
  const g = new GraphBuilder(rng(seed), dtype ? { dtype } : {});
  for (const [name, shape] of Object.entries(inputs)) g.shapes.set(name, shape);
  return g;
}

/** A Constant node of random values (hashed or plain, by the builder's choice). */
function constant(g: GraphBuilder, shape: number[]): string {
  return g.add({ type: 'Constant', value: g.weight(shape) }, []);
}

const slice = (starts: number[], ends: number[], axes: number[], steps: number[]): Op => ({ type: 'Slice', starts, ends, axes, steps });

for (const build of ['release', 'debug'] as const) describe(`format 1.1 ops, ${build} build`, () => {
  before(() => { WASM = WASM_PATHS[build]; });

  it('data movement: Constant, Expand, Concat, Slice, Transpose, Squeeze, Unsqueeze, Pad', async () => {
    const inputs = { x: [-1, 3, 5, 7] };
    const g = builder(1, inputs);
    const c = constant(g, [1, 2, 5, 7]);
    const e = g.add({ type: 'Expand', shape: [-1, 2, 1, 1] }, [c]);                       // [N, 2, 5, 7], a repeated constant
    const cat = g.add({ type: 'Concat', axis: 1 }, ['x', e, 'x']);                        // [N, 8, 5, 7]
    const s1 = g.add(slice([1, 0], [7, 2 ** 31 - 1], [1, -1], [2, 2]), [cat]);           // [N, 3, 5, 4]
    const s2 = g.add(slice([-1], [-100], [2], [-2]), [s1]);                              // [N, 3, 3, 4], backwards
    const t1 = g.add({ type: 'Transpose', perm: [0, 2, 3, 1] }, [s2]);                   // [N, 3, 4, 3]
    const t2 = g.add({ type: 'Transpose', perm: [0, 1, 3, 2] }, [t1]);                   // [N, 3, 3, 4], inner axis strided
    const u = g.add({ type: 'Unsqueeze', axes: [1, -1] }, [t2]);                          // [N, 1, 3, 3, 4, 1]
    const sq = g.add({ type: 'Squeeze', axes: [1] }, [u]);                                // [N, 3, 3, 4, 1]
    const p = g.add({ type: 'Pad', pads: [0, 1, 0, 2, 0, 0, 3, 1, 0, 2], value: 0.5 }, [sq]); // [N, 7, 4, 7, 3]
    const last = g.add({ type: 'Concat', axis: -1 }, [p, p]);                             // [N, 7, 4, 7, 6]
    await check(graph(g, inputs, [last, t1]), 1, 'movement');
  });

  it('Expand of a graph input and Concat of one input; Squeeze/Unsqueeze of a tensor read again later (a copy, not a shared buffer)', async () => {
    const inputs = { x: [-1, 1, 6] };
    const g = builder(2, inputs);
    const e = g.add({ type: 'Expand', shape: [3, 1, -1, 5, 1] }, ['x']);   // [3, 1, N, 5, 6]
    const one = g.add({ type: 'Concat', axis: 0 }, [e]);
    const sq = g.add({ type: 'Squeeze', axes: [1] }, ['x']);              // [N, 6], x still read below
    const un = g.add({ type: 'Unsqueeze', axes: [0] }, [sq]);             // [1, N, 6]
    const sum = g.add({ type: 'Add' }, [un, 'x']);                        // [1, N, 6] + [N, 1, 6] -> [N, N, 6]
    await check(graph(g, inputs, [one, sum]), 2, 'expand');
  });

  it('element-wise: Clip, HardSigmoid, HardSwish, Pow, Sqrt, Exp, Erf, Neg, Gelu (sizes with SIMD tails)', async () => {
    for (const [i, shape] of [[-1, 6, 9], [-1, 3], [-1, 16]].entries()) {
      const inputs = { x: shape };
      const g = builder(10 + i, inputs);
      const outs = [
        g.add({ type: 'Clip', min: -0.5, max: 0.7 }, ['x']),
        g.add({ type: 'Clip', min: null, max: 0.25 }, ['x']),
        g.add({ type: 'Clip', min: 0.5, max: -0.5 }, ['x']),                 // min above max: every value is max (ONNX, PyTorch)
        g.add({ type: 'HardSigmoid', alpha: 0.2, beta: 0.5 }, ['x']),
        g.add({ type: 'HardSigmoid', alpha: 1 / 6, beta: 0.5 }, ['x']),
        g.add({ type: 'HardSwish' }, ['x']),
        g.add({ type: 'Neg' }, ['x']),
        g.add({ type: 'Erf' }, ['x']),
        g.add({ type: 'Gelu', tanhApproximation: false }, ['x']),
        g.add({ type: 'Gelu', tanhApproximation: true }, ['x']),
        g.add({ type: 'Pow', exponent: 2 }, ['x']),
        g.add({ type: 'Pow', exponent: 3 }, ['x']),
        g.add({ type: 'Sqrt' }, ['x']),                                      // NaN below 0 in both
      ];
      const e = g.add({ type: 'Exp' }, [g.add({ type: 'Pow', exponent: 2 }, ['x'])]);
      outs.push(e, g.add({ type: 'Sqrt' }, [e]), g.add({ type: 'Pow', exponent: -0.5 }, [e]));
      // exp over its whole range: overflow to Infinity, underflow to 0
      const wide = g.add({ type: 'Mul' }, ['x', constant(g, [1])]);
      const far = g.add({ type: 'Mul' }, [wide, g.add({ type: 'Constant', value: plainWeight(Float32Array.of(60), [1]) }, [])]);
      outs.push(g.add({ type: 'Exp' }, [far]));
      // and the ones built on exp4 over a wide range too: tails, saturation, overflow inside
      for (const op of [{ type: 'Sigmoid' }, { type: 'Erf' }, { type: 'Gelu', tanhApproximation: false }, { type: 'Gelu', tanhApproximation: true }] as Op[]) {
        outs.push(g.add(op, [far]), g.add(op, [g.add({ type: 'Mul' }, ['x', constant(g, [1])])]));
      }
      await check(graph(g, inputs, outs), 10 + i, `element-wise ${JSON.stringify(shape)}`);
    }
  });

  it('Add, Sub, Mul, Div with broadcasting: same shape, per channel, per row, scalar, both sides, rank-extended', async () => {
    const inputs = { x: [-1, 6, 9], y: [-1, 6, 9], c: [-1, 6, 1], r: [-1, 1, 9] };
    const g = builder(20, inputs);
    const outs = [
      g.add({ type: 'Add' }, ['x', 'y']),
      g.add({ type: 'Sub' }, ['x', constant(g, [6, 1])]),       // per channel
      g.add({ type: 'Mul' }, [constant(g, [9]), 'x']),          // per row, on the left
      g.add({ type: 'Div' }, ['x', constant(g, [1])]),          // scalar
      g.add({ type: 'Div' }, [constant(g, [1, 1, 1]), 'y']),    // scalar on the left
      g.add({ type: 'Mul' }, ['c', 'r']),                       // both broadcast: [N, 6, 1] x [N, 1, 9]
      g.add({ type: 'Sub' }, ['r', 'c']),
      g.add({ type: 'Add' }, [constant(g, [2, 1, 1, 9]), 'x']), // rank 3 against rank 4
      g.add({ type: 'Div' }, ['x', g.add({ type: 'Add' }, [g.add({ type: 'Mul' }, ['y', 'y']), constant(g, [1])])]),
    ];
    await check(graph(g, inputs, outs), 20, 'binary');
  });

  it('ReduceMean, ReduceSum, ReduceMax over one block of axes (rows, planes) and over scattered axes', async () => {
    const inputs = { x: [-1, 5, 3, 11] };
    const g = builder(30, inputs);
    const outs: string[] = [];
    for (const type of ['ReduceMean', 'ReduceSum', 'ReduceMax'] as const) {
      outs.push(
        g.add({ type, axes: [-1], keepdims: true }, ['x']),     // rows
        g.add({ type, axes: [2, 3], keepdims: false }, ['x']),  // rows of 33
        g.add({ type, axes: [1], keepdims: false }, ['x']),     // planes summed row into row
        g.add({ type, axes: [1, 3], keepdims: true }, ['x']),   // two blocks: the general walk
        g.add({ type, axes: null, keepdims: true }, ['x']),     // everything (the batch too)
        g.add({ type, axes: [0], keepdims: false }, ['x']),     // the batch: planes
      );
    }
    await check(graph(g, inputs, outs), 30, 'reduce');
  });

  it('LayerNorm over the last axis and over trailing axes, with and without bias; Softmax and LogSoftmax over rows', async () => {
    for (const [i, shape] of [[-1, 4, 13], [-1, 7, 16], [-1, 3]].entries()) {
      const inputs = { x: shape };
      const g = builder(40 + i, inputs);
      const d = shape.at(-1)!;
      const outs = [
        g.add({ type: 'LayerNorm', axis: -1, epsilon: 1e-5, scale: g.weight([d]), bias: g.weight([d]) }, ['x']),
        g.add({ type: 'LayerNorm', axis: -1, epsilon: 1e-3, scale: plainWeight(randomArray(g.random, d), [d]), bias: null }, ['x']),
        g.add({ type: 'Softmax', axis: -1 }, ['x']),
        g.add({ type: 'LogSoftmax', axis: shape.length - 1 }, ['x']),
      ];
      if (shape.length === 3) {
        outs.push(g.add({ type: 'LayerNorm', axis: 1, epsilon: 1e-5, scale: g.weight(shape.slice(1)), bias: g.weight(shape.slice(1)) }, ['x']));
        outs.push(g.add({ type: 'Softmax', axis: 1 }, ['x'])); // not rows: the general kernel
      }
      await check(graph(g, inputs, outs), 40 + i, `layernorm/softmax ${JSON.stringify(shape)}`);
    }
  });

  it('Softmax rows with large and infinite logits', async () => {
    const inputs = { x: [-1, 10] };
    const g = builder(45, inputs);
    const big = g.add({ type: 'Mul' }, ['x', g.add({ type: 'Constant', value: plainWeight(Float32Array.of(80), [1]) }, [])]);
    // logits far from 0 (ONNX's test_logsoftmax_large_number): the log needs x − max before − log(sum)
    const shifted = g.add({ type: 'Add' }, ['x', g.add({ type: 'Constant', value: plainWeight(Float32Array.of(10000), [1]) }, [])]);
    const masked = g.add({ type: 'Add' }, [big, g.add({ type: 'Constant', value: plainWeight(Float32Array.from({ length: 10 }, (_, i) => (i % 3 === 0 ? -Infinity : 0)), [10]) }, [])]);
    const outs = [g.add({ type: 'Softmax', axis: -1 }, [masked]), g.add({ type: 'LogSoftmax', axis: -1 }, [big]), g.add({ type: 'LogSoftmax', axis: -1 }, [shifted]), g.add({ type: 'Softmax', axis: -1 }, [shifted])];
    await check(graph(g, inputs, outs), 45, 'softmax range');
  });

  it('MatMul: batched, broadcast batch axes, attention-shaped, odd sizes', async () => {
    const inputs = { q: [-1, 2, 7, 12], k: [-1, 2, 7, 12], v: [-1, 1, 7, 5] };
    const g = builder(50, inputs);
    const kt = g.add({ type: 'Transpose', perm: [0, 1, 3, 2] }, ['k']);        // [N, 2, 12, 7]
    const scores = g.add({ type: 'MatMul' }, ['q', kt]);                       // [N, 2, 7, 7]
    const attn = g.add({ type: 'Softmax', axis: -1 }, [scores]);
    const out = g.add({ type: 'MatMul' }, [attn, 'v']);                        // [N, 2, 7, 5], v broadcast over heads
    const w = g.add({ type: 'MatMul' }, [out, constant(g, [5, 9])]);           // by a rank-2 constant
    const left = g.add({ type: 'MatMul' }, [constant(g, [1, 2, 4, 7]), out]);  // [1, 2, 4, 7] x [N, 2, 7, 5] -> [N, 2, 4, 5]
    const wide = g.add({ type: 'MatMul' }, [constant(g, [3, 1, 1, 4, 7]), out]); // batch [3, 1, 1] with [N, 2] -> [3, N, 2]
    await check(graph(g, inputs, [w, left, wide]), 50, 'matmul');
    const m2 = builder(51, { a: [-1, 1], b: [1, 33] });
    await check(graph(m2, { a: [-1, 1], b: [1, 33] }, [m2.add({ type: 'MatMul' }, ['a', 'b'])]), 51, 'matmul outer product');
  });

  it('depthwise Conv2D (group == C == M) of strides 1, 2, 3, pads, dilations, hashed weights of every dtype', async () => {
    const configs = [
      { c: 5, hw: [9, 13], k: [3, 3], s: [1, 1], p: [1, 1, 1, 1], d: [1, 1] },
      { c: 8, hw: [12, 12], k: [3, 3], s: [2, 2], p: [1, 1, 1, 1], d: [1, 1] },
      { c: 3, hw: [11, 17], k: [5, 5], s: [2, 2], p: [2, 2, 2, 2], d: [1, 1] },
      { c: 4, hw: [10, 15], k: [3, 2], s: [1, 3], p: [0, 1, 2, 0], d: [2, 2] },
      { c: 6, hw: [7, 9], k: [3, 3], s: [1, 1], p: [0, 0, 0, 0], d: [1, 1] },
      { c: 2, hw: [6, 19], k: [1, 3], s: [2, 2], p: [0, 0, 0, 0], d: [1, 3] },
    ];
    for (const [i, cfg] of configs.entries()) {
      for (const dtype of DTYPES) {
        const inputs = { x: [-1, cfg.c, ...cfg.hw] };
        const g = builder(60 + i, inputs, dtype);
        const y = g.add({
          type: 'Conv2D', weight: g.weight([cfg.c, 1, ...cfg.k]), bias: i % 2 ? null : g.weight([cfg.c]),
          strides: cfg.s as [number, number], pads: cfg.p as [number, number, number, number], dilations: cfg.d as [number, number], group: cfg.c,
        }, ['x']);
        await check(graph(g, inputs, [y, g.add({ type: 'GlobalMaxPool' }, [y])]), 60 + i, `depthwise ${i} ${dtype}`);
      }
    }
  });

  it('ConvTranspose: strides, pads, output padding, dilations, groups, hashed weights of every dtype', async () => {
    const configs = [
      { c: 3, m: 4, hw: [5, 7], k: [3, 3], s: [2, 2], p: [1, 1, 1, 1], op: [1, 1], d: [1, 1], group: 1 },
      { c: 4, m: 6, hw: [6, 5], k: [2, 2], s: [2, 2], p: [0, 0, 0, 0], op: [0, 0], d: [1, 1], group: 2 },
      { c: 2, m: 3, hw: [4, 9], k: [3, 4], s: [1, 1], p: [0, 2, 1, 0], op: [0, 0], d: [2, 1], group: 1 },
      { c: 6, m: 6, hw: [3, 4], k: [3, 3], s: [3, 2], p: [1, 0, 0, 1], op: [2, 1], d: [1, 1], group: 6 },
    ];
    for (const [i, cfg] of configs.entries()) {
      for (const dtype of DTYPES) {
        const inputs = { x: [-1, cfg.c, ...cfg.hw] };
        const g = builder(70 + i, inputs, dtype);
        const y = g.add({
          type: 'ConvTranspose', weight: g.weight([cfg.c, cfg.m / cfg.group, ...cfg.k]), bias: i % 2 ? null : g.weight([cfg.m]),
          strides: cfg.s as [number, number], pads: cfg.p as [number, number, number, number], dilations: cfg.d as [number, number],
          outputPadding: cfg.op as [number, number], group: cfg.group,
        }, ['x']);
        await check(graph(g, inputs, [y]), 70 + i, `convtranspose ${i} ${dtype}`);
      }
    }
  });

  it('Resize: nearest (every rounding) and linear (every coordinate mode), up and down', async () => {
    const inputs = { x: [-1, 2, 5, 6] };
    const g = builder(80, inputs);
    const outs: string[] = [];
    for (const coordinates of ['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel'] as const) {
      for (const scales of [[2, 2], [0.5, 1.5], [1.7, 0.34]] as [number, number][]) {
        outs.push(g.add({ type: 'Resize', mode: 'linear', coordinates, nearest: 'round_prefer_floor', scales }, ['x']));
        for (const nearest of ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const) {
          outs.push(g.add({ type: 'Resize', mode: 'nearest', coordinates, nearest, scales }, ['x']));
        }
      }
    }
    await check(graph(g, inputs, outs), 80, 'resize');
  });

  it('a MobileNet-style block and a transformer block, hashed weights, chained', async () => {
    const inputs = { x: [-1, 4, 8, 8] };
    const g = builder(90, inputs);
    let t = g.add({ type: 'Conv2D', weight: g.weight([12, 4, 1, 1]), bias: g.weight([12]), strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 }, ['x']);
    t = g.add({ type: 'Clip', min: 0, max: 6 }, [t]);
    t = g.add({ type: 'Conv2D', weight: g.weight([12, 1, 3, 3]), bias: g.weight([12]), strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], group: 12 }, [t]);
    t = g.add({ type: 'HardSwish' }, [t]);
    // squeeze-and-excitation: a gate per channel
    const se = g.add({ type: 'HardSigmoid', alpha: 1 / 6, beta: 0.5 }, [g.add({ type: 'ReduceMean', axes: [2, 3], keepdims: true }, [t])]);
    t = g.add({ type: 'Mul' }, [t, se]);                                                          // [N, 12, 4, 4]
    // to tokens: [N, 16, 12], a class token, attention, MLP with Gelu
    let tok = g.add({ type: 'Transpose', perm: [0, 2, 1] }, [g.add({ type: 'Reshape', shape: [0, 12, 16] }, [t])]);
    const cls = g.add({ type: 'Expand', shape: [-1, 1, 12] }, [constant(g, [1, 1, 12])]);
    tok = g.add({ type: 'Concat', axis: 1 }, [cls, tok]);                                          // [N, 17, 12]
    tok = g.add({ type: 'Add' }, [tok, constant(g, [17, 12])]);
    const ln = g.add({ type: 'LayerNorm', axis: -1, epsilon: 1e-6, scale: plainWeight(randomArray(g.random, 12), [12]), bias: plainWeight(randomArray(g.random, 12), [12]) }, [tok]);
    const flat = g.add({ type: 'Reshape', shape: [-1, 12] }, [ln]);
    const qkv = g.add({ type: 'Reshape', shape: [-1, 17, 3, 2, 6] }, [g.add({ type: 'Dense', weight: g.weight([36, 12]), bias: g.weight([36]) }, [flat])]);
    const heads = g.add({ type: 'Transpose', perm: [2, 0, 3, 1, 4] }, [qkv]);                       // [3, N, 2, 17, 6]
    const part = (k: number) => g.add({ type: 'Squeeze', axes: [0] }, [g.add(slice([k], [k + 1], [0], [1]), [heads])]);
    const [q, k, v] = [part(0), part(1), part(2)];
    const scores = g.add({ type: 'Div' }, [g.add({ type: 'MatMul' }, [q, g.add({ type: 'Transpose', perm: [0, 1, 3, 2] }, [k])]), constant(g, [1])]);
    const ctx = g.add({ type: 'MatMul' }, [g.add({ type: 'Softmax', axis: -1 }, [scores]), v]);   // [N, 2, 17, 6]
    const merged = g.add({ type: 'Reshape', shape: [-1, 12] }, [g.add({ type: 'Transpose', perm: [0, 2, 1, 3] }, [ctx])]);
    const mlp = g.add({ type: 'Dense', weight: g.weight([12, 24]), bias: null }, [g.add({ type: 'Gelu', tanhApproximation: false }, [g.add({ type: 'Dense', weight: g.weight([24, 12]), bias: g.weight([24]) }, [merged])])]);
    const res = g.add({ type: 'Add' }, [mlp, flat]);
    const pooled = g.add({ type: 'ReduceMean', axes: [1], keepdims: false }, [g.add({ type: 'Reshape', shape: [-1, 17, 12] }, [res])]);
    const model = graph(g, inputs, [pooled]);
    // ReLU6 is Clip(0, 6): a bound of 0 must reach the file, though 0 is the field's FlatBuffers default
    assert.deepEqual(decode(encode(model)).nodes[1].op, { type: 'Clip', min: 0, max: 6 }, "encode(Clip {min: 0}) must write min = 0, not leave it absent (no bound)");
    await check(model, 90, 'mobile + transformer');
  });
});

describe('format 1.1 load-time errors name the node and the field', () => {
  const x = { name: 'x', shape: [-1, 4, 6] };
  const cases: [string, Op, RegExp, number[]?][] = [
    ['a perm that is no permutation', { type: 'Transpose', perm: [0, 2, 2] }, /node 0 \(Transpose 'bad'\)\.perm .* is not a permutation/],
    ['a zero step', { type: 'Slice', starts: [0], ends: [2], axes: [1], steps: [0] }, /node 0 \(Slice 'bad'\)\.steps\[0\] = 0/],
    ['a slice of the batch', { type: 'Slice', starts: [0], ends: [1], axes: [0], steps: [1] }, /node 0 \(Slice 'bad'\): slicing axis 0, the batch dimension/, [1, 4, 6]],
    ['an empty slice', { type: 'Slice', starts: [3], ends: [1], axes: [1], steps: [1] }, /node 0 \(Slice 'bad'\): the slice of axis 1 .* is empty/],
    ['pads of the wrong rank', { type: 'Pad', pads: [0, 1], value: 0 }, /node 0 \(Pad 'bad'\): pads has 2 entries, expected 2 · rank = 6/],
    ['a squeeze of a non-1 axis', { type: 'Squeeze', axes: [1] }, /node 0 \(Squeeze 'bad'\): axis 1 of \[1, 4, 6\] has size 4/],
    ['reduce axes present but empty', { type: 'ReduceMean', axes: [], keepdims: true }, /node 0 \(ReduceMean 'bad'\)\.axes needs at least one axis/],
    ['an Expand with two batch dimensions', { type: 'Expand', shape: [-1, -1, 6] }, /node 0 \(Expand 'bad'\)\.shape has more than one -1/],
    ['a NaN pad value', { type: 'Pad', pads: [0, 0, 0, 0, 0, 0], value: NaN }, /node 0 \(Pad 'bad'\)\.value is NaN/],
    ['a repeated reduce axis', { type: 'ReduceSum', axes: [1, -2], keepdims: true }, /node 0 \(ReduceSum 'bad'\): axes \[1, -2\] are out of range or repeated/],
    ['a LayerNorm scale of the wrong shape', { type: 'LayerNorm', axis: -1, epsilon: 1e-5, scale: plainWeight(new Float32Array(5), [5]), bias: null }, /node 0 \(LayerNorm 'bad'\): scale \[5\] must have the normalized shape \[6\]/],
    ['a Resize of a rank-3 input', { type: 'Resize', mode: 'nearest', coordinates: 'asymmetric', nearest: 'floor', scales: [2, 2] }, /node 0 \(Resize 'bad'\): input \[1, 4, 6\] is not \[N, C, H, W\]/],
  ];
  for (const [what, op, pattern, shape] of cases) {
    it(what, async () => {
      const model: Model = { inputs: [x], outputs: [{ name: 'y', shape: shape ?? [-1] }], nodes: [{ name: 'bad', op, inputs: ['x'], outputs: ['y'] }], metadata: {} };
      const bytes = encodeUnvalidated(model);
      const w = await rawInstance();
      const ptr = w.hnet_alloc(bytes.length);
      new Uint8Array(w.memory.buffer, ptr, bytes.length).set(bytes);
      const handle = w.hnet_load(ptr, bytes.length, 0, 0);
      const message = lastErrorMessage(w);
      w.hnet_free(ptr);
      assert.equal(handle, 0, `${what}: loaded`);
      assert.match(message, pattern);
    });
  }
});

describe('random models of the 1.1 ops', () => {
  it('match the reference, fast and naive, in both modes (30 seeds, mixed dtypes, hashed and plain)', async () => {
    WASM = WASM_PATHS.release;
    for (let seed = 1; seed <= 30; seed++) await check(randomModel11(seed), seed, `random 1.1 model ${seed}`);
  });
  it('with every weight hashed in each dtype (debug build)', async () => {
    WASM = WASM_PATHS.debug;
    for (const dtype of DTYPES) {
      for (let seed = 100; seed < 104; seed++) await check(randomModel11(seed, { dtype, hashed: true }), seed, `random 1.1 model ${seed} ${dtype}`);
    }
    WASM = WASM_PATHS.release;
  });
});

// A short retraining run of one small hand-built CNN per family of format
// 1.1's ops, through train() on each engine: the loss goes down and stays
// finite, and the trained model still runs in the reference forward.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { plainWeight, runReference, type Model, type Node, type Op } from '@hnet/format';
import { selectBackend } from '../src/backend.js';
import type { Dataset } from '../src/data.js';
import { ENGINES } from '../src/engine.js';
import { Rng } from '../src/rng.js';
import { train } from '../src/train.js';
import { randomArray, weight } from './helpers.js';

before(async () => {
  await selectBackend('cpu', null);
});

const CLASSES = 3;

/** 8×8 one-channel images: a fixed random template per class plus noise. */
function images(count: number, seed: number): Dataset {
  const templates = Array.from({ length: CLASSES }, (_, c) => randomArray(64, new Rng(100 + c), 1));
  const rng = new Rng(seed);
  const x = new Float32Array(count * 64);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    y[i] = i % CLASSES;
    for (let k = 0; k < 64; k++) x[i * 64 + k] = templates[y[i]][k] + 0.6 * (2 * rng.next() - 1);
  }
  return { x, y, shape: [1, 8, 8], count };
}

const node = (name: string, op: Op, inputs: string[]): Node => ({ name, op, inputs, outputs: [name] });
const conv = (rng: Rng, m: number, cg: number, k: number, o: Partial<Extract<Op, { type: 'Conv2D' }>> = {}): Op => ({
  type: 'Conv2D', weight: weight([m, cg, k, k], rng, Math.ceil((m * cg * k * k) / 2)), bias: weight([m], rng, undefined, 0.1),
  strides: [1, 1], pads: [(k - 1) >> 1, (k - 1) >> 1, k >> 1, k >> 1], dilations: [1, 1], group: 1, ...o,
});
const dense = (rng: Rng, out: number, inputs: number): Op => ({ type: 'Dense', weight: weight([out, inputs], rng, Math.ceil((out * inputs) / 2)), bias: weight([out], rng, undefined, 0.1) });
const constant = (rng: Rng, shape: number[], K?: number, scale = 0.5): Op => ({ type: 'Constant', value: weight(shape, rng, K, scale) });
const model = (nodes: Node[]): Model => ({
  inputs: [{ name: 'x', shape: [-1, 1, 8, 8] }], outputs: [{ name: nodes.at(-1)!.name, shape: [-1, CLASSES] }], nodes, metadata: {},
});

/** MobileNet v2/v3: Clip (ReLU6), depthwise Conv2D, HardSwish, squeeze-excite by HardSigmoid and Mul. */
function mobileNet(rng: Rng): Model {
  return model([
    node('stem', conv(rng, 4, 1, 3), ['x']),
    node('relu6', { type: 'Clip', min: 0, max: 6 }, ['stem']),
    node('dw', conv(rng, 4, 1, 3, { group: 4 }), ['relu6']),
    node('hswish', { type: 'HardSwish' }, ['dw']),
    node('squeeze', { type: 'GlobalAveragePool' }, ['hswish']),
    node('excite', conv(rng, 4, 4, 1), ['squeeze']),
    node('gate', { type: 'HardSigmoid', alpha: 1 / 6, beta: 0.5 }, ['excite']),
    node('gated', { type: 'Mul' }, ['hswish', 'gate']),
    node('flat', { type: 'Flatten', axis: 1 }, ['gated']),
    node('fc', dense(rng, CLASSES, 256), ['flat']),
  ]);
}

/** ShuffleNet v2 / DenseNet: Slice (channel split), Concat, channel shuffle (Reshape, Transpose), Pad, GlobalMaxPool, Squeeze. */
function shuffleNet(rng: Rng): Model {
  return model([
    node('stem', conv(rng, 4, 1, 3), ['x']),
    node('relu', { type: 'Relu' }, ['stem']),
    node('left', { type: 'Slice', starts: [0], ends: [2], axes: [1], steps: [1] }, ['relu']),
    node('right', { type: 'Slice', starts: [2], ends: [4], axes: [1], steps: [1] }, ['relu']),
    node('branch', conv(rng, 2, 2, 3), ['right']),
    node('join', { type: 'Concat', axis: 1 }, ['left', 'branch']),
    node('groups', { type: 'Reshape', shape: [-1, 2, 2, 8, 8] }, ['join']),
    node('swap', { type: 'Transpose', perm: [0, 2, 1, 3, 4] }, ['groups']),
    node('shuffled', { type: 'Reshape', shape: [-1, 4, 8, 8] }, ['swap']),
    node('pad', { type: 'Pad', pads: [0, 0, 1, 1, 0, 0, 1, 1], value: 0 }, ['shuffled']),
    node('pool', { type: 'MaxPool', kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], ceilMode: false }, ['pad']),
    node('gmp', { type: 'GlobalMaxPool' }, ['pool']),
    node('centred', { type: 'Sub' }, ['pool', 'gmp']), // [N, 4, 5, 5]
    node('rows', { type: 'Reshape', shape: [-1, 1, 100] }, ['centred']),
    node('squeeze', { type: 'Squeeze', axes: [1] }, ['rows']),
    node('fc', dense(rng, CLASSES, 100), ['squeeze']),
  ]);
}

/** ConvNeXt / EfficientNet: LayerNorm in NHWC, the PyTorch < 2 norm (ReduceMean, Sub, Pow, Sqrt, Div), layer scale, Gelu, SiLU by Exp/Neg/Div. */
function convNext(rng: Rng): Model {
  return model([
    node('stem', conv(rng, 6, 1, 2, { strides: [2, 2], pads: [0, 0, 0, 0] }), ['x']), // [N, 6, 4, 4]
    node('nhwc', { type: 'Transpose', perm: [0, 2, 3, 1] }, ['stem']),
    node('ln', { type: 'LayerNorm', axis: -1, epsilon: 1e-6, scale: weight([6], rng, undefined, 1), bias: weight([6], rng, undefined, 0.1) }, ['nhwc']),
    node('nchw', { type: 'Transpose', perm: [0, 3, 1, 2] }, ['ln']),
    node('dw', conv(rng, 6, 1, 3, { group: 6 }), ['nchw']),
    node('mean', { type: 'ReduceMean', axes: [1], keepdims: true }, ['dw']),
    node('centred', { type: 'Sub' }, ['dw', 'mean']),
    node('square', { type: 'Pow', exponent: 2 }, ['centred']),
    node('variance', { type: 'ReduceMean', axes: [1], keepdims: true }, ['square']),
    node('eps', { type: 'Constant', value: plainWeight(Float32Array.of(1), [1]) }, []),
    node('shifted', { type: 'Add' }, ['variance', 'eps']),
    node('deviation', { type: 'Sqrt' }, ['shifted']),
    node('normed', { type: 'Div' }, ['centred', 'deviation']),
    node('gelu', { type: 'Gelu', tanhApproximation: false }, ['normed']),
    node('layerScale', constant(rng, [6, 1, 1], 3), []),
    node('scaled', { type: 'Mul' }, ['gelu', 'layerScale']),
    node('residual', { type: 'Add' }, ['stem', 'scaled']),
    node('neg', { type: 'Neg' }, ['residual']),
    node('exp', { type: 'Exp' }, ['neg']),
    node('one', { type: 'Constant', value: plainWeight(Float32Array.of(1), [1]) }, []),
    node('denominator', { type: 'Add' }, ['exp', 'one']),
    node('silu', { type: 'Div' }, ['residual', 'denominator']),
    node('erf', { type: 'Erf' }, ['silu']),
    node('flat', { type: 'Flatten', axis: 1 }, ['erf']),
    node('fc', dense(rng, CLASSES, 96), ['flat']),
  ]);
}

/** A vision transformer: patches, class token (Constant, Unsqueeze, Expand), positions, attention (MatMul, Softmax), Gelu (tanh), reductions. */
function vit(rng: Rng): Model {
  return model([
    node('patches', conv(rng, 6, 1, 4, { strides: [4, 4], pads: [0, 0, 0, 0] }), ['x']), // [N, 6, 2, 2]
    node('flatPatches', { type: 'Reshape', shape: [-1, 6, 4] }, ['patches']),
    node('tokens', { type: 'Transpose', perm: [0, 2, 1] }, ['flatPatches']), // [N, 4, 6]
    node('cls', constant(rng, [6], 3), []),
    node('cls3', { type: 'Unsqueeze', axes: [0, 1] }, ['cls']),
    node('clsBatch', { type: 'Expand', shape: [-1, 1, 6] }, ['cls3']),
    node('sequence', { type: 'Concat', axis: 1 }, ['clsBatch', 'tokens']),
    node('positions', constant(rng, [5, 6], undefined, 0.2), []),
    node('embedded', { type: 'Add' }, ['sequence', 'positions']),
    node('ln', { type: 'LayerNorm', axis: -1, epsilon: 1e-6, scale: weight([6], rng, undefined, 1), bias: null }, ['embedded']),
    node('keys', { type: 'Transpose', perm: [0, 2, 1] }, ['ln']),
    node('scores', { type: 'MatMul' }, ['ln', 'keys']),
    node('attention', { type: 'Softmax', axis: -1 }, ['scores']),
    node('context', { type: 'MatMul' }, ['attention', 'ln']),
    node('mlp', { type: 'Gelu', tanhApproximation: true }, ['context']),
    node('residual', { type: 'Add' }, ['embedded', 'mlp']),
    node('first', { type: 'Slice', starts: [0], ends: [1], axes: [1], steps: [1] }, ['residual']),
    node('clsOut', { type: 'Squeeze', axes: [1] }, ['first']),
    node('peak', { type: 'ReduceMax', axes: [1], keepdims: false }, ['residual']),
    node('total', { type: 'ReduceSum', axes: [1], keepdims: false }, ['residual']),
    node('both', { type: 'Add' }, ['clsOut', 'peak']),
    node('all', { type: 'Add' }, ['both', 'total']),
    node('perToken', { type: 'Flatten', axis: 1 }, ['residual']),
    node('features', { type: 'Concat', axis: 1 }, ['all', 'perToken']),
    node('fc', dense(rng, CLASSES, 36), ['features']),
  ]);
}

/** A segmentation head: ConvTranspose (hashed) up, Resize nearest up and linear down. */
function segmentation(rng: Rng): Model {
  return model([
    node('down', conv(rng, 4, 1, 3, { strides: [2, 2], pads: [1, 1, 1, 1] }), ['x']), // [N, 4, 4, 4]
    node('relu', { type: 'Relu' }, ['down']),
    node('up', {
      type: 'ConvTranspose', weight: weight([4, 4, 2, 2], rng, 32), bias: weight([4], rng, undefined, 0.1),
      strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], outputPadding: [0, 0], group: 1,
    }, ['relu']), // [N, 4, 8, 8]
    node('nearest', { type: 'Resize', mode: 'nearest', coordinates: 'asymmetric', nearest: 'floor', scales: [2, 2] }, ['up']),
    node('mix', conv(rng, 4, 4, 1), ['nearest']),
    node('linear', { type: 'Resize', mode: 'linear', coordinates: 'half_pixel', nearest: 'round_prefer_floor', scales: [0.5, 0.5] }, ['mix']),
    node('peak', { type: 'ReduceMax', axes: [1], keepdims: false }, ['linear']), // [N, 4, 4]
    node('flat', { type: 'Flatten', axis: 1 }, ['peak']),
    node('fc', dense(rng, CLASSES, 64), ['flat']),
  ]);
}

const FAMILIES = { mobileNet, shuffleNet, convNext, vit, segmentation };

for (const engine of ENGINES) {
  test(`a short retraining run of one CNN per 1.1 op family lowers the loss and stays finite (${engine})`, async () => {
    const data = images(60, 1);
    const failures: string[] = [];
    for (const [name, make] of Object.entries(FAMILIES)) {
      const student = make(new Rng(7));
      const { model, summary } = await train(student, data, {
        engine, threads: 1, quiet: true, epochs: 4, batchSize: 12, learningRate: 0.05, schedule: 'constant', warmupSteps: 0, seed: 3,
      });
      const losses = summary.history.map((h) => h.loss);
      const out = runReference(model, { x: { shape: [2, 1, 8, 8], data: data.x.subarray(0, 128) } })[model.outputs[0].name].data;
      if (!losses.every(Number.isFinite) || summary.divergences > 0) failures.push(`${name}: losses ${losses}, ${summary.divergences} divergences`);
      else if (!(losses.at(-1)! < 0.8 * losses[0])) failures.push(`${name}: loss ${losses[0]} → ${losses.at(-1)}`);
      else if (!Array.from(out).every(Number.isFinite)) failures.push(`${name}: the trained model's reference forward is not finite`);
    }
    assert.deepEqual(failures, [], `${engine}: ${failures.join('; ')}`);
  });
}

// Small random models that together use every op of the format, for the
// engine tests: hashed and plain weights, signed and unsigned hashes, one
// storage dtype for all buckets.
import { hashedWeight, plainWeight, type DType, type Model, type Weight } from '@hnet/format';
import { randomArray } from '@hnet/format/testing';

type Random = () => number;
const seed = (random: Random) => Math.floor(random() * 2 ** 32);

function hashed(random: Random, shape: number[], K: number, dtype: DType, signed: boolean, scale = 0.6): Weight {
  const dense = randomArray(random, shape.reduce((a, b) => a * b, 1), scale);
  return hashedWeight(dense, shape, { algorithm: 'xxh32', bucketSeed: seed(random), signSeed: signed ? seed(random) : null }, K, dtype);
}

function plain(random: Random, shape: number[], dtype: DType, scale = 0.6): Weight {
  return plainWeight(randomArray(random, shape.reduce((a, b) => a * b, 1), scale), shape, dtype);
}

function batchNorm(random: Random, c: number) {
  const pick = (lo: number, hi: number) => Float32Array.from({ length: c }, () => lo + (hi - lo) * random());
  return { type: 'BatchNorm' as const, scale: pick(0.5, 1.5), bias: pick(-0.2, 0.2), mean: pick(-0.3, 0.3), variance: pick(0.5, 2), epsilon: 1e-5 };
}

/**
 * (smooth: Sigmoid in place of Relu and LeakyRelu, for finite differences)
 * x [N, 10] → Dense(hashed) → BatchNorm → Tanh ─┐
 *            → Dense(plain, hashed bias) → Sigmoid → Add → LeakyRelu → Softmax(axis 1)
 *            → Dense(hashed, unsigned) → Relu → LogSoftmax → Dense → Softmax (stripped: logits before it)
 */
export function denseZoo(random: Random, dtype: DType, signed: boolean, smooth = false): Model {
  const kinked = (op: Model['nodes'][0]['op']) => (smooth ? { type: 'Sigmoid' as const } : op);
  return {
    inputs: [{ name: 'x', shape: [-1, 10] }],
    outputs: [{ name: 'y', shape: [-1, 5] }],
    nodes: [
      { name: 'fc1', op: { type: 'Dense', weight: hashed(random, [16, 10], 40, dtype, signed), bias: plain(random, [16], dtype, 0.1) }, inputs: ['x'], outputs: ['h1'] },
      { name: 'bn', op: batchNorm(random, 16), inputs: ['h1'], outputs: ['b1'] },
      { name: 'tanh', op: { type: 'Tanh' }, inputs: ['b1'], outputs: ['t1'] },
      { name: 'fc2', op: { type: 'Dense', weight: plain(random, [16, 16], dtype), bias: hashed(random, [16], 7, dtype, signed, 0.1) }, inputs: ['t1'], outputs: ['h2'] },
      { name: 'sigmoid', op: { type: 'Sigmoid' }, inputs: ['h2'], outputs: ['s2'] },
      { name: 'add', op: { type: 'Add' }, inputs: ['t1', 's2'], outputs: ['a'] },
      { name: 'leaky', op: kinked({ type: 'LeakyRelu', alpha: 0.1 }), inputs: ['a'], outputs: ['l'] },
      { name: 'softmax', op: { type: 'Softmax', axis: 1 }, inputs: ['l'], outputs: ['sm'] },
      { name: 'fc3', op: { type: 'Dense', weight: hashed(random, [12, 16], 30, dtype, false, 3), bias: null }, inputs: ['sm'], outputs: ['h3'] },
      { name: 'relu', op: kinked({ type: 'Relu' }), inputs: ['h3'], outputs: ['r3'] },
      { name: 'logsoftmax', op: { type: 'LogSoftmax', axis: -1 }, inputs: ['r3'], outputs: ['ls'] },
      { name: 'fc4', op: { type: 'Dense', weight: plain(random, [5, 12], dtype), bias: plain(random, [5], dtype, 0.1) }, inputs: ['ls'], outputs: ['logits'] },
      { name: 'out', op: { type: 'Softmax', axis: -1 }, inputs: ['logits'], outputs: ['y'] },
    ],
    metadata: {},
  };
}

/**
 * (smooth: Sigmoid in place of Relu)
 * x [N, 72] → Reshape [N, 2, 6, 6] → Conv2D(hashed, pads 2, dilation 2) → BatchNorm → Relu
 *   → MaxPool(2, stride 2, pads, ceil) = p [N, 4, 3, 3]
 *   p → Conv2D(plain, group 2, stride 2, pads) → Tanh → AveragePool(excluding pads) ─┐
 *   p → AveragePool(stride 2, ceil, including pads) ───────────────────────────────── Add
 *   → Add(·, GlobalAveragePool(·) broadcast) → Add(·, MaxPool(3, stride 3: tiling, of the Relu))
 *   → GlobalAveragePool → Flatten → Dense(hashed)
 */
export function convZoo(random: Random, dtype: DType, signed: boolean, smooth = false): Model {
  return {
    inputs: [{ name: 'x', shape: [-1, 72] }],
    outputs: [{ name: 'logits', shape: [-1, 3] }],
    nodes: [
      { name: 'reshape', op: { type: 'Reshape', shape: [-1, 2, 6, 6] }, inputs: ['x'], outputs: ['x4'] },
      {
        name: 'conv1',
        op: { type: 'Conv2D', weight: hashed(random, [4, 2, 3, 3], 30, dtype, signed), bias: plain(random, [4], dtype, 0.1), strides: [1, 1], pads: [2, 2, 2, 2], dilations: [2, 2], group: 1 },
        inputs: ['x4'], outputs: ['c1'],
      },
      { name: 'bn', op: batchNorm(random, 4), inputs: ['c1'], outputs: ['b1'] },
      { name: 'relu', op: smooth ? { type: 'Sigmoid' } : { type: 'Relu' }, inputs: ['b1'], outputs: ['r1'] },
      { name: 'maxpool', op: { type: 'MaxPool', kernel: [2, 2], strides: [2, 2], pads: [0, 0, 1, 1], dilations: [1, 1], ceilMode: true }, inputs: ['r1'], outputs: ['p'] },
      {
        name: 'conv2',
        op: { type: 'Conv2D', weight: plain(random, [4, 2, 2, 2], dtype), bias: hashed(random, [4], 3, dtype, !signed, 0.1), strides: [2, 2], pads: [1, 1, 0, 0], dilations: [1, 1], group: 2 },
        inputs: ['p'], outputs: ['c2'],
      },
      { name: 'tanh', op: { type: 'Tanh' }, inputs: ['c2'], outputs: ['t'] },
      { name: 'avg2', op: { type: 'AveragePool', kernel: [2, 2], strides: [1, 1], pads: [1, 1, 0, 0], ceilMode: false, countIncludePad: false }, inputs: ['t'], outputs: ['a2'] },
      { name: 'avg1', op: { type: 'AveragePool', kernel: [2, 2], strides: [2, 2], pads: [1, 1, 0, 0], ceilMode: true, countIncludePad: true }, inputs: ['p'], outputs: ['a1'] },
      { name: 'add', op: { type: 'Add' }, inputs: ['a1', 'a2'], outputs: ['s'] },
      { name: 'gap1', op: { type: 'GlobalAveragePool' }, inputs: ['a1'], outputs: ['g1'] },
      { name: 'add2', op: { type: 'Add' }, inputs: ['s', 'g1'], outputs: ['s2'] },
      { name: 'tiled', op: { type: 'MaxPool', kernel: [3, 3], strides: [3, 3], pads: [0, 0, 0, 0], dilations: [1, 1], ceilMode: false }, inputs: ['r1'], outputs: ['p3'] },
      { name: 'add3', op: { type: 'Add' }, inputs: ['s2', 'p3'], outputs: ['s3'] },
      { name: 'gap', op: { type: 'GlobalAveragePool' }, inputs: ['s3'], outputs: ['g'] },
      { name: 'flatten', op: { type: 'Flatten', axis: 1 }, inputs: ['g'], outputs: ['f'] },
      { name: 'fc', op: { type: 'Dense', weight: hashed(random, [3, 4], 6, dtype, signed, 2), bias: plain(random, [3], dtype, 0.1) }, inputs: ['f'], outputs: ['logits'] },
    ],
    metadata: {},
  };
}

type Nodes = Model['nodes'];
const node = (name: string, op: Nodes[0]['op'], inputs: string[], output: string): Nodes[0] => ({ name, op, inputs, outputs: [output] });
const constant = (value: Weight): Nodes[0]['op'] => ({ type: 'Constant', value });
/** values in [lo, hi): a divisor or a scale that stays away from 0 */
function positive(random: Random, shape: number[], dtype: DType, lo = 1, hi = 2): Weight {
  const n = shape.reduce((a, b) => a * b, 1);
  return plainWeight(Float32Array.from({ length: n }, () => lo + (hi - lo) * random()), shape, dtype);
}

/**
 * Format 1.1's image ops (smooth: Sigmoid in place of Clip, HardSigmoid and HardSwish):
 * x [N, 72] → Reshape [N, 2, 6, 6] → Conv2D(hashed, depthwise ×2) → Clip → HardSwish = h [N, 4, 6, 6]
 *   h · HardSigmoid(GlobalMaxPool(h)) = m (squeeze-excite gating, broadcast Mul)
 *   Concat(Slice(m, channels 0..2), Slice(m, channels 1, 3 and W reversed)) / Constant[4, 1, 1]
 *     − m · Constant(hashed) → Pad → ConvTranspose(hashed, group 2, stride 2, output padding)
 *     → Resize(nearest, ×0.5) → ReduceMean over H, W ─┐
 *   Slice(that Sub, channels 3, 1; H by 2) → Resize(linear, ×1.5, ×2) → ReduceMax(W) → ReduceSum(H, W) ─ Concat → Dense(hashed)
 * The ReduceMax reads values that vary along W (the Constant of the Mul does): the plateaus
 * Clip leaves would tie, and the engines' last-bit rounding would break the ties apart differently.
 */
export function visionZoo11(random: Random, dtype: DType, signed: boolean, smooth = false): Model {
  const kinked = (op: Nodes[0]['op']) => (smooth ? { type: 'Sigmoid' as const } : op);
  return {
    inputs: [{ name: 'x', shape: [-1, 72] }],
    outputs: [{ name: 'logits', shape: [-1, 3] }],
    nodes: [
      node('reshape', { type: 'Reshape', shape: [-1, 2, 6, 6] }, ['x'], 'x4'),
      node('dw', { type: 'Conv2D', weight: hashed(random, [4, 1, 3, 3], 20, dtype, signed), bias: plain(random, [4], dtype, 0.1), strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 2 }, ['x4'], 'c1'),
      node('clip', kinked({ type: 'Clip', min: -0.3, max: 0.8 }), ['c1'], 'k1'),
      node('hswish', kinked({ type: 'HardSwish' }), ['k1'], 'h'),
      node('gmp', { type: 'GlobalMaxPool' }, ['h'], 'gm'),
      node('hsig', kinked({ type: 'HardSigmoid', alpha: 0.4, beta: 0.5 }), ['gm'], 'gate'),
      node('gated', { type: 'Mul' }, ['h', 'gate'], 'm'),
      node('sliceA', { type: 'Slice', starts: [0], ends: [2], axes: [1], steps: [1] }, ['m'], 'sA'),
      node('sliceC', { type: 'Slice', starts: [1, -1], ends: [100, -100], axes: [1, 3], steps: [2, -1] }, ['m'], 'sC'),
      node('concat', { type: 'Concat', axis: 1 }, ['sA', 'sC'], 'cat'),
      node('k', constant(positive(random, [4, 1, 1], dtype)), [], 'kdiv'),
      node('div', { type: 'Div' }, ['cat', 'kdiv'], 'd1'),
      node('kh', constant(hashed(random, [1, 4, 1, 6], 9, dtype, signed)), [], 'kmul'),
      node('scaled', { type: 'Mul' }, ['m', 'kmul'], 'ms'),
      node('sub', { type: 'Sub' }, ['d1', 'ms'], 'sb'),
      node('pad', { type: 'Pad', pads: [0, 0, 1, 0, 0, 0, 0, 1], value: 0.1 }, ['sb'], 'pd'),
      node('convT', {
        type: 'ConvTranspose', weight: hashed(random, [4, 2, 3, 3], 25, dtype, signed), bias: hashed(random, [4], 3, dtype, signed, 0.1),
        strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], outputPadding: [1, 0], group: 2,
      }, ['pd'], 'ct'),
      node('down', { type: 'Resize', mode: 'nearest', coordinates: 'asymmetric', nearest: 'floor', scales: [0.5, 0.5] }, ['ct'], 'r1'),
      node('mean', { type: 'ReduceMean', axes: [2, 3], keepdims: false }, ['r1'], 'rm1'),
      node('sliceB', { type: 'Slice', starts: [3, 0], ends: [0, 6], axes: [1, 2], steps: [-2, 2] }, ['sb'], 'sB'),
      node('up', { type: 'Resize', mode: 'linear', coordinates: 'half_pixel', nearest: 'round_prefer_floor', scales: [1.5, 2] }, ['sB'], 'r2'),
      node('max', { type: 'ReduceMax', axes: [-1], keepdims: true }, ['r2'], 'mx'),
      node('sum', { type: 'ReduceSum', axes: [2, 3], keepdims: false }, ['mx'], 'rs2'),
      node('features', { type: 'Concat', axis: -1 }, ['rm1', 'rs2'], 'f'),
      node('fc', { type: 'Dense', weight: hashed(random, [3, 6], 10, dtype, signed, 1), bias: plain(random, [3], dtype, 0.1) }, ['f'], 'logits'),
    ],
    metadata: {},
  };
}

/**
 * Format 1.1's sequence ops (a one-block transformer; smooth already):
 * x [N, 24] → Reshape [N, 4, 6]; class token Constant(hashed) [6] → Unsqueeze → Expand [N, 1, 6]
 *   → Concat (5 tokens) + Constant (position) = e → LayerNorm(scale, bias) = l
 *   attention: Softmax(Reshape(Dense(Reshape(l))) · Transpose(l) · Constant) · l → MatMul(Constant [1, 6, 6], broadcast) → Gelu
 *   h = e + that → LayerNorm(axis 1, no bias) → ÷ Sqrt(ReduceMean(Pow 2) + Constant) (ConvNeXt's norm)
 *   → Gelu(tanh)(Exp(−·) − Erf(·)) → (Squeeze(Slice token 0) + ReduceSum over tokens) → Dense
 */
export function sequenceZoo11(random: Random, dtype: DType, signed: boolean): Model {
  return {
    inputs: [{ name: 'x', shape: [-1, 24] }],
    outputs: [{ name: 'logits', shape: [-1, 4] }],
    nodes: [
      node('tokens', { type: 'Reshape', shape: [-1, 4, 6] }, ['x'], 't'),
      node('cls', constant(hashed(random, [6], 4, dtype, signed)), [], 'c'),
      node('unsqueeze', { type: 'Unsqueeze', axes: [0, -2] }, ['c'], 'c3'),
      node('expand', { type: 'Expand', shape: [-1, 1, 6] }, ['c3'], 'cb'),
      node('seq', { type: 'Concat', axis: 1 }, ['cb', 't'], 's'),
      node('pos', constant(plain(random, [5, 6], dtype, 0.3)), [], 'p'),
      node('embed', { type: 'Add' }, ['s', 'p'], 'e'),
      node('ln', { type: 'LayerNorm', axis: -1, epsilon: 1e-5, scale: positive(random, [6], dtype, 0.5, 1.5), bias: plain(random, [6], dtype, 0.1) }, ['e'], 'l'),
      node('rows', { type: 'Reshape', shape: [-1, 6] }, ['l'], 'lr'),
      node('query', { type: 'Dense', weight: hashed(random, [6, 6], 15, dtype, signed), bias: null }, ['lr'], 'qr'),
      node('q', { type: 'Reshape', shape: [-1, 5, 6] }, ['qr'], 'q'),
      node('keys', { type: 'Transpose', perm: [0, 2, 1] }, ['l'], 'kT'),
      node('scores', { type: 'MatMul' }, ['q', 'kT'], 'sc'),
      node('temperature', constant(plain(random, [1], dtype, 0.5)), [], 'tau'),
      node('scaled', { type: 'Mul' }, ['sc', 'tau'], 'ss'),
      node('softmax', { type: 'Softmax', axis: -1 }, ['ss'], 'att'),
      node('context', { type: 'MatMul' }, ['att', 'l'], 'ctx'),
      node('proj', constant(hashed(random, [1, 6, 6], 12, dtype, signed)), [], 'wp'),
      node('project', { type: 'MatMul' }, ['ctx', 'wp'], 'pr'),
      node('gelu', { type: 'Gelu', tanhApproximation: false }, ['pr'], 'g'),
      node('residual', { type: 'Add' }, ['e', 'g'], 'h'),
      node('ln2', { type: 'LayerNorm', axis: 1, epsilon: 1e-3, scale: positive(random, [5, 6], dtype, 0.5, 1.5), bias: null }, ['h'], 'l2'),
      node('square', { type: 'Pow', exponent: 2 }, ['l2'], 'sq'),
      node('variance', { type: 'ReduceMean', axes: [2], keepdims: true }, ['sq'], 'v'),
      node('eps', constant(positive(random, [1], dtype, 0.3, 0.6)), [], 'eps'),
      node('plusEps', { type: 'Add' }, ['v', 'eps'], 've'),
      node('sqrt', { type: 'Sqrt' }, ['ve'], 'sd'),
      node('normalize', { type: 'Div' }, ['l2', 'sd'], 'n'),
      node('neg', { type: 'Neg' }, ['n'], 'nn'),
      node('exp', { type: 'Exp' }, ['nn'], 'ex'),
      node('erf', { type: 'Erf' }, ['n'], 'er'),
      node('diff', { type: 'Sub' }, ['ex', 'er'], 'df'),
      node('geluTanh', { type: 'Gelu', tanhApproximation: true }, ['df'], 'gt'),
      node('first', { type: 'Slice', starts: [0], ends: [1], axes: [1], steps: [1] }, ['gt'], 'g0'),
      node('squeeze', { type: 'Squeeze', axes: [1] }, ['g0'], 'g0s'),
      node('pool', { type: 'ReduceSum', axes: [1], keepdims: false }, ['gt'], 'gs'),
      node('both', { type: 'Add' }, ['g0s', 'gs'], 'z'),
      node('fc', { type: 'Dense', weight: plain(random, [4, 6], dtype, 0.5), bias: plain(random, [4], dtype, 0.1) }, ['z'], 'logits'),
    ],
    metadata: {},
  };
}

// The reference forward pass on tiny models whose outputs are worked out by hand here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachHashed, float16Value, plainWeight, runReference, valuesToFloat32, type Model, type Op, type Weight } from '../src/index.js';
import { near, runOne } from './models.js';

// A hashed 2x3 weight, K = 4, bucket seed 7, sign seed 8. Its map, from the hash spec
// (XXH32 of the key (r, c), checked against xxhsum in hash.test.ts):
//   (r, c):   (0,0) (0,1) (0,2) (1,0) (1,1) (1,2)
//   bucket:     2     3     0     2     3     3
//   sign ξ:    −1    −1    +1    −1    −1    −1
const HASH = { algorithm: 'xxh32' as const, bucketSeed: 7, signSeed: 8 };
const BUCKETS = [0.5, -1, 2, 3];
const hashed = (signed: boolean): Weight => ({
  shape: [2, 3],
  hash: signed ? HASH : { ...HASH, signSeed: null },
  values: { dtype: 'float32', data: Float32Array.from(BUCKETS) },
});

test('the hash map of the worked example is the one written above', () => {
  const seen: [number, number][] = [];
  forEachHashed([2, 3], HASH, 4, (_f, bucket, sign) => seen.push([bucket, sign]));
  assert.deepStrictEqual(seen, [[2, -1], [3, -1], [0, 1], [2, -1], [3, -1], [3, -1]]);
});

test('hashed Dense: y = x·Vᵀ + b with V[r][c] = ξ·w[h]', () => {
  // V = [[−w2, −w3, +w0], [−w2, −w3, −w3]] = [[−2, −3, 0.5], [−2, −3, −3]]
  // x = [1, 2, 3]: V·x = [−2 − 6 + 1.5, −2 − 6 − 9] = [−6.5, −17]; + b [1, 20] = [−5.5, 3]
  const bias = plainWeight(Float32Array.from([1, 20]), [2]);
  near(runOne({ type: 'Dense', weight: hashed(true), bias }, { shape: [1, 3], data: [1, 2, 3] }).data, [-5.5, 3]);
  // Unsigned: V = [[2, 3, 0.5], [2, 3, 3]]: V·x = [9.5, 17], batch of two rows.
  near(runOne({ type: 'Dense', weight: hashed(false), bias: null }, { shape: [2, 3], data: [1, 2, 3, 0, 0, 1] }).data, [9.5, 17, 0.5, 3]);
});

test('int8 and float16 buckets decode to scale·q and binary16 values', () => {
  const int8 = { dtype: 'int8' as const, data: Int8Array.from([-127, 0, 64, 127]), scale: 0.5 };
  near([...valuesToFloat32(int8)], [-63.5, 0, 32, 63.5]);
  const half = { dtype: 'float16' as const, data: Uint16Array.from([0x3c00, 0xc000, 0x3800, 0x7bff]) };
  near([...valuesToFloat32(half)], [1, -2, 0.5, 65504]);
  assert.equal(float16Value(0x0001), 2 ** -24); // smallest subnormal
  // The same hashed Dense with int8 buckets [−63.5, 0, 32, 63.5]: V = [[−32, −63.5, −63.5], [−32, −63.5, −63.5]]
  const weight: Weight = { shape: [2, 3], hash: HASH, values: int8 };
  near(runOne({ type: 'Dense', weight, bias: null }, { shape: [1, 3], data: [1, 0, 1] }).data, [-95.5, -95.5]);
});

test('Conv2D with padding: out(y, x) = in(y−1, x−1) − in(y, x)', () => {
  // Kernel [[1, 0], [0, −1]], pads 1 on every side, input 3x3 = 1..9, output 4x4.
  const weight = plainWeight(Float32Array.from([1, 0, 0, -1]), [1, 1, 2, 2]);
  const out = runOne(
    { type: 'Conv2D', weight, bias: null, strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1 },
    { shape: [1, 1, 3, 3], data: [1, 2, 3, 4, 5, 6, 7, 8, 9] },
  );
  assert.deepStrictEqual(out.shape, [1, 1, 4, 4]);
  near(out.data, [-1, -2, -3, 0, -4, -4, -4, 3, -7, -4, -4, 6, 0, 7, 8, 9]);
});

test('Conv2D with stride, dilation, groups and bias', () => {
  // Two groups of one channel: channel 0 scaled by 1, channel 1 by 10, each with a 1x1 kernel, stride 2.
  const weight = plainWeight(Float32Array.from([1, 10]), [2, 1, 1, 1]);
  const bias = plainWeight(Float32Array.from([0.5, -0.5]), [2]);
  const x = { shape: [1, 2, 3, 3], data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 1, 1, 1, 2, 1, 1, 1, 1] };
  const out = runOne({ type: 'Conv2D', weight, bias, strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], group: 2 }, x);
  near(out.data, [1.5, 3.5, 7.5, 9.5, 9.5, 9.5, 9.5, 9.5]);
  // Dilation 2 with a 2x2 kernel of ones on 3x3 picks the four corners: 1 + 3 + 7 + 9 = 20.
  const ones = plainWeight(Float32Array.from([1, 1, 1, 1]), [1, 1, 2, 2]);
  near(runOne({ type: 'Conv2D', weight: ones, bias: null, strides: [1, 1], pads: [0, 0, 0, 0], dilations: [2, 2], group: 1 }, { shape: [1, 1, 3, 3], data: [1, 2, 3, 4, 5, 6, 7, 8, 9] }).data, [20]);
});

test('pools: max, average with and without padding in the count, global average', () => {
  const grid4 = { shape: [1, 1, 4, 4], data: Array.from({ length: 16 }, (_, i) => i + 1) };
  near(runOne({ type: 'MaxPool', kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], ceilMode: false }, grid4).data, [6, 8, 14, 16]);
  // 3x3 = 1..9, kernel 2, stride 2, pads 1: windows {1}, {2, 3}, {4, 7}, {5, 6, 8, 9}.
  const grid3 = { shape: [1, 1, 3, 3], data: [1, 2, 3, 4, 5, 6, 7, 8, 9] };
  const average = (countIncludePad: boolean) =>
    runOne({ type: 'AveragePool', kernel: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: false, countIncludePad }, grid3).data;
  near(average(false), [1, 2.5, 5.5, 7]);
  near(average(true), [0.25, 1.25, 2.75, 7]);
  // Ceil mode on 3x3 with kernel 2, stride 2: windows {1,2,4,5}, {3,6}, {7,8}, {9}.
  near(runOne({ type: 'MaxPool', kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], ceilMode: true }, grid3).data, [5, 6, 8, 9]);
  near(runOne({ type: 'GlobalAveragePool' }, { shape: [1, 2, 1, 2], data: [1, 2, 3, 5] }).data, [1.5, 4]);
});

test('activations, softmax and log-softmax', () => {
  const x = { shape: [1, 3], data: [-2, 0, 3] };
  near(runOne({ type: 'Relu' }, x).data, [0, 0, 3]);
  near(runOne({ type: 'LeakyRelu', alpha: 0.5 }, x).data, [-1, 0, 3]);
  near(runOne({ type: 'Sigmoid' }, { shape: [1, 1], data: [0] }).data, [0.5]);
  near(runOne({ type: 'Tanh' }, { shape: [1, 2], data: [0, 100] }).data, [0, 1]);
  // softmax([1, 2, 3]) = e^k / (e + e² + e³)
  const logits = { shape: [1, 3], data: [1, 2, 3] };
  near(runOne({ type: 'Softmax', axis: -1 }, logits).data, [0.09003057, 0.24472847, 0.66524096]);
  near(runOne({ type: 'LogSoftmax', axis: 1 }, logits).data, [-2.40760596, -1.40760596, -0.40760596]);
  // Over axis 0 of a [2, 1] tensor: each column sums to 1.
  near(runOne({ type: 'Softmax', axis: 0 }, { shape: [2, 1], data: [0, 0] }).data, [0.5, 0.5]);
});

test('BatchNorm, Flatten, Reshape and broadcasting Add', () => {
  // ch0: 2·(1 − 1)/√(3 + 1) + 0 = 0; ch1: 1·(2 − 0)/√(0 + 1) + 1 = 3
  const bn: Op = { type: 'BatchNorm', scale: Float32Array.from([2, 1]), bias: Float32Array.from([0, 1]), mean: Float32Array.from([1, 0]), variance: Float32Array.from([3, 0]), epsilon: 1 };
  near(runOne(bn, { shape: [1, 2, 1, 1], data: [1, 2] }).data, [0, 3]);
  assert.deepStrictEqual(runOne({ type: 'Flatten', axis: 1 }, { shape: [2, 1, 2, 3], data: Array(12).fill(1) }).shape, [2, 6]);
  assert.deepStrictEqual(runOne({ type: 'Reshape', shape: [0, 2, -1] }, { shape: [1, 6], data: [1, 2, 3, 4, 5, 6] }).shape, [1, 2, 3]);
  near(runOne({ type: 'Add' }, { shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }, { shape: [3], data: [10, 20, 30] }).data, [11, 22, 33, 14, 25, 36]);
  near(runOne({ type: 'Add' }, { shape: [2, 1], data: [1, 2] }, { shape: [1, 3], data: [10, 20, 30] }).data, [11, 21, 31, 12, 22, 32]);
});

test('inputs that do not fit the declared shape are refused', () => {
  const model: Model = {
    inputs: [{ name: 'x', shape: [-1, 3] }],
    outputs: [{ name: 'y', shape: [-1, 2] }],
    nodes: [{ name: 'fc', op: { type: 'Dense', weight: hashed(true), bias: null }, inputs: ['x'], outputs: ['y'] }],
    metadata: {},
  };
  assert.throws(() => runReference(model, { x: { shape: [1, 4], data: new Float32Array(4) } }), /inputs\[0\] \(x\): expected \[N, 3\], got \[1, 4\]/);
  assert.throws(() => runReference(model, {}), /inputs\[0\] \(x\): no value given/);
});

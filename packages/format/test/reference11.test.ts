// The reference forward pass and shape inference of the ops added in format 1.1,
// on tiny inputs whose outputs are worked out by hand here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arityOf, BATCH, inferOpShape, inferShapes, plainWeight, runReference, validateModel, type Model, type Op, type Weight } from '../src/index.js';
import { erf } from '../src/reference/erf.js';
import { near, randomArray, randomModel, rng, runOne, type Given } from './models.js';

const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);
const shapeOf = (op: Op, ...shapes: number[][]): number[] => inferOpShape('test', op, shapes);

test('Mul, Sub, Div broadcast as numpy does', () => {
  const a = { shape: [2, 3], data: [1, 2, 3, 4, 5, 6] };
  near(runOne({ type: 'Mul' }, a, { shape: [3], data: [1, 2, 4] }).data, [1, 4, 12, 4, 10, 24]);
  near(runOne({ type: 'Sub' }, a, { shape: [3], data: [1, 2, 4] }).data, [0, 0, -1, 3, 3, 2]);
  near(runOne({ type: 'Div' }, a, { shape: [2, 1], data: [2, 4] }).data, [0.5, 1, 1.5, 1, 1.25, 1.5]);
  // [2, 1, 2] * [3, 1] → [2, 3, 2]: out[i, j, k] = a[i, 0, k] · b[j, 0]
  const out = runOne({ type: 'Mul' }, { shape: [2, 1, 2], data: [1, 2, 3, 4] }, { shape: [3, 1], data: [10, 20, 30] });
  assert.deepStrictEqual(out.shape, [2, 3, 2]);
  near(out.data, [10, 20, 20, 40, 30, 60, 30, 40, 60, 80, 90, 120]);
  // The divisor broadcasts too, and may be the first input's shape's larger side.
  near(runOne({ type: 'Sub' }, { shape: [1], data: [10] }, { shape: [2, 2], data: [1, 2, 3, 4] }).data, [9, 8, 7, 6]);
});

test('Clip with either bound absent, HardSigmoid, HardSwish', () => {
  const x = { shape: [3], data: [-2, 0.5, 7] };
  near(runOne({ type: 'Clip', min: 0, max: 6 }, x).data, [0, 0.5, 6]);
  near(runOne({ type: 'Clip', min: null, max: 1 }, x).data, [-2, 0.5, 1]);
  near(runOne({ type: 'Clip', min: -1, max: null }, x).data, [-1, 0.5, 7]);
  // min(max(x, min), max): with min > max every value is max, as in ONNX and PyTorch.
  near(runOne({ type: 'Clip', min: 2, max: 1 }, x).data, [1, 1, 1]);
  assert.ok(Number.isNaN(runOne({ type: 'Clip', min: 0, max: 6 }, { shape: [1], data: [NaN] }).data[0]));
  near(runOne({ type: 'HardSigmoid', alpha: 0.2, beta: 0.5 }, { shape: [4], data: [-5, 0, 1, 3] }).data, [0, 0.5, 0.7, 1]);
  // x · clamp(x/6 + 1/2, 0, 1): −4 → 0, −1 → −1/3, 1 → 2/3, 4 → 4
  near(runOne({ type: 'HardSwish' }, { shape: [5], data: [-4, -1, 0, 1, 4] }).data, [0, -1 / 3, 0, 2 / 3, 4]);
});

test('Pow, Sqrt, Exp, Neg element-wise', () => {
  near(runOne({ type: 'Pow', exponent: 2 }, { shape: [2], data: [-3, 0.5] }).data, [9, 0.25]);
  near(runOne({ type: 'Pow', exponent: 0.5 }, { shape: [1], data: [4] }).data, [2]);
  near(runOne({ type: 'Sqrt' }, { shape: [2], data: [4, 2.25] }).data, [2, 1.5]);
  near(runOne({ type: 'Exp' }, { shape: [2], data: [0, 1] }).data, [1, Math.E]);
  near(runOne({ type: 'Neg' }, { shape: [2], data: [1, -2] }).data, [-1, 2]);
});

test('erf matches known values to 1e-15, and the Erf op to float32', () => {
  // Values of Python's math.erf (the C library's erf).
  const known: [number, number][] = [
    [0, 0], [0.01, 0.011283415555849616], [-0.1, -0.1124629160182849], [0.5, 0.5204998778130465],
    [1, 0.8427007929497149], [2, 0.9953222650189527], [3, 0.9999779095030014], [4, 0.9999999845827421],
    [5.5, 0.9999999999999927], [-6.5, -1],
  ];
  for (const [x, expected] of known) assert.ok(Math.abs(erf(x) - expected) <= 1e-15, `erf(${x}) = ${erf(x)}, expected ${expected}`);
  assert.ok(Number.isNaN(erf(NaN)));
  assert.equal(erf(Infinity), 1);
  // Odd, and monotone on a fine grid.
  for (let x = 0; x < 7; x += 0.01) {
    assert.equal(erf(-x), -erf(x));
    assert.ok(erf(x + 0.01) >= erf(x) - 3e-15, `erf is not monotone at ${x}`); // to its accuracy, ~1e-15 near 1
  }
  near(runOne({ type: 'Erf' }, { shape: [3], data: [0.5, -1, 2] }).data, [0.5204998778130465, -0.8427007929497149, 0.9953222650189527], 1e-7);
});

test('Gelu: exact (with erf) and the tanh approximation', () => {
  const x = { shape: [5], data: [-3, -1, 0, 1, 2] };
  // x · Φ(x) and x/2 · (1 + tanh(√(2/π)(x + 0.044715x³))), from Python's math module.
  near(runOne({ type: 'Gelu', tanhApproximation: false }, x).data, [-0.00404969409489031, -0.15865525393145707, 0, 0.8413447460685429, 1.9544997361036416]);
  near(runOne({ type: 'Gelu', tanhApproximation: true }, x).data, [-0.0036373920817729943, -0.15880800939172324, 0, 0.8411919906082768, 1.954597694087775]);
});

test('ReduceMean, ReduceSum, ReduceMax over axes, all axes, with and without keepdims', () => {
  const x = { shape: [2, 3], data: [1, 2, 3, 4, 5, 6] };
  const sum = runOne({ type: 'ReduceSum', axes: [1], keepdims: true }, x);
  assert.deepStrictEqual(sum.shape, [2, 1]);
  near(sum.data, [6, 15]);
  const mean = runOne({ type: 'ReduceMean', axes: [0], keepdims: false }, x);
  assert.deepStrictEqual(mean.shape, [3]);
  near(mean.data, [2.5, 3.5, 4.5]);
  near(runOne({ type: 'ReduceMean', axes: [-1], keepdims: false }, x).data, [2, 5]);
  const max = runOne({ type: 'ReduceMax', axes: null, keepdims: true }, { shape: [2, 3], data: [1, 9, 3, -4, 5, 6] });
  assert.deepStrictEqual(max.shape, [1, 1]);
  near(max.data, [9]);
  // [2, 2, 2] = 1..8 over axes 0 and 2: j = 0 takes 1, 2, 5, 6; j = 1 takes 3, 4, 7, 8.
  const cube = runOne({ type: 'ReduceSum', axes: [0, 2], keepdims: false }, { shape: [2, 2, 2], data: range(8, 1) });
  assert.deepStrictEqual(cube.shape, [2]);
  near(cube.data, [14, 22]);
  near(runOne({ type: 'ReduceMax', axes: [1], keepdims: true }, { shape: [1, 3], data: [-5, -2, -7] }).data, [-2]);
  assert.throws(() => shapeOf({ type: 'ReduceSum', axes: [1, -1], keepdims: true }, [2, 3]), /axis 1 twice/);
  assert.throws(() => shapeOf({ type: 'ReduceSum', axes: [2], keepdims: true }, [2, 3]), /axis 2 out of range for rank 2/);
  assert.throws(() => shapeOf({ type: 'ReduceSum', axes: null, keepdims: false }, [2, 3]), /leaves a scalar/);
});

test('Transpose: output axis i is input axis perm[i]', () => {
  const t = runOne({ type: 'Transpose', perm: [1, 0] }, { shape: [2, 3], data: [1, 2, 3, 4, 5, 6] });
  assert.deepStrictEqual(t.shape, [3, 2]);
  near(t.data, [1, 4, 2, 5, 3, 6]);
  // x [2, 3, 4] = 0..23, perm [2, 0, 1]: out[k, i, j] = x[i, j, k] = 12i + 4j + k.
  const out = runOne({ type: 'Transpose', perm: [2, 0, 1] }, { shape: [2, 3, 4], data: range(24) });
  assert.deepStrictEqual(out.shape, [4, 2, 3]);
  const expected = [];
  for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) expected.push(12 * i + 4 * j + k);
  near(out.data, expected);
  assert.throws(() => shapeOf({ type: 'Transpose', perm: [0, 0] }, [2, 3]), /not a permutation/);
  assert.throws(() => shapeOf({ type: 'Transpose', perm: [1, 0] }, [2, 3, 4]), /not a permutation of the 3 axes/);
});

test('MatMul: rank 2, and batched with broadcast leading dimensions', () => {
  const out = runOne({ type: 'MatMul' }, { shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }, { shape: [3, 2], data: [7, 8, 9, 10, 11, 12] });
  assert.deepStrictEqual(out.shape, [2, 2]);
  near(out.data, [58, 64, 139, 154]);
  // a [2, 1, 1, 2] x b [3, 2, 1]: batch [2, 1] with [3] → [2, 3]; out[i, j] = a_i · b_j
  const batched = runOne({ type: 'MatMul' }, { shape: [2, 1, 1, 2], data: [1, 2, 3, 4] }, { shape: [3, 2, 1], data: [1, 0, 0, 1, 1, 1] });
  assert.deepStrictEqual(batched.shape, [2, 3, 1, 1]);
  near(batched.data, [1, 2, 3, 3, 4, 7]);
  assert.throws(() => shapeOf({ type: 'MatMul' }, [2, 3], [2, 3]), /inner dimensions/);
  assert.throws(() => shapeOf({ type: 'MatMul' }, [3], [3, 2]), /rank >= 2/);
  assert.deepStrictEqual(shapeOf({ type: 'MatMul' }, [BATCH, 4, 8, 5], [BATCH, 4, 5, 8]), [BATCH, 4, 8, 8]);
});

test('LayerNorm over the last axis and over trailing axes, with scale and bias', () => {
  const scale = plainWeight(Float32Array.from([2, 3]), [2]);
  const bias = plainWeight(Float32Array.from([1, 0]), [2]);
  // Row [1, 3]: mean 2, variance 1, ε 1 → ±1/√2, then ·[2, 3] + [1, 0]. Row [0, 0] → 0 · scale + bias.
  const out = runOne({ type: 'LayerNorm', axis: -1, epsilon: 1, scale, bias }, { shape: [1, 2, 2], data: [1, 3, 0, 0] });
  near(out.data, [1 - Math.SQRT2, 3 / Math.SQRT2, 1, 0]);
  // Over axes 1.. of [1, 2, 2] = [1, 3, 0, 0]: mean 1, variance (0 + 4 + 1 + 1) / 4 = 1.5, ε 1 → / √2.5.
  const ones = plainWeight(Float32Array.from([1, 1, 1, 1]), [2, 2]);
  const d = Math.sqrt(2.5);
  near(runOne({ type: 'LayerNorm', axis: 1, epsilon: 1, scale: ones, bias: null }, { shape: [1, 2, 2], data: [1, 3, 0, 0] }).data, [0, 2 / d, -1 / d, -1 / d]);
  assert.throws(() => shapeOf({ type: 'LayerNorm', axis: -1, epsilon: 1, scale: ones, bias: null }, [1, 2, 2]), /scale \[2, 2\] must have the shape \[2\]/);
});

test('Concat along an axis, of one, two and three inputs', () => {
  const out = runOne({ type: 'Concat', axis: 1 }, { shape: [2, 1], data: [1, 2] }, { shape: [2, 2], data: [3, 4, 5, 6] });
  assert.deepStrictEqual(out.shape, [2, 3]);
  near(out.data, [1, 3, 4, 2, 5, 6]);
  near(runOne({ type: 'Concat', axis: 0 }, { shape: [1, 2], data: [1, 2] }, { shape: [2, 2], data: [3, 4, 5, 6] }).data, [1, 2, 3, 4, 5, 6]);
  const three = runOne({ type: 'Concat', axis: -1 }, { shape: [1, 1], data: [1] }, { shape: [1, 2], data: [2, 3] }, { shape: [1, 1], data: [4] });
  near(three.data, [1, 2, 3, 4]);
  near(runOne({ type: 'Concat', axis: 0 }, { shape: [2], data: [7, 8] }).data, [7, 8]);
  assert.throws(() => shapeOf({ type: 'Concat', axis: 1 }, [2, 1], [3, 1]), /dimension 0 of input 1 \[3, 1\] and input 0 \[2, 1\]: 3 differs from 2/);
  assert.throws(() => shapeOf({ type: 'Concat', axis: 0 }, [2, 1], [2]), /another rank/);
  assert.deepStrictEqual(shapeOf({ type: 'Concat', axis: 1 }, [BATCH, 2, 4], [BATCH, 3, 4]), [BATCH, 5, 4]);
  assert.throws(() => shapeOf({ type: 'Concat', axis: 1 }, [BATCH, 2], [1, 3]), /1 differs from N/);
});

test('Slice: ONNX clamping, negative starts and steps, several axes', () => {
  const x = { shape: [2, 5], data: range(10) };
  const slice = (starts: number[], ends: number[], axes: number[], steps: number[]): Given =>
    runOne({ type: 'Slice', starts, ends, axes, steps }, x);
  // Columns 1 and 3 (end 100 clamps to 5).
  const every2 = slice([1], [100], [1], [2]);
  assert.deepStrictEqual(every2.shape, [2, 2]);
  near(every2.data, [1, 3, 6, 8]);
  // Backwards from the last column: 4, 2, 0 (end −100 clamps to −1, "before the first").
  near(slice([-1], [-100], [1], [-2]).data, [4, 2, 0, 9, 7, 5]);
  // Row 0, columns 3.. on two axes; start −2 is column 3.
  near(slice([0, -2], [1, 5], [0, 1], [1, 1]).data, [3, 4]);
  // A negative axis, a start past the end with a negative step (clamps to the last column).
  near(slice([10], [2], [-1], [-1]).data, [4, 3, 9, 8]);
  assert.throws(() => shapeOf({ type: 'Slice', starts: [0], ends: [5], axes: [1], steps: [0] }, [2, 5]), /steps\[0\] must be a non-zero integer/);
  assert.throws(() => shapeOf({ type: 'Slice', starts: [3], ends: [3], axes: [1], steps: [1] }, [2, 5]), /is empty/);
  assert.throws(() => shapeOf({ type: 'Slice', starts: [0, 0], ends: [1], axes: [0], steps: [1] }, [2, 5]), /one entry per sliced axis/);
  // The batch axis: kept whole, or refused.
  assert.deepStrictEqual(shapeOf({ type: 'Slice', starts: [0, 1], ends: [2 ** 31 - 1, 3], axes: [0, 1], steps: [1, 1] }, [BATCH, 5]), [BATCH, 2]);
  assert.throws(() => shapeOf({ type: 'Slice', starts: [0], ends: [1], axes: [0], steps: [1] }, [BATCH, 5]), /must keep it whole/);
});

test('Squeeze and Unsqueeze', () => {
  assert.deepStrictEqual(runOne({ type: 'Squeeze', axes: [1] }, { shape: [2, 1, 3], data: range(6) }).shape, [2, 3]);
  assert.deepStrictEqual(shapeOf({ type: 'Squeeze', axes: [1, -1] }, [2, 1, 3, 1]), [2, 3]);
  const u = runOne({ type: 'Unsqueeze', axes: [0, 3] }, { shape: [2, 3], data: range(6) });
  assert.deepStrictEqual(u.shape, [1, 2, 3, 1]);
  near(u.data, range(6));
  assert.deepStrictEqual(shapeOf({ type: 'Unsqueeze', axes: [-1] }, [2, 3]), [2, 3, 1]);
  assert.deepStrictEqual(shapeOf({ type: 'Unsqueeze', axes: [1] }, [BATCH, 3]), [BATCH, 1, 3]);
  assert.throws(() => shapeOf({ type: 'Squeeze', axes: [0] }, [2, 1]), /axis 0 of \[2, 1\] has size 2, not 1/);
  assert.throws(() => shapeOf({ type: 'Squeeze', axes: [0] }, [BATCH, 1]), /has size N, not 1/);
  assert.throws(() => shapeOf({ type: 'Unsqueeze', axes: [4] }, [2, 3]), /axis 4 out of range for rank 3/);
  assert.throws(() => shapeOf({ type: 'Unsqueeze', axes: [0, 0] }, [2, 3]), /twice/);
});

test('Pad: constant value around every axis', () => {
  // [1, 2] padded with begins [0, 1], ends [1, 2] → [2, 5]
  const out = runOne({ type: 'Pad', pads: [0, 1, 1, 2], value: 9 }, { shape: [1, 2], data: [1, 2] });
  assert.deepStrictEqual(out.shape, [2, 5]);
  near(out.data, [9, 1, 2, 9, 9, 9, 9, 9, 9, 9]);
  assert.deepStrictEqual(shapeOf({ type: 'Pad', pads: [0, 0, 1, 1, 0, 0, 1, 1], value: 0 }, [BATCH, 3, 4, 4]), [BATCH, 3, 6, 6]);
  assert.throws(() => shapeOf({ type: 'Pad', pads: [0, 1], value: 0 }, [2, 3]), /needs 4/);
  assert.throws(() => shapeOf({ type: 'Pad', pads: [1, 0, 0, 0], value: 0 }, [BATCH, 3]), /batch dimension/);
});

test('GlobalMaxPool: max over H and W', () => {
  const out = runOne({ type: 'GlobalMaxPool' }, { shape: [1, 2, 1, 2], data: [1, 2, -3, -1] });
  assert.deepStrictEqual(out.shape, [1, 2, 1, 1]);
  near(out.data, [2, -1]);
});

test('Resize: nearest modes and rounding, linear with each coordinate transformation', () => {
  const resize = (x: Given, mode: 'nearest' | 'linear', coordinates: Extract<Op, { type: 'Resize' }>['coordinates'], nearest: Extract<Op, { type: 'Resize' }>['nearest'], scales: [number, number]): Given =>
    runOne({ type: 'Resize', mode, coordinates, nearest, scales }, x);
  const grid = { shape: [1, 1, 2, 2], data: [1, 2, 3, 4] };
  const up = resize(grid, 'nearest', 'asymmetric', 'floor', [2, 2]);
  assert.deepStrictEqual(up.shape, [1, 1, 4, 4]);
  near(up.data, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  // half_pixel: sources −0.25, 0.25, 0.75, 1.25 → 0, 0, 1, 1
  near(resize(grid, 'nearest', 'half_pixel', 'round_prefer_floor', [2, 2]).data, up.data);
  // asymmetric ×2 along W of [1, 2]: sources 0, 0.5, 1, 1.5; the ties decide.
  const row = { shape: [1, 1, 1, 2], data: [1, 2] };
  near(resize(row, 'nearest', 'asymmetric', 'round_prefer_floor', [1, 2]).data, [1, 1, 2, 2]);
  near(resize(row, 'nearest', 'asymmetric', 'round_prefer_ceil', [1, 2]).data, [1, 2, 2, 2]);
  near(resize(row, 'nearest', 'asymmetric', 'ceil', [1, 2]).data, [1, 2, 2, 2]);
  // Linear, ×2 along W: half_pixel sources clamp to 0, 0.25, 0.75, 1; align_corners 0, 1/3, 2/3, 1; asymmetric 0, 0.5, 1, 1.5→1.
  near(resize(row, 'linear', 'half_pixel', 'round_prefer_floor', [1, 2]).data, [1, 1.25, 1.75, 2]);
  near(resize(row, 'linear', 'align_corners', 'round_prefer_floor', [1, 2]).data, [1, 4 / 3, 5 / 3, 2]);
  near(resize(row, 'linear', 'asymmetric', 'round_prefer_floor', [1, 2]).data, [1, 1.5, 2, 2]);
  // Bilinear ×2 on the 2x2 grid, half_pixel: row sources 0, 0.25, 0.75, 1 blend rows [1, 2] and [3, 4].
  const bilinear = resize(grid, 'linear', 'half_pixel', 'round_prefer_floor', [2, 2]).data;
  near(bilinear.slice(4, 8), [1.5, 1.75, 2.25, 2.5]);
  // Down to one column: pytorch_half_pixel samples 0, half_pixel samples (0.5)·4 − 0.5 = 1.5 → 1 (ties to floor).
  const line = { shape: [1, 1, 1, 4], data: [10, 20, 30, 40] };
  near(resize(line, 'nearest', 'pytorch_half_pixel', 'round_prefer_floor', [1, 0.25]).data, [10]);
  near(resize(line, 'nearest', 'half_pixel', 'round_prefer_floor', [1, 0.25]).data, [20]);
  // Non-integer scale: 4 · 1.5 = 6 columns.
  assert.deepStrictEqual(shapeOf({ type: 'Resize', mode: 'linear', coordinates: 'half_pixel', nearest: 'floor', scales: [1, 1.5] }, [BATCH, 3, 4, 4]), [BATCH, 3, 4, 6]);
  assert.throws(() => shapeOf({ type: 'Resize', mode: 'linear', coordinates: 'half_pixel', nearest: 'floor', scales: [1, 0.1] }, [1, 3, 4, 4]), /shrinks axis 3/);
  assert.throws(() => shapeOf({ type: 'Resize', mode: 'linear', coordinates: 'half_pixel', nearest: 'floor', scales: [1, 2] }, [4, 4]), /4-D input/);
});

test('ConvTranspose: stride, pads, output padding, dilation, groups, bias', () => {
  const ct = (weight: Weight, extra: Partial<Extract<Op, { type: 'ConvTranspose' }>> = {}): Op => ({
    type: 'ConvTranspose', weight, bias: null, strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], outputPadding: [0, 0], group: 1, ...extra,
  });
  const x = { shape: [1, 1, 2, 2], data: [1, 2, 3, 4] };
  const ones = plainWeight(Float32Array.from([1, 1, 1, 1]), [1, 1, 2, 2]);
  // Stride 1: each input value adds a 2x2 block of itself at its position.
  const s1 = runOne(ct(ones), x);
  assert.deepStrictEqual(s1.shape, [1, 1, 3, 3]);
  near(s1.data, [1, 3, 2, 4, 10, 6, 3, 7, 4]);
  // Stride 2: the blocks do not overlap.
  near(runOne(ct(ones, { strides: [2, 2] }), x).data, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  // Pads 1 on every side crop the 3x3 to its centre.
  near(runOne(ct(ones, { pads: [1, 1, 1, 1] }), x).data, [10]);
  // Output padding adds a last row and column that only the bias reaches.
  const bias = plainWeight(Float32Array.from([0.5]), [1]);
  const padded = runOne(ct(ones, { strides: [2, 2], outputPadding: [1, 1], bias }), x);
  assert.deepStrictEqual(padded.shape, [1, 1, 5, 5]);
  near(padded.data.slice(20), [0.5, 0.5, 0.5, 0.5, 0.5]);
  near(padded.data.slice(0, 5), [1.5, 1.5, 2.5, 2.5, 0.5]);
  // Dilation 2 along W: kernel [1, 10] taps at +0 and +2: [1, 2] → [1, 2, 10, 20].
  near(runOne(ct(plainWeight(Float32Array.from([1, 10]), [1, 1, 1, 2]), { dilations: [1, 2] }), { shape: [1, 1, 1, 2], data: [1, 2] }).data, [1, 2, 10, 20]);
  // Two groups, two outputs each: channel 0 → outputs 0, 1 by [1, 2]; channel 1 → outputs 2, 3 by [3, 4].
  const grouped = runOne(ct(plainWeight(Float32Array.from([1, 2, 3, 4]), [2, 2, 1, 1]), { group: 2 }), { shape: [1, 2, 1, 1], data: [1, 2] });
  assert.deepStrictEqual(grouped.shape, [1, 4, 1, 1]);
  near(grouped.data, [1, 2, 6, 8]);
  assert.throws(() => shapeOf(ct(ones), [1, 2, 2, 2]), /input has 2 channels but weight \[1, 1, 2, 2\] needs 1/);
  assert.throws(() => shapeOf(ct(ones, { pads: [2, 2, 2, 2] }), [1, 1, 2, 2]), /would be -1/);
});

test('Constant (hashed) and Expand of it over the batch', () => {
  // The worked hash example of reference.test.ts: V = [[−2, −3, 0.5], [−2, −3, −3]].
  const hashed: Weight = { shape: [2, 3], hash: { algorithm: 'xxh32', bucketSeed: 7, signSeed: 8 }, values: { dtype: 'float32', data: Float32Array.from([0.5, -1, 2, 3]) } };
  const model: Model = {
    inputs: [{ name: 'x', shape: [-1, 1, 1] }],
    outputs: [{ name: 'y', shape: [-1, 2, 3] }, { name: 'e', shape: [-1, 3] }],
    nodes: [
      { name: 'c', op: { type: 'Constant', value: hashed }, inputs: [], outputs: ['c'] },
      { name: 'add', op: { type: 'Add' }, inputs: ['c', 'x'], outputs: ['y'] },
      { name: 'row', op: { type: 'Constant', value: plainWeight(Float32Array.from([5, 6, 7]), [1, 3]) }, inputs: [], outputs: ['r'] },
      { name: 'expand', op: { type: 'Expand', shape: [-1, 3] }, inputs: ['r'], outputs: ['e'] },
    ],
    metadata: {},
  };
  // c [2, 3] + x [N, 1, 1] → [N, 2, 3]: V, then V + 10.
  const out = runReference(model, { x: { shape: [2, 1, 1], data: Float32Array.from([0, 10]) } });
  near([...out.y.data], [-2, -3, 0.5, -2, -3, -3, 8, 7, 10.5, 8, 7, 7]);
  assert.deepStrictEqual(out.e.shape, [2, 3]);
  near([...out.e.data], [5, 6, 7, 5, 6, 7]);
  assert.deepStrictEqual(shapeOf({ type: 'Expand', shape: [-1, 1, 4] }, [1, 3, 1]), [BATCH, 3, 4]);
  assert.deepStrictEqual(inferOpShape('test', { type: 'Expand', shape: [-1, 1, 4] }, [[1, 3, 1]], 5), [5, 3, 4]);
  assert.throws(() => shapeOf({ type: 'Expand', shape: [2, 4] }, [3, 1]), /cannot broadcast/);
  // The whole model: the batch symbolic, or at a size the input's -1 and Expand's -1 both take.
  assert.deepStrictEqual([inferShapes(model).get('y'), inferShapes(model).get('e')], [[BATCH, 2, 3], [BATCH, 3]]);
  assert.deepStrictEqual([inferShapes(model, 4).get('y'), inferShapes(model, 4).get('e')], [[4, 2, 3], [4, 3]]);
});

test('arityOf: Constant none, Concat one or more, binaries two, the rest one; validation enforces it', () => {
  assert.deepStrictEqual(arityOf({ type: 'Constant', value: plainWeight(Float32Array.from([1]), [1]) }), { min: 0, max: 0 });
  assert.deepStrictEqual(arityOf({ type: 'Concat', axis: 0 }), { min: 1, max: Infinity });
  for (const type of ['Add', 'Mul', 'Sub', 'Div', 'MatMul'] as const) assert.deepStrictEqual(arityOf({ type }), { min: 2, max: 2 });
  assert.deepStrictEqual(arityOf({ type: 'Erf' }), { min: 1, max: 1 });
  const model = (op: Op, inputs: string[]): Model => ({
    inputs: [{ name: 'x', shape: [2, 2] }],
    outputs: [{ name: 'y', shape: [2, 2] }],
    nodes: [{ name: 'n', op, inputs, outputs: ['y'] }],
    metadata: {},
  });
  assert.throws(() => validateModel(model({ type: 'Concat', axis: 0 }, [])), /Concat takes 1 or more inputs, got 0/);
  assert.throws(() => validateModel(model({ type: 'Mul' }, ['x'])), /Mul takes 2 inputs, got 1/);
  assert.throws(() => validateModel(model({ type: 'Constant', value: plainWeight(new Float32Array(4), [2, 2]) }, ['x'])), /Constant takes 0 inputs, got 1/);
});

test('random models through every op run to finite outputs, each example independent of the others in its batch', () => {
  for (let seed = 1; seed <= 8; seed++) {
    const model = randomModel(seed);
    const x = randomArray(rng(seed), 3 * 2 * 6 * 6);
    const batch = runReference(model, { x: { shape: [3, 2, 6, 6], data: x } });
    for (const [name, t] of Object.entries(batch)) assert.ok(t.data.every(Number.isFinite), `seed ${seed}: ${name} has a non-finite value`);
    // z's last ReduceMax may reduce over every axis, the batch included: then it is one value for the batch.
    const last = model.nodes[model.nodes.length - 1].op;
    const perExample = last.type === 'ReduceMax' && last.axes === null ? ['y'] : ['y', 'z'];
    for (let n = 0; n < 3; n++) {
      const one = runReference(model, { x: { shape: [1, 2, 6, 6], data: x.subarray(n * 72, (n + 1) * 72) } });
      for (const name of perExample) {
        const size = one[name].data.length;
        near([...one[name].data], [...batch[name].data.subarray(n * size, (n + 1) * size)], 1e-6);
      }
    }
  }
});

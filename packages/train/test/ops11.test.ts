// Format 1.1's ops one at a time: the tfjs forward (TrainableGraph) and the
// ort forward (the compiled logits graph) against the format's reference
// forward, over the cases where the semantics have corners: Slice's clamping
// and negative steps, every Resize mode, ConvTranspose's geometry, Expand's
// -1, hashed Constants, LayerNorm's axes, grouped and depthwise Conv2D.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { hashedWeight, inferShapes, plainWeight, runReference, sizeOf, type Model, type Node, type Op, type ResizeOp, type Weight } from '@hnet/format';
import { randomArray, rng } from '@hnet/format/testing';
import { selectBackend } from '../src/backend.js';
import { createEngine } from '../src/engines.js';
import { TrainableGraph } from '../src/graph.js';

before(async () => {
  await selectBackend('cpu', null);
});

const random = rng(21);
const plain = (shape: number[], scale = 1): Weight => plainWeight(randomArray(random, sizeOf(shape), scale), shape);
const hashed = (shape: number[], K: number): Weight =>
  hashedWeight(randomArray(random, sizeOf(shape)), shape, { algorithm: 'xxh32', bucketSeed: 7 + K, signSeed: 11 + K }, K);
const positive = (shape: number[]): Weight => plainWeight(Float32Array.from({ length: sizeOf(shape) }, () => 1 + random()), shape);

interface Case {
  name: string;
  /** per-example input shape */
  input: number[];
  /** nodes from 'x' to 'y' */
  nodes: Node[];
}

/** One op on x (and a Constant as its second input, when given). */
function single(name: string, input: number[], op: Op, second?: Weight): Case {
  const nodes: Node[] = [];
  if (second) nodes.push({ name: 'k', op: { type: 'Constant', value: second }, inputs: [], outputs: ['k'] });
  nodes.push({ name, op, inputs: second ? ['x', 'k'] : ['x'], outputs: ['y'] });
  return { name, input, nodes };
}

/** ops applied in a chain, x → … → y */
function chain(name: string, input: number[], ops: Op[]): Case {
  return { name, input, nodes: ops.map((op, k) => ({ name: `${name}.${k}`, op, inputs: [k ? `t${k}` : 'x'], outputs: [k === ops.length - 1 ? 'y' : `t${k + 1}`] })) };
}

const slice = (starts: number[], ends: number[], axes: number[], steps: number[]): Op => ({ type: 'Slice', starts, ends, axes, steps });
const resize = (mode: ResizeOp['mode'], coordinates: ResizeOp['coordinates'], nearest: ResizeOp['nearest'], scales: [number, number]): Op => ({ type: 'Resize', mode, coordinates, nearest, scales });
const convT = (weight: Weight, o: Partial<Extract<Op, { type: 'ConvTranspose' }>>): Op => ({
  type: 'ConvTranspose', weight, bias: null, strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], outputPadding: [0, 0], group: 1, ...o,
});

const COORDINATES = ['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel'] as const;
const ROUNDINGS = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const;
const SCALES: [number, number][] = [[2, 3], [0.5, 0.75], [1.5, 1.25], [0.6, 2.5]];

const CASES: Case[] = [
  single('Constant (hashed) + x', [3, 4], { type: 'Add' }, hashed([3, 4], 5)),
  { name: 'Concat of x, −x, x on the last axis', input: [2, 3], nodes: [
    { name: 'neg', op: { type: 'Neg' }, inputs: ['x'], outputs: ['n'] },
    { name: 'concat', op: { type: 'Concat', axis: -1 }, inputs: ['x', 'n', 'x'], outputs: ['y'] },
  ] },
  single('Slice 1.. of axis 2, end past the size', [4, 5], slice([1], [100], [2], [1])),
  single('Slice reversed (start −1, end −100, step −1)', [4, 5], slice([-1], [-100], [-1], [-1])),
  single('Slice two axes, steps −2 and 3', [5, 7], slice([4, 0], [0, 7], [1, 2], [-2, 3])),
  single('Slice start clamped from −100, start 100 clamped with step −2', [5, 6], slice([-100, 100], [2, 0], [1, 2], [1, -2])),
  single('Clip both bounds', [6], { type: 'Clip', min: -0.4, max: 0.5 }),
  single('Clip min only', [6], { type: 'Clip', min: 0.1, max: null }),
  single('Clip max only (ReLU6-like)', [6], { type: 'Clip', min: null, max: 0.3 }),
  single('HardSigmoid', [6], { type: 'HardSigmoid', alpha: 0.7, beta: 0.4 }),
  single('HardSwish', [6], { type: 'HardSwish' }),
  single('Mul by a Constant broadcast [4]', [3, 4], { type: 'Mul' }, plain([4])),
  single('Sub of a Constant broadcast [3, 1]', [3, 4], { type: 'Sub' }, plain([3, 1])),
  single('Div by a Constant broadcast [1, 4]', [3, 4], { type: 'Div' }, positive([1, 4])),
  single('Pow 2', [5], { type: 'Pow', exponent: 2 }),
  single('Pow 3', [5], { type: 'Pow', exponent: 3 }),
  chain('Sqrt of Exp', [5], [{ type: 'Exp' }, { type: 'Sqrt' }]),
  single('Erf', [7], { type: 'Erf' }),
  single('Gelu (erf)', [7], { type: 'Gelu', tanhApproximation: false }),
  single('Gelu (tanh)', [7], { type: 'Gelu', tanhApproximation: true }),
  single('ReduceMean over 1, 2, kept', [3, 4, 2], { type: 'ReduceMean', axes: [1, 2], keepdims: true }),
  single('ReduceSum over −1, dropped', [3, 4], { type: 'ReduceSum', axes: [-1], keepdims: false }),
  single('ReduceMax over 1, dropped', [3, 4], { type: 'ReduceMax', axes: [1], keepdims: false }),
  single('Transpose', [2, 3, 4], { type: 'Transpose', perm: [0, 3, 1, 2] }),
  { name: 'MatMul x · xᵀ (batched)', input: [3, 4], nodes: [
    { name: 't', op: { type: 'Transpose', perm: [0, 2, 1] }, inputs: ['x'], outputs: ['t'] },
    { name: 'mm', op: { type: 'MatMul' }, inputs: ['x', 't'], outputs: ['y'] },
  ] },
  single('MatMul by a Constant [4, 5] (broadcast over the batch)', [3, 4], { type: 'MatMul' }, plain([4, 5])),
  { name: 'MatMul Unsqueeze(x) · Constant [1, 2, 4, 3] (both broadcast)', input: [3, 4], nodes: [
    { name: 'u', op: { type: 'Unsqueeze', axes: [1] }, inputs: ['x'], outputs: ['u'] },
    { name: 'k', op: { type: 'Constant', value: plain([1, 2, 4, 3]) }, inputs: [], outputs: ['k'] },
    { name: 'mm', op: { type: 'MatMul' }, inputs: ['u', 'k'], outputs: ['y'] },
  ] },
  single('LayerNorm on the last axis, with bias', [3, 6], { type: 'LayerNorm', axis: -1, epsilon: 1e-5, scale: plain([6]), bias: plain([6]) }),
  single('LayerNorm from axis 1, hashed scale, no bias', [3, 4], { type: 'LayerNorm', axis: 1, epsilon: 1e-3, scale: hashed([3, 4], 5), bias: null }),
  chain('Unsqueeze then Squeeze', [3, 4], [{ type: 'Unsqueeze', axes: [2, -1] }, { type: 'Squeeze', axes: [-1] }]),
  single('Pad with a value', [2, 3, 3], { type: 'Pad', pads: [0, 0, 1, 2, 0, 1, 0, 3], value: 0.25 }),
  single('GlobalMaxPool', [3, 4, 5], { type: 'GlobalMaxPool' }),
  ...COORDINATES.flatMap((coordinates, i) => [
    ...ROUNDINGS.map((nearest, j) => single(`Resize nearest ${coordinates} ${nearest} ×${SCALES[(i + j) % 4]}`, [2, 4, 5], resize('nearest', coordinates, nearest, SCALES[(i + j) % 4]))),
    ...SCALES.map((scales) => single(`Resize linear ${coordinates} ×${scales}`, [2, 4, 5], resize('linear', coordinates, 'round_prefer_floor', scales))),
  ]),
  single('ConvTranspose plain', [2, 4, 3], convT(plain([2, 3, 3, 3]), {})),
  single('ConvTranspose hashed, stride 2, pads, output padding, bias', [2, 4, 3], convT(hashed([2, 3, 3, 2], 9), { strides: [2, 3], pads: [1, 0, 0, 1], outputPadding: [1, 2], bias: plain([3]) })),
  single('ConvTranspose group 2, dilation 2, output padding 1 ≥ stride 1', [4, 3, 3], convT(plain([4, 1, 2, 2]), { dilations: [2, 2], outputPadding: [1, 1], group: 2 })),
  single('ConvTranspose depthwise, pads larger than the kernel reach', [3, 5, 5], convT(plain([3, 1, 3, 3]), { group: 3, strides: [2, 2], pads: [3, 2, 1, 0] })),
  single('Conv2D grouped, hashed', [4, 5, 5], { type: 'Conv2D', weight: hashed([6, 2, 3, 3], 17), bias: plain([6]), strides: [1, 2], pads: [1, 1, 0, 1], dilations: [1, 1], group: 2 }),
  single('Conv2D depthwise, hashed', [3, 5, 5], { type: 'Conv2D', weight: hashed([3, 1, 3, 3], 8), bias: null, strides: [1, 1], pads: [1, 1, 1, 1], dilations: [2, 1], group: 3 }),
  single('Expand [−1, 3, 4] of [N, 1, 4]', [1, 4], { type: 'Expand', shape: [-1, 3, 4] }),
  { name: 'Expand a Constant to the batch, + x', input: [2, 4], nodes: [
    { name: 'k', op: { type: 'Constant', value: hashed([1, 4], 3) }, inputs: [], outputs: ['k'] },
    { name: 'e', op: { type: 'Expand', shape: [-1, 2, 4] }, inputs: ['k'], outputs: ['ke'] },
    { name: 'add', op: { type: 'Add' }, inputs: ['x', 'ke'], outputs: ['y'] },
  ] },
];

function modelOf(c: Case, flatten: boolean): Model {
  const nodes = flatten ? [...c.nodes.map((n) => ({ ...n, outputs: n.outputs.map((o) => (o === 'y' ? 'pre' : o)), inputs: n.inputs.map((i) => (i === 'y' ? 'pre' : i)) })), { name: 'flatten', op: { type: 'Flatten', axis: 1 } as Op, inputs: ['pre'], outputs: ['y'] }] : c.nodes;
  const open: Model = { inputs: [{ name: 'x', shape: [-1, ...c.input] }], outputs: [], nodes, metadata: {} };
  return { ...open, outputs: [{ name: 'y', shape: inferShapes(open).get('y')! }] };
}

/** max |a − b| ≤ 1e-5 · max(1, max |b|), shapes equal */
function assertNear(a: ArrayLike<number>, b: ArrayLike<number>, label: string): void {
  assert.equal(a.length, b.length, `${label}: ${a.length} values vs ${b.length}`);
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  assert.ok(diff <= 1e-5 * scale, `${label}: max difference ${diff} (largest ${scale})`);
}

const N = 3;

// Both tfjs backends: a kernel (or a gradient) one of them lacks fails here.
for (const backend of ['cpu', 'wasm'] as const) test(`the tfjs forward of each 1.1 op equals the reference forward (shape and values; ${backend} backend)`, async () => {
  await selectBackend(backend, null);
  for (const c of CASES) {
    const model = modelOf(c, false);
    const x = randomArray(rng(5), N * sizeOf(c.input), 1.5);
    const ref = runReference(model, { x: { shape: [N, ...c.input], data: x } }).y;
    const graph = new TrainableGraph(model, { trainable: false });
    const ours = tf.tidy(() => graph.forward(tf.tensor(x, [N, ...c.input])));
    assert.deepEqual(ours.shape, ref.shape, c.name);
    assertNear(ours.dataSync(), ref.data, `tfjs ${c.name}`);
    ours.dispose();
    graph.dispose();
  }
});

test('the ort forward of each 1.1 op equals the reference forward', async () => {
  for (const c of CASES) {
    const model = modelOf(c, true);
    const x = randomArray(rng(5), N * sizeOf(c.input), 1.5);
    const ref = runReference(model, { x: { shape: [N, ...c.input], data: x } }).y;
    const engine = await createEngine('ort', model, { threads: 1 });
    assertNear(await engine.logits(x, N), ref.data, `ort ${c.name}`);
    await engine.dispose();
  }
});

/** The case behind a trainable Constant that scales x (so that every case has a gradient to compare), flattened to logits. */
function scaledModel(c: Case): Model {
  const rename = (t: string) => (t === 'x' ? 'xs' : t);
  const nodes: Node[] = [
    { name: 'gain', op: { type: 'Constant', value: plainWeight(Float32Array.from({ length: sizeOf(c.input) }, () => 0.5 + random()), c.input) }, inputs: [], outputs: ['gain'] },
    { name: 'scale', op: { type: 'Mul' }, inputs: ['x', 'gain'], outputs: ['xs'] },
    ...c.nodes.map((n) => ({ ...n, inputs: n.inputs.map(rename) })),
  ];
  return modelOf({ ...c, nodes }, true);
}

for (const backend of ['cpu', 'wasm'] as const) test(`tfjs and ort gradients agree on each 1.1 op (1e-4 of the largest), the input scaled by a trained Constant (tfjs ${backend} backend)`, async () => {
  await selectBackend(backend, null);
  for (const c of CASES) {
    const model = scaledModel(c);
    const classes = inferShapes(model).get('y')![1];
    const draw = rng(6);
    const batch = { count: N, x: randomArray(draw, N * sizeOf(c.input), 1.5), labels: Int32Array.from({ length: N }, () => Math.floor(draw() * classes)), teacher: null };
    const [ort, tfjs] = [await createEngine('ort', model, { threads: 1 }), await createEngine('tfjs', model, { backend })];
    const a = await ort.gradients(batch);
    const b = await tfjs.gradients(batch);
    assert.ok(Math.abs(a.loss - b.loss) <= 1e-5 * Math.max(1, b.loss), `${c.name}: loss ${a.loss} vs ${b.loss}`);
    a.grads.forEach((g, k) => {
      let diff = 0;
      let scale = 0;
      g.forEach((v, i) => {
        diff = Math.max(diff, Math.abs(v - b.grads[k][i]));
        scale = Math.max(scale, Math.abs(b.grads[k][i]));
      });
      assert.ok(scale > 0, `${c.name} param ${k}: no gradient reaches it`);
      assert.ok(diff <= 1e-4 * scale, `${c.name} param ${k}: max difference ${diff} (largest ${scale})`);
    });
    await ort.dispose();
    await tfjs.dispose();
  }
});

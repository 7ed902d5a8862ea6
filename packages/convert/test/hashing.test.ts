// Hashing policy and export: which layers are hashed, with how many buckets
// and which seeds; and a hashed model exported to ONNX must compute in
// onnxruntime what the reference forward pass computes from the .hnet.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode, encode, expandWeight, plainWeight, runReference, weightsOf, type DenseOp, type Model } from '@hnet/format';
import { ConvertError, exportOnnx, hashModel, importOnnx } from '../src/index.js';
import { assertClose, fixture, loadNpy, runOrt } from './helpers.js';

const lenet = (): Model => importOnnx(fixture('lenet.onnx')).model;
const layer = (m: Model, name: string) => weightsOf(m.nodes.find((n) => n.name === name)!.op)!;

test('compression 1 keeps every layer dense and exact', () => {
  const dense = lenet();
  const { model, report } = hashModel(dense, { compression: 1 });
  assert.ok(report.weights.every((w) => !w.hashed && w.relError === 0 && w.real === w.virtual));
  model.nodes.forEach((n, i) => {
    const w = weightsOf(n.op);
    if (w) assert.deepEqual(expandWeight(w.weight), expandWeight(weightsOf(dense.nodes[i].op)!.weight));
  });
});

test('compression 1/8: K = ceil(virtual / 8) for layers of at least minVirtual weights; small layers and biases stay dense', () => {
  const { model, report } = hashModel(lenet(), { compression: 1 / 8, seed: 7 });
  const byLayer = new Map(report.weights.filter((w) => w.part === 'weight').map((w) => [w.layer, w]));
  assert.equal(byLayer.get('/conv1/Conv')!.hashed, false); // 150 < 1000
  assert.equal(byLayer.get('/fc3/Gemm')!.hashed, false); // 840 < 1000
  for (const name of ['/conv2/Conv', '/fc1/Gemm', '/fc2/Gemm']) {
    const w = byLayer.get(name)!;
    assert.equal(w.hashed, true);
    assert.equal(w.real, Math.ceil(w.virtual / 8));
    assert.equal(layer(model, name).weight.values.data.length, w.real);
    // Without retraining the projection keeps about sqrt(1/8) of the energy of random-like weights.
    assert.ok(w.relError > 0.5 && w.relError < 1, `${name} rel. error ${w.relError}`);
  }
  assert.ok(report.weights.filter((w) => w.part === 'bias').every((w) => !w.hashed));
  assert.ok(model.metadata['hash.policy'].includes('"compression":0.125'));
});

test('every hashed weight has its own seeds; they depend on the policy seed', () => {
  const a = hashModel(lenet(), { compression: 1 / 4, seed: 1, hashBias: true }).report.weights.filter((w) => w.hashed);
  const seeds = a.flatMap((w) => [w.hash!.bucketSeed, w.hash!.signSeed]);
  assert.equal(new Set(seeds).size, seeds.length);
  const b = hashModel(lenet(), { compression: 1 / 4, seed: 2, hashBias: true }).report.weights.filter((w) => w.hashed);
  assert.notEqual(a[0].hash!.bucketSeed, b[0].hash!.bucketSeed);
  assert.ok(a.some((w) => w.part === 'bias'));
});

test('per-layer overrides: --dense and --buckets; unknown names and bad K are policy errors', () => {
  const { report } = hashModel(lenet(), { compression: 1 / 8, dense: ['/fc1/Gemm'], buckets: { '/fc3/Gemm': 100 } });
  const w = (name: string) => report.weights.find((r) => r.layer === name && r.part === 'weight')!;
  assert.equal(w('/fc1/Gemm').hashed, false);
  assert.equal(w('/fc3/Gemm').real, 100);
  const policyError = (f: () => unknown, re: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof ConvertError && e.code === 'bad-policy' && re.test(e.message));
  policyError(() => hashModel(lenet(), { compression: 1 / 8, dense: ['fc9'] }), /no Dense\/Conv2D layer named "fc9".*the layers are: \/conv1\/Conv/);
  policyError(() => hashModel(lenet(), { compression: 1 / 8, buckets: { '/fc3/Gemm': 5000 } }), /5000 buckets for 840/);
  policyError(() => hashModel(lenet(), { compression: 0 }), /compression must be in \(0, 1\]/);
});

test('hash xxh32-block: every hashed weight gets the block (default 32), the policy records it, and the projection is as close as per element', () => {
  const perElement = hashModel(lenet(), { compression: 1 / 8, seed: 3 }).report.weights.filter((w) => w.hashed);
  for (const block of [undefined, 4]) {
    const { model, report } = hashModel(lenet(), { compression: 1 / 8, seed: 3, hash: 'xxh32-block', block });
    const hashed = report.weights.filter((w) => w.hashed);
    assert.equal(hashed.length, perElement.length);
    for (const [i, w] of hashed.entries()) {
      // Z is capped at the layer's K (a longer run would wrap onto itself)
      assert.deepEqual(w.hash, { ...perElement[i].hash!, algorithm: 'xxh32-block', block: Math.min(block ?? 32, w.real) }, w.layer);
      // the same least-squares fit: its residual differs from per element's by collisions' luck only
      assert.ok(Math.abs(w.relError - perElement[i].relError) < 0.1, `${w.layer}: ${w.relError} vs ${perElement[i].relError}`);
    }
    assert.match(model.metadata['hash.policy'], new RegExp(`"hash":"xxh32-block","block":${block ?? 32}`));
    assert.deepEqual(decode(encode(model)).nodes.map((n) => weightsOf(n.op)?.weight.hash ?? null), model.nodes.map((n) => weightsOf(n.op)?.weight.hash ?? null));
  }
  const tiny = hashModel(lenet(), { compression: 1 / 128, hash: 'xxh32-block' }).report.weights.filter((w) => w.hashed && w.real < 32);
  assert.ok(tiny.length > 0, 'at 1/128 some layer has fewer than 32 buckets');
  for (const w of tiny) assert.equal(w.hash?.algorithm === 'xxh32-block' && w.hash.block, w.real, `${w.layer}: Z = K`);
  const policyError = (f: () => unknown, re: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof ConvertError && e.code === 'bad-policy' && re.test(e.message));
  policyError(() => hashModel(lenet(), { compression: 1 / 8, hash: 'xxh32-block', block: 33 }), /block must be an integer in 1\.\.32 \(columns per hash\), got 33/);
  policyError(() => hashModel(lenet(), { compression: 1 / 8, hash: 'md5' as never }), /hash must be xxh32, xxh32-block or xxh32-aligned-block, got md5/);
});

test('hash xxh32-aligned-block: Z a multiple of 4 within K (4 when K < 4), recorded in the policy, and a bad block refused', () => {
  // block undefined: 64 where a layer has two run starts per row (⌊K/4⌋ ≥ 2 · rows), else 32
  const perLayer = (k: number, rows: number): number => (Math.floor(k / 4) >= 2 * rows ? 64 : 32);
  const sawBoth = new Set<number>();
  for (const [compression, block] of [[1 / 8, 32], [1 / 128, 32], [1 / 1024, 32], [1 / 8, 64], [1 / 128, 64], [1 / 8, undefined], [1 / 64, undefined]] as const) {
    const { model, report } = hashModel(lenet(), { compression, seed: 3, hash: 'xxh32-aligned-block', block });
    for (const w of report.weights.filter((r) => r.hashed)) {
      const z = block ?? perLayer(w.real, w.shape[0]);
      if (block === undefined) sawBoth.add(z);
      const expected = w.real < 4 ? 4 : Math.min(z, w.real - (w.real % 4));
      assert.deepEqual(w.hash && w.hash.algorithm !== 'xxh32' && [w.hash.algorithm, w.hash.block], ['xxh32-aligned-block', expected], `${w.layer} K = ${w.real}`);
    }
    assert.match(model.metadata['hash.policy'], new RegExp(`"hash":"xxh32-aligned-block","block":${block ?? '"per layer"'}`));
    assert.deepEqual(decode(encode(model)).nodes.map((n) => weightsOf(n.op)?.weight.hash ?? null), model.nodes.map((n) => weightsOf(n.op)?.weight.hash ?? null));
  }
  assert.deepEqual([...sawBoth].sort(), [32, 64], 'the per-layer default picks both');
  for (const block of [2, 6, 68]) {
    assert.throws(() => hashModel(lenet(), { compression: 1 / 8, hash: 'xxh32-aligned-block', block }),
      (e: unknown) => e instanceof ConvertError && e.code === 'bad-policy' && new RegExp(`xxh32-aligned-block needs a block of 4, 8, \\.\\., 64 columns per hash, got ${block}`).test(e.message));
  }
});

test('per-layer bucket dtypes (the budget search) and int8 biases', () => {
  const { model } = hashModel(lenet(), { compression: 1 / 8, dtypes: { '/fc1/Gemm': 'int4', '/fc2/Gemm': 'int8' }, biasDtype: 'int8' });
  assert.equal(layer(model, '/fc1/Gemm').weight.values.dtype, 'int4');
  assert.equal(layer(model, '/fc2/Gemm').weight.values.dtype, 'int8');
  assert.equal(layer(model, '/conv2/Conv').weight.values.dtype, 'float32', 'the policy default for the rest');
  assert.equal(layer(model, '/fc3/Gemm').weight.values.dtype, 'float32', 'plain weights keep their storage');
  for (const n of model.nodes) {
    const w = weightsOf(n.op);
    if (w?.bias) assert.equal(w.bias.values.dtype, 'int8', n.name);
  }
  assert.deepStrictEqual(decode(encode(model)).nodes.map((n) => n.op), model.nodes.map((n) => n.op));
  assert.throws(() => hashModel(lenet(), { compression: 1, dtypes: { '/nope': 'int4' } }), /no Dense\/Conv2D layer named "\/nope"/);
});

test('bucket dtypes float16 and int8 round-trip through the file and stay close to float32', () => {
  const base = hashModel(lenet(), { compression: 1 / 8 }).report.weights;
  for (const dtype of ['float16', 'int8'] as const) {
    const { model, report } = hashModel(lenet(), { compression: 1 / 8, bucketDtype: dtype });
    const back = decode(encode(model));
    const fc1 = layer(back, '/fc1/Gemm').weight;
    assert.equal(fc1.values.dtype, dtype);
    const err = report.weights.find((w) => w.layer === '/fc1/Gemm' && w.part === 'weight')!.relError;
    const err32 = base.find((w) => w.layer === '/fc1/Gemm' && w.part === 'weight')!.relError;
    assert.ok(Math.abs(err - err32) < 0.02, `${dtype}: ${err} vs float32 ${err32}`);
  }
});

for (const name of ['mlp', 'lenet', 'bn_residual', 'vgg_small', 'mnist_mlp']) {
  test(`export-onnx of hashed ${name} runs in onnxruntime like the reference pass of the .hnet`, async () => {
    const { model } = hashModel(importOnnx(fixture(`${name}.onnx`)).model, { compression: 1 / 8, minVirtual: 100, hashBias: true, bucketDtype: 'float16' });
    const hnet = decode(encode(model));
    assert.ok(hnet.nodes.some((n) => (n.op as DenseOp).weight?.hash));
    const x = loadNpy(fixture(`${name}.input.npy`));
    const ours = runReference(hnet, { input: x }).output;
    const theirs = (await runOrt(exportOnnx(hnet), { input: x })).output;
    assertClose(ours, theirs, 1e-4, `${name} hashed: onnxruntime vs reference`);
  });
}

test('export-onnx of an unhashed import reproduces the original model', async () => {
  const { model } = importOnnx(fixture('bn_residual.onnx'));
  const x = loadNpy(fixture('bn_residual.input.npy'));
  const exported = (await runOrt(exportOnnx(model), { input: x })).output;
  assertClose(exported, loadNpy(fixture('bn_residual.output.npy')), 1e-4, 'round trip through hnet');
});

test('format 1.1 weights: ConvTranspose and large Constants are hashed like layers; LayerNorm scale and bias stay dense', () => {
  const values = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i));
  const model: Model = {
    inputs: [{ name: 'x', shape: [-1, 8, 4, 4] }],
    outputs: [{ name: 'y', shape: [-1, 8, 8, 8] }],
    metadata: {},
    nodes: [
      { name: 'up', inputs: ['x'], outputs: ['u'], op: {
        type: 'ConvTranspose', weight: plainWeight(values(8 * 8 * 4 * 4), [8, 8, 4, 4]), bias: plainWeight(values(8), [8]),
        strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], outputPadding: [0, 0], group: 1,
      } },
      { name: 'ln', inputs: ['u'], outputs: ['n'], op: { type: 'LayerNorm', axis: 1, epsilon: 1e-5, scale: plainWeight(values(512), [8, 8, 8]), bias: plainWeight(values(512), [8, 8, 8]) } },
      { name: 'pos', inputs: [], outputs: ['p'], op: { type: 'Constant', value: plainWeight(values(512 * 2), [2, 8, 8, 8]) } },
      { name: 'small', inputs: [], outputs: ['s'], op: { type: 'Constant', value: plainWeight(values(8), [8, 1, 1]) } },
      { name: 'add', inputs: ['n', 's'], outputs: ['y'], op: { type: 'Add' } },
    ],
  };
  const { model: hashed, report } = hashModel(model, { compression: 1 / 8 });
  const hashedLayers = report.weights.filter((w) => w.hashed).map((w) => `${w.layer}/${w.part}`);
  assert.deepEqual(hashedLayers, ['up/weight', 'pos/weight']);
  assert.ok(!report.weights.some((w) => w.layer === 'ln'));
  const pos = hashed.nodes.find((n) => n.name === 'pos')!.op;
  assert.ok(pos.type === 'Constant' && pos.value.hash !== null && pos.value.values.data.length === 128);
  // The names the policy accepts are the hashable layers'.
  assert.throws(() => hashModel(model, { compression: 1, dense: ['ln'] }), /no Dense\/Conv2D layer named "ln" \(nor ConvTranspose or Constant, the other hashable nodes\); the layers are: up, pos, small$/);
});

test('storage of what stays dense: denseDtype for layer weights, dtypes per layer over it, biasDtype for biases', () => {
  const dense = lenet();
  const { model, report } = hashModel(dense, { compression: 1 / 8, denseDtype: 'int8', dtypes: { '/fc3/Gemm': 'float16' }, biasDtype: 'int8' });
  const dtypeOf = (name: string, part: 'weight' | 'bias') => report.weights.find((w) => w.layer === name && w.part === part)!;
  assert.equal(dtypeOf('/conv1/Conv', 'weight').dtype, 'int8'); // dense: denseDtype
  assert.equal(dtypeOf('/fc3/Gemm', 'weight').dtype, 'float16'); // dense: its own dtype
  assert.equal(dtypeOf('/fc1/Gemm', 'weight').dtype, 'float32'); // hashed: bucketDtype, not denseDtype
  assert.ok(report.weights.filter((w) => w.part === 'bias').every((w) => w.dtype === 'int8' && !w.hashed));
  // int8 keeps a dense weight within half a step of its scale max|w|/127.
  const conv1 = dtypeOf('/conv1/Conv', 'weight');
  const max = Math.max(...expandWeight(layer(dense, '/conv1/Conv').weight).map(Math.abs));
  const diff = expandWeight(layer(model, '/conv1/Conv').weight).map((v, i) => Math.abs(v - expandWeight(layer(dense, '/conv1/Conv').weight)[i]));
  assert.ok(Math.max(...diff) <= max / 127 / 2 + 1e-7 && conv1.relError > 0);
  assert.ok(model.metadata['hash.policy'].includes('"denseDtype":"int8"'));
  // Unset, a plain weight keeps its storage: a second pass over an all-dense int8 model changes nothing.
  const int8 = hashModel(dense, { compression: 1, denseDtype: 'int8', biasDtype: 'int8' }).model;
  assert.deepStrictEqual(hashModel(int8, { compression: 1 }).model.nodes, int8.nodes);
});

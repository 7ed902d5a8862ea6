// summarizeModel / describeFile: every weight the 1.1 ops hold, with its stored size.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeFile, encode, plainWeight, summarizeModel, valuesFromFloat32, type Model, type Weight } from '../src/index.js';

test('the summary lists the weights of ConvTranspose, LayerNorm and Constant with their stored bytes', () => {
  // ConvTranspose [2, 3, 2, 2] hashed into 5 int4 buckets (3 bytes), bias [3] float16 (6 bytes);
  // LayerNorm over axes 1.. of [N, 3, 3, 3]: scale [3, 3, 3] int8 (27 bytes), no bias; Constant [1, 3, 1, 1] float32 (12 bytes).
  const hashed: Weight = { shape: [2, 3, 2, 2], hash: { algorithm: 'xxh32-block', bucketSeed: 1, signSeed: null, block: 4 }, values: valuesFromFloat32(Float32Array.from([1, -1, 0.5, 2, 3]), 'int4') };
  const model: Model = {
    inputs: [{ name: 'x', shape: [-1, 2, 2, 2] }],
    outputs: [{ name: 'y', shape: [-1, 3, 3, 3] }],
    nodes: [
      { name: 'up', op: { type: 'ConvTranspose', weight: hashed, bias: plainWeight(Float32Array.from([1, 2, 3]), [3], 'float16'), strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], outputPadding: [0, 0], group: 1 }, inputs: ['x'], outputs: ['u'] },
      { name: 'ln', op: { type: 'LayerNorm', axis: 1, epsilon: 1e-5, scale: plainWeight(new Float32Array(27).fill(1), [3, 3, 3], 'int8'), bias: null }, inputs: ['u'], outputs: ['n'] },
      { name: 'shift', op: { type: 'Constant', value: plainWeight(Float32Array.from([1, 2, 3]), [1, 3, 1, 1]) }, inputs: [], outputs: ['c'] },
      { name: 'add', op: { type: 'Add' }, inputs: ['n', 'c'], outputs: ['y'] },
    ],
    metadata: {},
  };
  const s = summarizeModel(model);
  assert.deepStrictEqual(
    s.weights.map((w) => [w.layer, w.op, w.part, w.virtual, w.real, w.dtype, w.storedBytes, w.hash?.algorithm ?? null, w.hash?.block ?? null]),
    [
      ['up', 'ConvTranspose', 'weight', 24, 5, 'int4', 3, 'xxh32-block', 4],
      ['up', 'ConvTranspose', 'bias', 3, 3, 'float16', 6, null, null],
      ['ln', 'LayerNorm', 'weight', 27, 27, 'int8', 27, null, null],
      ['shift', 'Constant', 'weight', 3, 3, 'float32', 12, null, null],
    ],
  );
  assert.deepStrictEqual(s.parameters, { virtual: 24 + 3 + 27 + 3, real: 5 + 3 + 27 + 3, batchNorm: 0, storedBytes: 3 + 6 + 27 + 12 });
  assert.deepStrictEqual(s.nodes.map((n) => n.shape), [[-1, 3, 3, 3], [-1, 3, 3, 3], [1, 3, 1, 1], [-1, 3, 3, 3]]);
  const d = describeFile(model, encode(model));
  assert.equal(d.formatVersion, '1.2'); // the writer's version
  assert.equal(d.minReaderVersion, '1.1'); // the newest feature used: 1.1 ops, int4 and xxh32-block
});

test('BatchNorm counts four float32 vectors in storedBytes', () => {
  const model: Model = {
    inputs: [{ name: 'x', shape: [-1, 2] }],
    outputs: [{ name: 'y', shape: [-1, 2] }],
    nodes: [{ name: 'bn', op: { type: 'BatchNorm', scale: new Float32Array(2), bias: new Float32Array(2), mean: new Float32Array(2), variance: new Float32Array(2).fill(1), epsilon: 1e-5 }, inputs: ['x'], outputs: ['y'] }],
    metadata: {},
  };
  assert.deepStrictEqual(summarizeModel(model).parameters, { virtual: 8, real: 8, batchNorm: 8, storedBytes: 32 });
  assert.equal(describeFile(model, encode(model)).minReaderVersion, '1.0');
});

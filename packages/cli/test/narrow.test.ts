// The equal-size dense nets of hnet frontier (narrow.ts): hidden widths scaled, the following inputs fit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inferShapes, validateModel, type Model } from '@hnet/format';
import { importOnnx } from '@hnet/convert';
import { fixture } from '../../convert/test/helpers.js';
import { narrowModel } from '../src/narrow.js';

const weightShapes = (m: Model): number[][] => m.nodes.flatMap((n) => (n.op.type === 'Dense' || n.op.type === 'Conv2D' ? [n.op.weight.shape] : []));

test('an MLP narrowed to 1/4: hidden widths quartered, the output layer kept, weights in the given dtype', () => {
  const mlp = importOnnx(fixture('mnist_mlp.onnx')).model; // 784-256-10
  const narrow = narrowModel(mlp, 1 / 4, 'int8');
  validateModel(narrow);
  assert.deepStrictEqual(weightShapes(narrow), [[64, 784], [10, 64]]);
  const fc1 = narrow.nodes.find((n) => n.op.type === 'Dense')!.op;
  assert.ok(fc1.type === 'Dense' && fc1.weight.values.dtype === 'int8' && fc1.bias!.values.dtype === 'float32');
});

test('a CNN narrowed: conv channels and the Dense after Flatten follow, at least one unit each', () => {
  const lenet = importOnnx(fixture('lenet.onnx')).model;
  const narrow = narrowModel(lenet, 1 / 1000, 'float32');
  validateModel(narrow);
  const shapes = weightShapes(narrow);
  const original = weightShapes(lenet);
  assert.equal(shapes.length, original.length);
  shapes.slice(0, -1).forEach((s) => assert.equal(s[0], 1, `every hidden layer at one unit: [${s}]`));
  assert.equal(shapes[shapes.length - 1][0], original[original.length - 1][0], 'the classes stay');
  const out = inferShapes({ ...narrow, inputs: [{ ...narrow.inputs[0], shape: narrow.inputs[0].shape.map((d) => (d === -1 ? 2 : d)) }] }).get(narrow.outputs[0].name);
  assert.deepStrictEqual(out, [2, original[original.length - 1][0]]);
});

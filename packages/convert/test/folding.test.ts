// Constant folding and symbolic shapes at import: nodes whose inputs are all
// known are evaluated, shape arithmetic keeps the batch size N exact (a + b·N),
// and the shapes PyTorch's dynamic-batch exports compute become constant
// Reshape/Expand shapes. Every model is checked against onnxruntime.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runReference, type Tensor } from '@hnet/format';
import { ConvertError, importOnnx } from '../src/index.js';
import { DataType, type NodeProto, type TensorProto } from '../src/onnx/proto.js';
import { assertClose, attr, floatTensor, int64Tensor, node, onnxModel, randomArray, runOrt } from './helpers.js';

const int64Scalar = (name: string, v: number): TensorProto => ({ ...int64Tensor(name, [v]), dims: [] });

async function matchesOrt(bytes: Uint8Array, inputs: Record<string, number[]>, output = 'y'): Promise<ReturnType<typeof importOnnx>> {
  const result = importOnnx(bytes);
  for (const batch of [1, 3]) {
    const feeds: Record<string, Tensor> = {};
    for (const [name, shape] of Object.entries(inputs)) {
      const dims = [batch, ...shape];
      feeds[name] = { shape: dims, data: randomArray(dims.reduce((p, q) => p * q, 1), 60 + batch) };
    }
    assertClose(runReference(result.model, feeds)[output], (await runOrt(bytes, feeds))[output], 1e-5, `batch ${batch}`);
  }
  return result;
}

/** Shape(x)[i] as a 1-D tensor named `name`: the Shape → Gather → Unsqueeze PyTorch writes for x.size(i). */
const sizeOf = (x: string, i: number, name: string): NodeProto[] => [
  node('Shape', [x], [`${name}/shape`], `${name}/shape`),
  node('Gather', [`${name}/shape`, `idx${i}`], [`${name}/scalar`], `${name}/gather`, [attr.int('axis', 0)]),
  node('Unsqueeze', [`${name}/scalar`, 'axes0'], [name], `${name}/unsqueeze`),
];
const SIZE_CONSTANTS = [int64Scalar('idx0', 0), int64Scalar('idx1', 1), int64Tensor('axes0', [0])];

test('a weight reached through Reshape of an initializer is a weight (the ONNX zoo MNIST model\'s Times212_reshape1)', async () => {
  const bytes = onnxModel({
    nodes: [
      node('Reshape', ['Parameter193', 'Parameter193_reshape1_shape'], ['Parameter193_reshape1'], 'Times212_reshape1'),
      node('Flatten', ['x'], ['f'], 'flatten'),
      node('MatMul', ['f', 'Parameter193_reshape1'], ['y'], 'Times212'),
    ],
    inputs: [['x', ['N', 4, 2, 2]]], outputs: [['y', ['N', 10]]],
    initializers: [floatTensor('Parameter193', [4, 2, 2, 10], randomArray(160, 3)), int64Tensor('Parameter193_reshape1_shape', [16, 10])],
  });
  const { model } = await matchesOrt(bytes, { x: [4, 2, 2] });
  assert.deepEqual(model.nodes.map((n) => n.op.type), ['Flatten', 'Dense']);
});

test('a weight through Transpose, Cast and Unsqueeze, and a bias through Squeeze, fold into one Gemm', async () => {
  const bytes = onnxModel({
    nodes: [
      node('Transpose', ['w'], ['wt'], 'wt', [attr.ints('perm', [1, 0])]),
      node('Cast', ['wt'], ['wc'], 'cast', [attr.int('to', DataType.FLOAT)]),
      node('Unsqueeze', ['b', 'axes0'], ['b2'], 'unsq'),
      node('Squeeze', ['b2', 'axes0'], ['b1'], 'sq'),
      node('Gemm', ['x', 'wc', 'b1'], ['y'], 'fc'),
    ],
    inputs: [['x', ['N', 4]]], outputs: [['y', ['N', 3]]],
    initializers: [floatTensor('w', [3, 4], randomArray(12, 4)), floatTensor('b', [3], randomArray(3, 5)), int64Tensor('axes0', [0])],
  });
  const { model } = await matchesOrt(bytes, { x: [4] });
  assert.deepEqual(model.nodes.map((n) => n.op.type), ['Dense']);
});

test('channel shuffle: view(b, g, c/g, h, w) → transpose → view(b, -1, h, w) with c/g computed from Shape', async () => {
  const bytes = onnxModel({
    nodes: [
      ...sizeOf('x', 0, 'b'),
      ...sizeOf('x', 1, 'c'),
      node('Div', ['c', 'groups'], ['cg'], 'c_over_g'),
      node('Concat', ['b', 'groups', 'cg', 'hw', 'hw'], ['shape5'], 'cat5', [attr.int('axis', 0)]),
      node('Reshape', ['x', 'shape5'], ['v'], 'view'),
      node('Transpose', ['v'], ['t'], 'shuffle', [attr.ints('perm', [0, 2, 1, 3, 4])]),
      node('Concat', ['b', 'minus1', 'hw', 'hw'], ['shape4'], 'cat4', [attr.int('axis', 0)]),
      node('Reshape', ['t', 'shape4'], ['y'], 'unview'),
    ],
    inputs: [['x', ['N', 6, 2, 2]]], outputs: [['y', ['N', 6, 2, 2]]],
    initializers: [...SIZE_CONSTANTS, int64Tensor('groups', [2]), int64Tensor('hw', [2]), int64Tensor('minus1', [-1])],
  });
  const { model } = await matchesOrt(bytes, { x: [6, 2, 2] });
  assert.deepEqual(model.nodes.map((n) => [n.op.type, n.op.type === 'Reshape' ? n.op.shape : null]), [
    ['Reshape', [0, 2, 3, 2, 2]], ['Transpose', null], ['Reshape', [0, -1, 2, 2]],
  ]);
});

test("attention's reshapes: [N, S, E] → [N·heads, S, E/heads] → back, the scale 1/√(head_dim) from Shape folded to a constant", async () => {
  const bytes = onnxModel({
    nodes: [
      ...sizeOf('x', 0, 'n'),
      node('Mul', ['n', 'heads'], ['nh'], 'n_heads'),
      node('Concat', ['nh', 'seq', 'head_dim'], ['split_shape'], 'cat_split', [attr.int('axis', 0)]),
      node('Reshape', ['x', 'split_shape'], ['h'], 'split_heads'),
      // The scale, from the shape of h: 1 / sqrt(float(h.size(2)))
      node('Shape', ['h'], ['hs'], 'hs'),
      node('Gather', ['hs', 'idx2'], ['d'], 'd', [attr.int('axis', 0)]),
      node('Cast', ['d'], ['df'], 'df', [attr.int('to', DataType.FLOAT)]),
      node('Sqrt', ['df'], ['sd'], 'sqrt_d'),
      node('Div', ['h', 'sd'], ['hd'], 'scale'),
      // Back: the batch from h's own shape (2N), divided by the heads.
      node('Gather', ['hs', 'idx0'], ['nh2'], 'nh2', [attr.int('axis', 0)]),
      node('Div', ['nh2', 'heads_scalar'], ['n2'], 'n2'),
      node('Unsqueeze', ['n2', 'axes0'], ['n2v'], 'n2v'),
      node('Concat', ['n2v', 'seq', 'embed'], ['merge_shape'], 'cat_merge', [attr.int('axis', 0)]),
      node('Reshape', ['hd', 'merge_shape'], ['y'], 'merge_heads'),
    ],
    inputs: [['x', ['N', 3, 4]]], outputs: [['y', ['N', 3, 4]]],
    initializers: [
      ...SIZE_CONSTANTS, int64Scalar('idx2', 2), int64Tensor('heads', [2]), int64Scalar('heads_scalar', 2),
      int64Tensor('seq', [3]), int64Tensor('head_dim', [2]), int64Tensor('embed', [4]),
    ],
  });
  const { model } = await matchesOrt(bytes, { x: [3, 4] });
  assert.deepEqual(model.nodes.map((n) => n.op.type), ['Reshape', 'Constant', 'Div', 'Reshape']);
  assert.deepEqual(model.nodes[0].op, { type: 'Reshape', shape: [-1, 3, 2] });
  // Not 0: the input's batch dimension holds 2N rows, so copying it would be wrong; N is inferred.
  assert.deepEqual(model.nodes[3].op, { type: 'Reshape', shape: [-1, 3, 4] });
});

test('expand(n, -1, -1) of a class token (ConstantOfShape, Equal, Where on the shape) becomes Expand to the batch', async () => {
  const bytes = onnxModel({
    nodes: [
      ...sizeOf('x', 0, 'n'),
      node('Concat', ['n', 'minus1', 'minus1'], ['want'], 'want', [attr.int('axis', 0)]),
      node('Shape', ['want'], ['want_len'], 'want_len'),
      node('ConstantOfShape', ['want_len'], ['ones'], 'ones', [{ name: 'value', type: 4, t: int64Tensor('one', [1]) }]),
      node('Mul', ['ones', 'minus1'], ['neg'], 'neg'),
      node('Equal', ['want', 'neg'], ['is_keep'], 'eq'),
      node('Where', ['is_keep', 'ones', 'want'], ['target'], 'where'),
      node('Expand', ['cls', 'target'], ['tokens'], 'expand'),
      node('Concat', ['tokens', 'x'], ['y'], 'prepend', [attr.int('axis', 1)]),
    ],
    inputs: [['x', ['N', 3, 4]]], outputs: [['y', ['N', 4, 4]]],
    initializers: [...SIZE_CONSTANTS, int64Tensor('minus1', [-1]), floatTensor('cls', [1, 1, 4], randomArray(4, 9))],
  });
  const { model } = await matchesOrt(bytes, { x: [3, 4] });
  assert.deepEqual(model.nodes.map((n) => n.op.type), ['Constant', 'Expand', 'Concat']);
  assert.deepEqual(model.nodes[1].op, { type: 'Expand', shape: [-1, 1, 1] });
});

test('a shape that cannot be made constant is refused naming the node and the entry', () => {
  const plusOne = onnxModel({
    nodes: [
      ...sizeOf('x', 0, 'n'),
      node('Add', ['n', 'one'], ['n1'], 'n_plus_1'),
      node('Concat', ['n1', 'minus1'], ['s'], 'cat', [attr.int('axis', 0)]),
      node('Reshape', ['x', 's'], ['y'], 'odd_view'),
    ],
    inputs: [['x', ['N', 4]]], outputs: [['y', ['N', 4]]],
    initializers: [...SIZE_CONSTANTS, int64Tensor('one', [1]), int64Tensor('minus1', [-1])],
  });
  assert.throws(() => importOnnx(plusOne), (e: unknown) => e instanceof ConvertError && /odd_view \(Reshape\): the batch size N lands at position 0/.test(e.message));
  const squared = onnxModel({
    nodes: [...sizeOf('x', 0, 'n'), node('Mul', ['n', 'n'], ['nn'], 'n_squared'), node('Reshape', ['x', 'nn'], ['y'], 'view')],
    inputs: [['x', ['N', 4]]], outputs: [['y', ['N']]],
    initializers: SIZE_CONSTANTS,
  });
  assert.throws(() => importOnnx(squared), /n_squared \(Mul\): a product of two values that depend on the batch size cannot be folded/);
});

test('an op without a fold of its own (Conv) on constants is evaluated by the reference forward pass', async () => {
  const bytes = onnxModel({
    nodes: [
      node('Conv', ['c', 'w', 'b'], ['k'], 'const_conv', [attr.ints('pads', [0, 0, 1, 1])]),
      node('Relu', ['k'], ['kr'], 'const_relu'),
      node('Add', ['x', 'kr'], ['y'], 'add'),
    ],
    inputs: [['x', ['N', 2, 2, 2]]], outputs: [['y', ['N', 2, 2, 2]]],
    initializers: [floatTensor('c', [1, 3, 2, 2], randomArray(12)), floatTensor('w', [2, 3, 2, 2], randomArray(24, 2)), floatTensor('b', [2], randomArray(2, 3))],
  });
  const { model } = await matchesOrt(bytes, { x: [2, 2, 2] });
  assert.deepEqual(model.nodes.map((n) => n.op.type), ['Constant', 'Add']);
});

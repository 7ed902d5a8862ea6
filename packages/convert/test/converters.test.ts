// The converters of format 1.1's ops, one small hand-built ONNX graph each:
// the imported model's reference forward must match onnxruntime, and the hnet
// nodes must be the ones the converter promises.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runReference, type Tensor } from '@hnet/format';
import { importOnnx } from '../src/index.js';
import type { NodeProto, TensorProto } from '../src/onnx/proto.js';
import { assertClose, attr, floatTensor, int64Tensor, node, onnxModel, randomArray, runOrt } from './helpers.js';

interface Case {
  nodes: NodeProto[];
  inputs: [string, (number | string)[]][];
  outputs: [string, (number | string)[]][];
  initializers?: TensorProto[];
  opset?: number;
}

const scalar = (name: string, v: number): TensorProto => ({ ...floatTensor(name, [], Float32Array.of(v)) });
const int64Scalar = (name: string, v: number): TensorProto => ({ ...int64Tensor(name, [v]), dims: [] });

/** Imports the case, checks the hnet op types, and compares every output with onnxruntime at batch 2. */
async function check(c: Case, types: string[] | null, tol = 1e-5): Promise<ReturnType<typeof importOnnx>> {
  const bytes = onnxModel(c);
  const result = importOnnx(bytes);
  if (types) assert.deepEqual(result.model.nodes.map((n) => n.op.type), types);
  const feeds: Record<string, Tensor> = {};
  c.inputs.forEach(([name, shape], i) => {
    const dims = shape.map((d) => (d === 'N' ? 2 : (d as number)));
    feeds[name] = { shape: dims, data: randomArray(dims.reduce((p, q) => p * q, 1), 40 + i) };
  });
  const ours = runReference(result.model, feeds);
  const theirs = await runOrt(bytes, feeds);
  for (const [name] of c.outputs) assertClose(ours[name], theirs[name], tol, name);
  return result;
}

test('Concat of activations, with a constant part as a Constant node', async () => {
  await check({
    nodes: [
      node('Relu', ['x'], ['a'], 'relu'),
      node('Sigmoid', ['x'], ['b'], 'sig'),
      node('Concat', ['a', 'b'], ['y'], 'cat', [attr.int('axis', -1)]),
    ],
    inputs: [['x', ['N', 2, 3]]], outputs: [['y', ['N', 2, 6]]],
  }, ['Relu', 'Sigmoid', 'Concat']);
  await check({
    nodes: [node('Relu', ['x'], ['a'], 'relu'), node('Concat', ['c', 'a'], ['y'], 'cat', [attr.int('axis', 1)])],
    inputs: [['x', [2, 3]]], outputs: [['y', [2, 5]]],
    initializers: [floatTensor('c', [2, 2], randomArray(4, 2))],
  }, ['Relu', 'Constant', 'Concat']);
});

test('Split becomes one Slice per output (sizes from the input at opset 13, from the attribute before)', async () => {
  for (const opset of [11, 13]) {
    const sizes = opset >= 13 ? ['x', 'split'] : ['x'];
    await check({
      opset,
      nodes: [node('Split', sizes, ['a', 'b'], 'split', [attr.int('axis', 1), ...(opset < 13 ? [attr.ints('split', [1, 3])] : [])])],
      inputs: [['x', ['N', 4, 2]]], outputs: [['a', ['N', 1, 2]], ['b', ['N', 3, 2]]],
      initializers: opset >= 13 ? [int64Tensor('split', [1, 3])] : [],
    }, ['Slice', 'Slice']);
  }
  // Equal parts when no sizes are given.
  await check({
    nodes: [node('Split', ['x'], ['a', 'b'], 'halves', [attr.int('axis', 2)])],
    inputs: [['x', ['N', 3, 4]]], outputs: [['a', ['N', 3, 2]], ['b', ['N', 3, 2]]],
  }, ['Slice', 'Slice']);
});

test('Slice: ends of INT64_MAX ("to the end"), negative steps and axes', async () => {
  const big = int64Tensor('ends', [0]);
  new DataView(big.rawData!.buffer, big.rawData!.byteOffset).setBigInt64(0, 9223372036854775807n, true);
  await check({
    nodes: [node('Slice', ['x', 'starts', 'ends', 'axes'], ['y'], 'tail')],
    inputs: [['x', ['N', 5, 3]]], outputs: [['y', ['N', 4, 3]]],
    initializers: [int64Tensor('starts', [1]), big, int64Tensor('axes', [-2])],
  }, ['Slice']);
  await check({
    nodes: [node('Slice', ['x', 'starts', 'ends', 'axes', 'steps'], ['y'], 'reverse')],
    inputs: [['x', ['N', 5, 3]]], outputs: [['y', ['N', 3, 3]]],
    initializers: [int64Tensor('starts', [-1]), int64Tensor('ends', [-10]), int64Tensor('axes', [1]), int64Tensor('steps', [-2])],
  }, ['Slice']);
});

test('Clip: bounds from attributes before opset 11, from constant inputs after; ReLU6', async () => {
  await check({
    opset: 6,
    nodes: [node('Clip', ['x'], ['y'], 'clip', [attr.float('min', -0.25), attr.float('max', 0.5)])],
    inputs: [['x', ['N', 6]]], outputs: [['y', ['N', 6]]],
  }, ['Clip']);
  const { model } = await check({
    nodes: [node('Clip', ['x', 'lo', 'hi'], ['y'], 'relu6')],
    inputs: [['x', ['N', 6]]], outputs: [['y', ['N', 6]]],
    initializers: [scalar('lo', 0), scalar('hi', 0.3)],
  }, ['Clip']);
  assert.deepEqual(model.nodes[0].op, { type: 'Clip', min: 0, max: Math.fround(0.3) });
  await check({
    nodes: [node('Clip', ['x', '', 'hi'], ['y'], 'upper')],
    inputs: [['x', ['N', 6]]], outputs: [['y', ['N', 6]]],
    initializers: [scalar('hi', 0.1)],
  }, ['Clip']);
});

test('HardSigmoid and HardSwish (MobileNet v3); HardSwish before opset 14 is refused naming the opsets', async () => {
  await check({
    opset: 14,
    nodes: [node('HardSigmoid', ['x'], ['h'], 'hs', [attr.float('alpha', 0.3)]), node('HardSwish', ['h'], ['y'], 'hw')],
    inputs: [['x', ['N', 8]]], outputs: [['y', ['N', 8]]],
  }, ['HardSigmoid', 'HardSwish']);
  const old = onnxModel({ opset: 13, nodes: [node('HardSwish', ['x'], ['y'], 'hw')], inputs: [['x', ['N', 8]]], outputs: [['y', ['N', 8]]] });
  assert.throws(() => importOnnx(old), /hw \(HardSwish\): opset 13 of HardSwish is not supported \(hnet reads opsets 14\.\.\d+\)/);
});

test('Mul/Sub/Div/Add by a constant that is no bias become a Constant operand; by a scalar after a Conv, it folds into the weights', async () => {
  await check({
    nodes: [
      node('Relu', ['x'], ['r'], 'relu'),
      node('Mul', ['r', 'scale'], ['m'], 'mul'),
      node('Sub', ['shift', 'm'], ['s'], 'sub'),
      node('Div', ['s', 'den'], ['d'], 'div'),
      node('Add', ['d', 'x'], ['y'], 'residual'),
    ],
    inputs: [['x', ['N', 3, 2, 2]]], outputs: [['y', ['N', 3, 2, 2]]],
    initializers: [floatTensor('scale', [3, 1, 1], randomArray(3, 5)), scalar('shift', 0.5), floatTensor('den', [2], Float32Array.of(2, -4))],
  }, ['Relu', 'Constant', 'Mul', 'Constant', 'Sub', 'Constant', 'Div', 'Add']);
  const { model, report } = await check({
    nodes: [
      node('Conv', ['x', 'w'], ['c'], 'conv'),
      node('Mul', ['c', 'k'], ['m'], 'layer_scale'),
      node('Div', ['m', 'two'], ['y'], 'halve'),
    ],
    inputs: [['x', ['N', 2, 4, 4]]], outputs: [['y', ['N', 3, 3, 3]]],
    initializers: [floatTensor('w', [3, 2, 2, 2], randomArray(24, 6)), floatTensor('k', [3, 1, 1], Float32Array.of(1, -2, 3)), scalar('two', 2)],
  }, ['Conv2D']);
  assert.equal(model.nodes[0].outputs[0], 'y');
  assert.ok(report.folded.some((f) => f.startsWith('Mul layer_scale folded into the weights of Conv2D conv')));
  assert.ok(report.folded.some((f) => f.startsWith('Div halve folded')));
});

test('Pow by a constant, Sqrt, Exp, Erf, Neg', async () => {
  await check({
    nodes: [
      node('Pow', ['x', 'three'], ['p'], 'pow'),
      node('Exp', ['p'], ['e'], 'exp'),
      node('Sqrt', ['e'], ['s'], 'sqrt'),
      node('Erf', ['s'], ['f'], 'erf'),
      node('Neg', ['f'], ['y'], 'neg'),
    ],
    inputs: [['x', ['N', 5]]], outputs: [['y', ['N', 5]]],
    initializers: [scalar('three', 3)],
  }, ['Pow', 'Exp', 'Sqrt', 'Erf', 'Neg']);
  const computed = onnxModel({
    nodes: [node('Pow', ['x', 'x'], ['y'], 'pow')], inputs: [['x', ['N', 5]]], outputs: [['y', ['N', 5]]],
  });
  assert.throws(() => importOnnx(computed), /pow \(Pow\): the exponent \("x"\) must be a constant/);
});

test('ReduceMean/ReduceSum/ReduceMax: axes from the attribute or the input, as each opset says', async () => {
  await check({
    opset: 13,
    nodes: [
      node('ReduceMean', ['x'], ['m'], 'mean', [attr.ints('axes', [-1])]),
      node('ReduceSum', ['m', 'axes'], ['s'], 'sum', [attr.int('keepdims', 0)]),
      node('ReduceMax', ['s'], ['y'], 'max', [attr.ints('axes', [1])]),
    ],
    inputs: [['x', ['N', 3, 4, 2]]], outputs: [['y', ['N', 1]]],
    initializers: [int64Tensor('axes', [2])],
  }, ['ReduceMean', 'ReduceSum', 'ReduceMax']);
  await check({
    opset: 18,
    nodes: [node('ReduceMean', ['x', 'axes'], ['y'], 'mean')],
    inputs: [['x', ['N', 3, 4]]], outputs: [['y', ['N', 3, 1]]],
    initializers: [int64Tensor('axes', [2])],
  }, ['ReduceMean']);
});

test('attention: Transpose, MatMul of two computed tensors, Softmax over the last axis, MatMul by weights on [N, S, K]', async () => {
  const { model, report } = await check({
    nodes: [
      node('MatMul', ['x', 'wq'], ['q0'], 'q'),
      node('Add', ['q0', 'bq'], ['q'], 'q_bias'),
      node('Transpose', ['x'], ['xt'], 'kt', [attr.ints('perm', [0, 2, 1])]),
      node('MatMul', ['q', 'xt'], ['scores'], 'scores'),
      node('Softmax', ['scores'], ['p'], 'softmax', [attr.int('axis', -1)]),
      node('MatMul', ['p', 'x'], ['y'], 'mix'),
    ],
    inputs: [['x', ['N', 3, 4]]], outputs: [['y', ['N', 3, 4]]],
    initializers: [floatTensor('wq', [4, 4], randomArray(16, 7)), floatTensor('bq', [4], randomArray(4, 8))],
  }, ['Reshape', 'Dense', 'Reshape', 'Transpose', 'MatMul', 'Softmax', 'MatMul']);
  assert.deepEqual(model.nodes[0].op, { type: 'Reshape', shape: [-1, 4] });
  assert.deepEqual(model.nodes[2].op, { type: 'Reshape', shape: [-1, 3, 4] });
  assert.ok(report.folded.some((f) => f.startsWith('Add q_bias fused as the bias of Dense q/dense')));
});

test('LayerNormalization (opset 17), and the PyTorch < 2 pattern fused into it', async () => {
  await check({
    opset: 17,
    nodes: [node('LayerNormalization', ['x', 'g', 'b'], ['y'], 'ln', [attr.int('axis', -1), attr.float('epsilon', 1e-6)])],
    inputs: [['x', ['N', 3, 4]]], outputs: [['y', ['N', 3, 4]]],
    initializers: [floatTensor('g', [4], randomArray(4, 9)), floatTensor('b', [4], randomArray(4, 10))],
  }, ['LayerNorm'], 1e-4);
  const { report } = await check({
    opset: 13,
    nodes: [
      node('ReduceMean', ['x'], ['m'], 'ln/mean', [attr.ints('axes', [-1])]),
      node('Sub', ['x', 'm'], ['d'], 'ln/sub'),
      node('Pow', ['d', 'two'], ['p'], 'ln/pow'),
      node('ReduceMean', ['p'], ['v'], 'ln/var', [attr.ints('axes', [-1])]),
      node('Add', ['v', 'eps'], ['ve'], 'ln/eps'),
      node('Sqrt', ['ve'], ['s'], 'ln/sqrt'),
      node('Div', ['d', 's'], ['n'], 'ln/div'),
      node('Mul', ['n', 'g'], ['ng'], 'ln/scale'),
      node('Add', ['ng', 'b'], ['y'], 'ln/bias'),
    ],
    inputs: [['x', ['N', 3, 4]]], outputs: [['y', ['N', 3, 4]]],
    initializers: [scalar('two', 2), scalar('eps', 1e-5), floatTensor('g', [4], randomArray(4, 11)), floatTensor('b', [4], randomArray(4, 12))],
  }, ['LayerNorm'], 1e-4);
  assert.ok(report.folded.some((f) => f.includes('fused into LayerNorm')));
});

test('Gelu (opset 20), and the Erf pattern x·0.5·(1 + erf(x/√2)) fused into it, in both orders PyTorch writes', async () => {
  await check({
    opset: 20,
    nodes: [node('Gelu', ['x'], ['y'], 'gelu')],
    inputs: [['x', ['N', 6]]], outputs: [['y', ['N', 6]]],
  }, ['Gelu']);
  for (const tail of ['x first', 'half first']) {
    const product = tail === 'x first'
      ? [node('Mul', ['x', 'one_plus'], ['xe'], 'gelu/mul'), node('Mul', ['xe', 'half'], ['y'], 'gelu/half')]
      : [node('Mul', ['one_plus', 'half'], ['he'], 'gelu/half'), node('Mul', ['x', 'he'], ['y'], 'gelu/mul')];
    await check({
      nodes: [
        node('Div', ['x', 'root2'], ['xs'], 'gelu/div'),
        node('Erf', ['xs'], ['e'], 'gelu/erf'),
        node('Add', ['e', 'one'], ['one_plus'], 'gelu/add'),
        ...product,
      ],
      inputs: [['x', ['N', 6]]], outputs: [['y', ['N', 6]]],
      initializers: [scalar('root2', Math.SQRT2), scalar('one', 1), scalar('half', 0.5)],
    }, ['Gelu']);
  }
});

test('Squeeze/Unsqueeze: axes as attributes (opset 11) and as inputs (opset 13)', async () => {
  await check({
    opset: 11,
    nodes: [node('Unsqueeze', ['x'], ['u'], 'u', [attr.ints('axes', [1, -1])]), node('Squeeze', ['u'], ['y'], 's', [attr.ints('axes', [1])])],
    inputs: [['x', ['N', 3]]], outputs: [['y', ['N', 3, 1]]],
  }, ['Unsqueeze', 'Squeeze']);
  await check({
    opset: 13,
    nodes: [node('Unsqueeze', ['x', 'a'], ['u'], 'u'), node('Squeeze', ['u', 'a'], ['y'], 's')],
    inputs: [['x', ['N', 3]]], outputs: [['y', ['N', 3]]],
    initializers: [int64Tensor('a', [2])],
  }, ['Unsqueeze', 'Squeeze']);
});

test('Pad in constant mode with a value stands alone; GlobalMaxPool', async () => {
  await check({
    nodes: [node('Pad', ['x', 'pads', 'v'], ['p'], 'pad'), node('GlobalMaxPool', ['p'], ['y'], 'gmp')],
    inputs: [['x', ['N', 2, 3, 3]]], outputs: [['y', ['N', 2, 1, 1]]],
    initializers: [int64Tensor('pads', [0, 0, 1, 0, 0, 0, 0, 2]), scalar('v', 2.5)],
  }, ['Pad', 'GlobalMaxPool']);
  const reflect = onnxModel({
    nodes: [node('Pad', ['x', 'pads'], ['y'], 'pad', [attr.string('mode', 'reflect')])],
    inputs: [['x', ['N', 2, 3, 3]]], outputs: [['y', ['N', 2, 4, 3]]],
    initializers: [int64Tensor('pads', [0, 0, 1, 0, 0, 0, 0, 0])],
  });
  assert.throws(() => importOnnx(reflect), /pad \(Pad\): mode "reflect" is not supported/);
});

test('Resize (nearest by scales, linear by sizes, the modes segmentation heads use) and Upsample (opset 9)', async () => {
  await check({
    nodes: [node('Resize', ['x', '', 'scales'], ['y'], 'up', [attr.string('mode', 'nearest'), attr.string('coordinate_transformation_mode', 'asymmetric'), attr.string('nearest_mode', 'floor')])],
    inputs: [['x', ['N', 2, 3, 3]]], outputs: [['y', ['N', 2, 6, 6]]],
    initializers: [floatTensor('scales', [4], Float32Array.of(1, 1, 2, 2))],
  }, ['Resize']);
  for (const coordinates of ['half_pixel', 'align_corners', 'pytorch_half_pixel']) {
    await check({
      nodes: [node('Resize', ['x', '', '', 'sizes'], ['y'], 'bilinear', [attr.string('mode', 'linear'), attr.string('coordinate_transformation_mode', coordinates)])],
      inputs: [['x', ['N', 2, 3, 4]]], outputs: [['y', ['N', 2, 6, 8]]],
      initializers: [int64Tensor('sizes', [2, 2, 6, 8])],
    }, ['Resize'], 1e-4);
  }
  await check({
    opset: 9,
    nodes: [node('Upsample', ['x', 'scales'], ['y'], 'up')],
    inputs: [['x', ['N', 2, 3, 3]]], outputs: [['y', ['N', 2, 9, 6]]],
    initializers: [floatTensor('scales', [4], Float32Array.of(1, 1, 3, 2))],
  }, ['Resize']);
});

test('ConvTranspose with strides, pads, output_padding and groups; grouped and depthwise Conv', async () => {
  await check({
    nodes: [node('ConvTranspose', ['x', 'w', 'b'], ['y'], 'deconv', [
      attr.ints('strides', [2, 2]), attr.ints('pads', [1, 0, 1, 1]), attr.ints('output_padding', [1, 0]), attr.int('group', 2),
    ])],
    inputs: [['x', ['N', 4, 3, 3]]], outputs: [['y', ['N', 6, 6, 5]]],
    initializers: [floatTensor('w', [4, 3, 3, 3], randomArray(108, 13)), floatTensor('b', [6], randomArray(6, 14))],
  }, ['ConvTranspose'], 1e-4);
  await check({
    nodes: [
      node('Conv', ['x', 'dw'], ['d'], 'depthwise', [attr.int('group', 4), attr.ints('pads', [1, 1, 1, 1])]),
      node('Conv', ['d', 'gw'], ['y'], 'grouped', [attr.int('group', 2)]),
    ],
    inputs: [['x', ['N', 4, 5, 5]]], outputs: [['y', ['N', 6, 4, 4]]],
    initializers: [floatTensor('dw', [4, 1, 3, 3], randomArray(36, 15)), floatTensor('gw', [6, 2, 2, 2], randomArray(48, 16))],
  }, ['Conv2D', 'Conv2D'], 1e-4);
});

test('Gather of one constant index from computed data: Slice + Squeeze (a scalar index) or Slice (a 1-D one)', async () => {
  await check({
    nodes: [node('Gather', ['x', 'i'], ['y'], 'pick', [attr.int('axis', 1)])],
    inputs: [['x', ['N', 3, 4]]], outputs: [['y', ['N', 4]]],
    initializers: [int64Scalar('i', -1)],
  }, ['Slice', 'Squeeze']);
  await check({
    nodes: [node('Gather', ['x', 'i'], ['y'], 'pick', [attr.int('axis', 2)])],
    inputs: [['x', ['N', 3, 4]]], outputs: [['y', ['N', 3, 1]]],
    initializers: [int64Tensor('i', [1])],
  }, ['Slice']);
});

test('Softmax over a middle axis at opset 13', async () => {
  await check({
    nodes: [node('Softmax', ['x'], ['y'], 'sm', [attr.int('axis', 1)])],
    inputs: [['x', ['N', 3, 4]]], outputs: [['y', ['N', 3, 4]]],
  }, ['Softmax']);
});

test('unknown attributes of the new ops are refused naming the node', () => {
  const bytes = onnxModel({
    nodes: [node('Concat', ['x', 'x'], ['y'], 'cat', [attr.int('axis', 1), attr.int('bogus', 1)])],
    inputs: [['x', ['N', 2]]], outputs: [['y', ['N', 4]]],
  });
  assert.throws(() => importOnnx(bytes), /cat \(Concat\): attribute bogus not supported/);
});

test('the registry: two converters claiming one op at overlapping opsets throw; a gap between ranges is refused naming them', async () => {
  const { registryOf } = await import('../src/onnx/import/converters/index.js');
  const { clipAttributes, clipInputs } = await import('../src/onnx/import/converters/elementwise.js');
  assert.throws(() => registryOf([clipInputs, { ...clipAttributes, opsets: [1, 11] }]), /two converters claim Clip at opsets 1\.\.11 and 11\.\.\d+/);
  const lookup = registryOf([clipAttributes, { ...clipInputs, opsets: [12, 22] }]);
  assert.equal(lookup('Clip', 10), clipAttributes);
  assert.throws(() => lookup('Clip', 11), /opset 11 of Clip is not supported \(hnet reads opsets 1\.\.10, 12\.\.22\)/);
  assert.throws(() => lookup('Elu', 13), /op not supported/);
});

test('a chain of constant scales and biases after a layer folds whole into it', async () => {
  // MatMul → Mul → Add → Mul → ... (60 links, two shared constants): each link once needed a round of its own.
  const links = 60;
  const { model, report } = await check({
    nodes: [
      node('MatMul', ['x', 'w'], ['v0'], 'mm'),
      ...Array.from({ length: links }, (_, i) => node(i % 2 ? 'Add' : 'Mul', [`v${i}`, i % 2 ? 'b' : 'k'], [i === links - 1 ? 'y' : `v${i + 1}`], `link${i}`)),
    ],
    inputs: [['x', ['N', 4]]], outputs: [['y', ['N', 3]]],
    initializers: [floatTensor('w', [4, 3], randomArray(12, 7)), floatTensor('k', [3], Float32Array.of(1.01, -0.99, 1)), floatTensor('b', [3], Float32Array.of(0.1, -0.2, 0.05))],
  }, ['Dense'], 1e-4);
  assert.equal(model.nodes[0].outputs[0], 'y');
  assert.equal(report.folded.filter((f) => /^(Mul|Add) link\d+ (folded|fused)/.test(f)).length, links);
});

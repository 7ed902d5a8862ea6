// Import of real exporter output and of hand-built ONNX models, checked
// against onnxruntime-node: the reference forward pass of the imported model
// must match within 1e-4.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runReference } from '@hnet/format';
import { ConvertError, importOnnx } from '../src/index.js';
import { onnx, type AttributeProto, type TensorProto } from '../src/onnx/proto.js';
import { assertClose, attr, fixture, floatTensor, int64Tensor, loadNpy, node, onnxModel, randomArray, runOrt } from './helpers.js';

const FIXTURE_MODELS = ['mlp', 'lenet', 'bn_residual', 'vgg_small', 'mnist_mlp'];

for (const name of FIXTURE_MODELS) {
  test(`fixture ${name}.onnx imports exactly: reference forward = onnxruntime = PyTorch`, async () => {
    const { model, report } = importOnnx(fixture(`${name}.onnx`));
    assert.equal(report.producer.startsWith('pytorch'), true);
    assert.ok(model.nodes.every((n) => n.op.type !== 'Dense' && n.op.type !== 'Conv2D' || n.op.weight.hash === null));
    const x = loadNpy(fixture(`${name}.input.npy`));
    const ours = runReference(model, { input: x }).output;
    const theirs = (await runOrt(fixture(`${name}.onnx`), { input: x })).output;
    assertClose(ours, theirs, 1e-4, `${name} vs onnxruntime`);
    assertClose(ours, loadNpy(fixture(`${name}.output.npy`)), 1e-4, `${name} vs PyTorch`);
  });
}

test('bn_residual: BatchNorms after single-use layers fold, the one after an Add stays; Dropout and the empty Pad vanish', () => {
  const { model, report } = importOnnx(fixture('bn_residual.onnx'));
  const types = model.nodes.map((n) => n.op.type);
  assert.equal(types.filter((t) => t === 'BatchNorm').length, 1);
  assert.ok(report.folded.some((f) => f.includes('/bn1/') && f.includes('Conv2D')));
  assert.ok(report.folded.some((f) => f.includes('/bn4/') && f.includes('Dense')));
  assert.ok(report.folded.some((f) => f.startsWith('Add /Add_3 fused as the bias')));
  assert.ok(report.folded.some((f) => f.startsWith('Pad /Pad removed')));
  assert.ok(!types.includes('Reshape') || model.nodes.find((n) => n.op.type === 'Reshape'));
  assert.deepEqual(model.outputs, [{ name: 'output', shape: [-1, 6] }]);
  assert.deepEqual(model.inputs, [{ name: 'input', shape: [-1, 3, 16, 16] }]);
});

/** A one-layer Gemm model whose weight initializer is given by `weight`. */
function gemmModel(weight: ReturnType<typeof floatTensor>, producer = 'hnet-test'): Uint8Array {
  const bias = floatTensor('b', [3], Float32Array.of(0.5, -1, 2));
  return onnxModel({
    producer,
    nodes: [node('Gemm', ['x', weight.name!, 'b'], ['y'], 'fc', [attr.int('transB', 1)])],
    inputs: [['x', ['N', 4]]],
    outputs: [['y', ['N', 3]]],
    initializers: [weight, bias],
  });
}

const W = randomArray(12, 3); // [3, 4]
const X = { shape: [2, 4], data: randomArray(8, 4) };

test('initializers as raw_data at odd byte offsets are read correctly', async () => {
  // Find a producer name (serialized before the graph) that puts raw_data at an odd offset.
  for (let pad = 0; pad < 8; pad++) {
    const bytes = gemmModel(floatTensor('w', [3, 4], W), `test${'x'.repeat(pad)}`);
    const decoded = onnx.ModelProto.decode(bytes);
    const raw = decoded.graph!.initializer!.find((t) => t.name === 'w')!.rawData!;
    if (raw.byteOffset % 4 === 0) continue; // aligned: a Float32Array view would work by luck
    const { model } = importOnnx(bytes);
    const ours = runReference(model, { x: X }).y;
    assertClose(ours, (await runOrt(bytes, { x: X })).y, 1e-5, 'raw_data at odd offset');
    return;
  }
  assert.fail('no name length gave an odd raw_data offset');
});

test('initializers as float_data', async () => {
  const bytes = gemmModel({ name: 'w', dims: [3, 4], dataType: 1, floatData: [...W] });
  const { model } = importOnnx(bytes);
  assertClose(runReference(model, { x: X }).y, (await runOrt(bytes, { x: X })).y, 1e-5, 'float_data');
});

test('external data next to the model; a missing file is an error naming it', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hnet-ext-'));
  try {
    const payload = new Uint8Array(7 + 48);
    new Uint8Array(floatTensor('w', [3, 4], W).rawData!).forEach((b, i) => (payload[7 + i] = b));
    writeFileSync(path.join(dir, 'weights.bin'), payload);
    const external = {
      name: 'w', dims: [3, 4], dataType: 1, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: '7' }, { key: 'length', value: '48' }],
    };
    const bytes = gemmModel(external);
    writeFileSync(path.join(dir, 'model.onnx'), bytes);
    const { model } = importOnnx(path.join(dir, 'model.onnx'));
    const expected = runReference(importOnnx(gemmModel(floatTensor('w', [3, 4], W))).model, { x: X }).y;
    assertClose(runReference(model, { x: X }).y, expected, 0, 'external data');

    rmSync(path.join(dir, 'weights.bin'));
    assert.throws(() => importOnnx(path.join(dir, 'model.onnx')), (e: unknown) =>
      e instanceof ConvertError && e.code === 'file' && e.message.includes(path.join(dir, 'weights.bin')));
    // From bytes there is no folder to look in: the error says so.
    assert.throws(() => importOnnx(bytes), (e: unknown) => e instanceof ConvertError && e.message.includes('"weights.bin"'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('one error lists every unsupported node by name and op type, for ops and attributes', () => {
  const bytes = onnxModel({
    nodes: [
      node('Elu', ['x'], ['t'], 'elu_1', [attr.float('alpha', 1)]),
      node('Relu', ['t'], ['r'], 'ok_relu'),
      node('Gemm', ['r', 'w'], ['g'], 'gemm_ta', [attr.int('transA', 1)]),
      node('GRU', ['g'], ['e'], ''),
      node('Softmax', ['e'], ['y'], 'sm', [attr.int('axis', 1), attr.int('bogus', 3)]),
    ],
    inputs: [['x', [4, 4]]],
    outputs: [['y', [4, 4]]],
    initializers: [floatTensor('w', [4, 4], randomArray(16))],
  });
  assert.throws(() => importOnnx(bytes, { source: 'bad.onnx' }), (e: unknown) => {
    assert.ok(e instanceof ConvertError);
    assert.equal(e.code, 'unsupported');
    assert.deepEqual(e.issues.map((i) => `${i.node}/${i.opType}`), ['elu_1/Elu', 'gemm_ta/Gemm', '#3/GRU', 'sm/Softmax']);
    assert.match(e.message, /^bad\.onnx: 4 nodes cannot be converted; nothing was written:/);
    assert.match(e.message, /elu_1 \(Elu\): op not supported/);
    assert.match(e.message, /gemm_ta \(Gemm\): transA=1/);
    assert.match(e.message, /sm \(Softmax\): attribute bogus not supported/);
    // Then what to do: GRU is not in the plan (export the feed-forward part), Elu neither (and says which activations are there); Gemm and Softmax have no hint.
    const advice = e.message.slice(e.message.indexOf('\nwhat to do:\n'));
    assert.match(advice, /^ {2}GRU: recurrent layers are not in hnet's plan/m);
    assert.match(advice, /^ {2}Elu: not supported in hnet \d+\.\d+: the activations hnet runs are Relu, LeakyRelu, Sigmoid, Tanh, Clip \(ReLU6\), HardSigmoid, HardSwish, Gelu and Erf$/m);
    assert.doesNotMatch(advice, /Gemm|Softmax/);
    assert.match(advice, /supported ops: docs\/CLI\.md, "What the importer reads"; .*test\/onnx-conformance\.test\.ts/);
    return true;
  });
});

test('the advice groups op types that share it, once per type', () => {
  const bytes = onnxModel({
    nodes: [
      node('LSTM', ['x'], ['c'], 'lstm'),
      node('GRU', ['c'], ['m'], 'gru1'),
      node('GRU', ['m'], ['y'], 'gru2'),
    ],
    inputs: [['x', [2, 2]]],
    outputs: [['y', [2, 4]]],
  });
  assert.throws(() => importOnnx(bytes, { source: 'cat.onnx' }), (e: unknown) => {
    assert.ok(e instanceof ConvertError);
    const advice = e.message.split('\nwhat to do:\n')[1].split('\n');
    assert.equal(advice.length, 2, e.message);
    assert.match(advice[0], /^ {2}LSTM, GRU: recurrent layers are not in hnet's plan/);
    return true;
  });
});

test('Softmax/LogSoftmax before opset 13 flatten at the axis: matches onnxruntime on a 3-D input', async () => {
  for (const op of ['Softmax', 'LogSoftmax']) {
    const bytes = onnxModel({
      opset: 11,
      nodes: [node(op, ['x'], ['y'], 'sm', [attr.int('axis', 1)])],
      inputs: [['x', [2, 3, 4]]],
      outputs: [['y', [2, 3, 4]]],
    });
    const { model } = importOnnx(bytes);
    assert.deepEqual(model.nodes.map((n) => n.op.type), ['Flatten', op, 'Reshape']);
    const x = { shape: [2, 3, 4], data: randomArray(24, 9) };
    assertClose(runReference(model, { x }).y, (await runOrt(bytes, { x })).y, 1e-5, `${op} opset 11`);
  }
});

test('MatMul + Add becomes one Dense; a Pad before a Conv folds into its pads; Identity outputs keep their names', async () => {
  const bytes = onnxModel({
    opset: 13,
    nodes: [
      node('Pad', ['x', 'pads'], ['p'], 'pad'),
      node('Conv', ['p', 'cw'], ['c'], 'conv', [attr.ints('kernel_shape', [3, 3])]),
      node('Flatten', ['c'], ['f'], 'flat'),
      node('MatMul', ['f', 'mw'], ['m'], 'mm'),
      node('Add', ['mb', 'm'], ['a'], 'bias'),
      node('Identity', ['a'], ['y'], 'id'),
    ],
    inputs: [['x', ['N', 2, 5, 5]]],
    outputs: [['y', ['N', 3]]],
    initializers: [
      int64Tensor('pads', [0, 0, 1, 2, 0, 0, 1, 0]),
      floatTensor('cw', [4, 2, 3, 3], randomArray(72, 5)),
      floatTensor('mw', [4 * 5 * 5, 3], randomArray(300, 6)),
      floatTensor('mb', [3], Float32Array.of(1, 2, 3)),
    ],
  });
  const { model } = importOnnx(bytes);
  assert.deepEqual(model.nodes.map((n) => n.op.type), ['Conv2D', 'Flatten', 'Dense']);
  assert.equal(model.nodes[2].outputs[0], 'y');
  const x = { shape: [2, 2, 5, 5], data: randomArray(100, 7) };
  assertClose(runReference(model, { x }).y, (await runOrt(bytes, { x })).y, 1e-4, 'MatMul+Add, Pad+Conv');
});

test('Identity from a graph input to a graph output gets a copy node', async () => {
  const bytes = onnxModel({
    nodes: [node('Identity', ['x'], ['y'], 'id'), node('Relu', ['x'], ['r'], 'relu')],
    inputs: [['x', ['N', 3]]],
    outputs: [['y', ['N', 3]], ['r', ['N', 3]]],
  });
  const { model } = importOnnx(bytes);
  const x = { shape: [2, 3], data: randomArray(6) };
  const out = runReference(model, { x });
  assertClose(out.y, x, 0, 'identity copy');
  assertClose(out.r, (await runOrt(bytes, { x })).r, 0, 'relu');
});

test('bad files: not ONNX, no graph, symbolic non-batch dims', () => {
  assert.throws(() => importOnnx(new Uint8Array([1, 2, 3, 4, 5])), (e: unknown) => e instanceof ConvertError && e.code === 'bad-model');
  assert.throws(() => importOnnx('/nonexistent/model.onnx'), (e: unknown) => e instanceof ConvertError && e.code === 'file' && e.message.includes('/nonexistent/model.onnx'));
  const bytes = onnxModel({ nodes: [node('Relu', ['x'], ['y'], 'r')], inputs: [['x', ['N', 'C']]], outputs: [['y', ['N', 'C']]] });
  assert.throws(() => importOnnx(bytes), (e: unknown) => e instanceof ConvertError && /dimension 1 is symbolic/.test(e.message));
});

test("PyTorch's x.view(x.size(0), -1) (Shape → Gather → Unsqueeze → Concat → Reshape) folds into one Reshape", () => {
  const { model } = importOnnx(fixture('vgg_small.onnx'));
  const reshape = model.nodes.find((n) => n.op.type === 'Reshape');
  assert.deepEqual(reshape?.op, { type: 'Reshape', shape: [0, -1] });
  assert.ok(!model.nodes.some((n) => n.op.type === 'BatchNorm'));
});

test('shape arithmetic on computed data is refused; the batch size in a non-batch position too', () => {
  const gatherData = onnxModel({
    nodes: [node('Gather', ['x', 'i'], ['y'], 'embed')],
    inputs: [['x', ['N', 4]]],
    outputs: [['y', ['N']]],
    initializers: [int64Tensor('i', [0])],
  });
  assert.throws(() => importOnnx(gatherData), (e: unknown) => e instanceof ConvertError && /embed \(Gather\): gathering along the batch axis 0 is not supported/.test(e.message));
  const moved = onnxModel({
    nodes: [
      node('Shape', ['x'], ['s'], 'shape'),
      node('Gather', ['s', 'zero'], ['n'], 'g'),
      node('Unsqueeze', ['n', 'axes'], ['n1'], 'u'),
      node('Concat', ['minus1', 'n1'], ['target'], 'c', [attr.int('axis', 0)]),
      node('Reshape', ['x', 'target'], ['y'], 'r'),
    ],
    inputs: [['x', ['N', 4]]],
    outputs: [['y', [4, 'N']]],
    initializers: [{ ...int64Tensor('zero', [0]), dims: [] }, int64Tensor('axes', [0]), int64Tensor('minus1', [-1])],
  });
  assert.throws(() => importOnnx(moved), (e: unknown) => e instanceof ConvertError && /r \(Reshape\): the batch size N lands at position 1/.test(e.message));
});

test("tf2onnx's NHWC flatten (Transpose [0,2,3,1] → Reshape [-1, k] → MatMul) folds into the weight's columns", async () => {
  for (const flatten of ['Reshape', 'Flatten']) {
    const bytes = onnxModel({
      nodes: [
        node('Conv', ['x', 'cw'], ['c'], 'conv', [attr.ints('pads', [1, 1, 1, 1])]),
        node('Relu', ['c'], ['r'], 'relu'),
        node('Transpose', ['r'], ['t'], 'to_nhwc', [attr.ints('perm', [0, 2, 3, 1])]),
        flatten === 'Reshape' ? node('Reshape', ['t', 'shape'], ['f'], 'flatten') : node('Flatten', ['t'], ['f'], 'flatten'),
        node('MatMul', ['f', 'mw'], ['m'], 'dense/MatMul'),
        node('Add', ['m', 'mb'], ['y'], 'dense/BiasAdd'),
      ],
      inputs: [['x', ['N', 2, 3, 5]]],
      outputs: [['y', ['N', 4]]],
      initializers: [
        floatTensor('cw', [6, 2, 3, 3], randomArray(108, 11)),
        int64Tensor('shape', [-1, 90]),
        floatTensor('mw', [90, 4], randomArray(360, 12)),
        floatTensor('mb', [4], randomArray(4, 13)),
      ],
    });
    const { model, report } = importOnnx(bytes);
    assert.deepEqual(model.nodes.map((n) => n.op.type), ['Conv2D', 'Relu', 'Flatten', 'Dense']);
    assert.ok(report.folded.some((f) => f.startsWith('Transpose')));
    const x = { shape: [2, 2, 3, 5], data: randomArray(60, 14) };
    assertClose(runReference(model, { x }).y, (await runOrt(bytes, { x })).y, 1e-4, `NHWC ${flatten}`);
  }
  // Anywhere else a Transpose is a node of its own (format 1.1).
  const other = onnxModel({
    nodes: [node('Transpose', ['x'], ['t'], 'tr', [attr.ints('perm', [0, 2, 1])]), node('Relu', ['t'], ['y'], 'after')],
    inputs: [['x', ['N', 2, 3]]],
    outputs: [['y', ['N', 3, 2]]],
  });
  const { model } = importOnnx(other);
  assert.deepEqual(model.nodes.map((n) => n.op.type), ['Transpose', 'Relu']);
  const x = { shape: [2, 2, 3], data: randomArray(12, 15) };
  assertClose(runReference(model, { x }).y, (await runOrt(other, { x })).y, 0, 'Transpose then Relu');
});

test('60,000 Dropouts in a chain import in linear time (was a scan of every node per Dropout: 60 s)', () => {
  const n = 60_000;
  const nodes = [node('Relu', ['x'], ['t0'], 'relu')];
  for (let i = 0; i < n; i++) nodes.push(node('Dropout', [`t${i}`], [`t${i + 1}`], `drop${i}`));
  const start = performance.now();
  const { model, report } = importOnnx(onnxModel({ nodes, inputs: [['x', ['N', 4]]], outputs: [[`t${n}`, ['N', 4]]] }));
  const seconds = (performance.now() - start) / 1000;
  assert.equal(model.nodes.length, 1);
  assert.equal(model.outputs[0].name, `t${n}`);
  assert.equal(report.folded.length, n);
  // Generous: 0.4 s here on a shared 2-core machine; the quadratic scan took 60 s.
  assert.ok(seconds < 10, `import took ${seconds.toFixed(1)} s`);
});

test('attributes of the wrong type are refused naming node, attribute, expected and found type (never read as 0)', () => {
  const w = floatTensor('w', [3, 4], W);
  const cases: [string, Uint8Array, RegExp][] = [
    ['Gemm transB=1.0', onnxModel({
      nodes: [node('Gemm', ['x', 'w'], ['y'], 'fc', [attr.float('transB', 1)])],
      inputs: [['x', ['N', 4]]], outputs: [['y', ['N', 3]]], initializers: [w],
    }), /fc \(Gemm\): attribute transB must be INT, found FLOAT/],
    ['LeakyRelu alpha=3', onnxModel({
      nodes: [node('LeakyRelu', ['x'], ['y'], 'leaky', [attr.int('alpha', 3)])],
      inputs: [['x', ['N', 4]]], outputs: [['y', ['N', 4]]],
    }), /leaky \(LeakyRelu\): attribute alpha must be FLOAT, found INT/],
    ['Softmax axis=1.0', onnxModel({
      nodes: [node('Softmax', ['x'], ['y'], 'soft', [attr.float('axis', 1)])],
      inputs: [['x', ['N', 4]]], outputs: [['y', ['N', 4]]],
    }), /soft \(Softmax\): attribute axis must be INT, found FLOAT/],
    ['Conv strides as INT', onnxModel({
      nodes: [node('Conv', ['x', 'k'], ['y'], 'conv', [attr.int('strides', 2)])],
      inputs: [['x', ['N', 1, 4, 4]]], outputs: [['y', ['N', 1, 3, 3]]], initializers: [floatTensor('k', [1, 1, 2, 2], randomArray(4))],
    }), /conv \(Conv\): attribute strides must be INTS, found INT/],
    ['Constant value_int as FLOAT', onnxModel({
      nodes: [node('Constant', [], ['s'], 'shape', [{ ...attr.float('value_int', 4) }]), node('Reshape', ['x', 's'], ['y'], 'reshape')],
      inputs: [['x', ['N', 4]]], outputs: [['y', ['N', 4]]],
    }), /shape \(Constant\): attribute value_int must be INT, found FLOAT/],
    ['an attribute without a type', onnxModel({
      nodes: [node('Gemm', ['x', 'w'], ['y'], 'fc', [{ name: 'transB', i: 1 }])],
      inputs: [['x', ['N', 4]]], outputs: [['y', ['N', 3]]], initializers: [w],
    }), /fc \(Gemm\): attribute transB must be INT, found UNDEFINED/],
  ];
  for (const [what, bytes, message] of cases) {
    assert.throws(() => importOnnx(bytes), (e: unknown) => e instanceof ConvertError && e.code === 'unsupported' && message.test(e.message), what);
  }
});

test('Conv and pool strides, dilations and kernels must be positive: refused naming the node (strides 0 said "got Infinity")', () => {
  const k = floatTensor('k', [1, 1, 2, 2], randomArray(4));
  const cases: [string, AttributeProto[], RegExp][] = [
    ['Conv', [attr.ints('strides', [0, 1])], /c1 \(Conv\): strides \[0,1\] must be positive integers/],
    ['Conv', [attr.ints('dilations', [1, 0])], /c1 \(Conv\): dilations \[1,0\] must be positive integers/],
    ['MaxPool', [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [1, -2])], /c1 \(MaxPool\): strides \[1,-2\] must be positive integers/],
    ['AveragePool', [attr.ints('kernel_shape', [0, 2])], /c1 \(AveragePool\): kernel_shape \[0,2\] must be positive integers/],
  ];
  for (const [op, attributes, message] of cases) {
    const bytes = onnxModel({
      nodes: [node(op, op === 'Conv' ? ['x', 'k'] : ['x'], ['y'], 'c1', attributes)],
      inputs: [['x', ['N', 1, 4, 4]]], outputs: [['y', ['N', 1, 3, 3]]], initializers: op === 'Conv' ? [k] : [],
    });
    assert.throws(() => importOnnx(bytes), (e: unknown) => e instanceof ConvertError && message.test(e.message), `${op} ${message}`);
  }
});

test('graph input sizes 0 or -5 are refused as sizes, not reported as "symbolic"', () => {
  for (const [dims, message] of [[[0, 4], /input "x" \(graph input\): dimension 0 is 0; sizes must be positive/], [['N', -5], /dimension 1 is -5; sizes must be positive/]] as const) {
    const bytes = onnxModel({ nodes: [node('Relu', ['x'], ['y'], 'relu')], inputs: [['x', [...dims]]], outputs: [['y', ['N', 4]]] });
    assert.throws(() => importOnnx(bytes), (e: unknown) => e instanceof ConvertError && message.test(e.message), String(dims));
  }
});

test('int64 values beyond ±2^53 are refused with their exact value, never rounded (2^60 + 1 read as 2^60)', () => {
  const big = '1152921504606846977'; // 2^60 + 1
  const reshape = (shape: TensorProto, attributes: AttributeProto[] = []): Uint8Array => onnxModel({
    nodes: [node('Reshape', ['x', 's'], ['y'], 'reshape', attributes)],
    inputs: [['x', ['N', 4]]], outputs: [['y', ['N', 4]]], initializers: [shape],
  });
  const raw = int64Tensor('s', [0, 4]);
  new DataView(raw.rawData!.buffer, raw.rawData!.byteOffset).setBigInt64(8, BigInt(big), true);
  assert.throws(() => importOnnx(reshape(raw)), new RegExp(`initializer "s": int64 value ${big} at index 1 is beyond ±2\\^53`));
  const typed: TensorProto = { name: 's', dims: [2], dataType: 7, int64Data: [0, big as unknown as number] };
  assert.throws(() => importOnnx(reshape(typed)), new RegExp(`int64 value ${big} at index 1 is beyond`));
  const attribute = { name: 'allowzero', type: onnx.AttributeProto.AttributeType.INT, i: big as unknown as number };
  assert.throws(() => importOnnx(reshape(int64Tensor('s', [0, 4]), [attribute])), new RegExp(`reshape \\(Reshape\\): attribute allowzero: int64 value ${big} is beyond`));
});

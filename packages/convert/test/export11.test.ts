// exportOnnx for the ops of format 1.1, one small model per op and variant:
// the export passes onnx.checker (full check, shape inference included),
// onnxruntime-node on it gives what the reference forward gives on the hnet
// model, and importing the export back gives a model with the same outputs.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { hashedWeight, plainWeight, runReference, type Model, type Node, type Op, type Pair, type Tensor, type TensorInfo, type Weight } from '@hnet/format';
import { EXPORT_OPSET, exportOnnx, exportOpset, importOnnx } from '../src/index.js';
import { onnx } from '../src/onnx/proto.js';
import { assertClose, randomArray, runOrt } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'hnet-export11-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function onnxChecker(bytes: Uint8Array, name: string): void {
  const file = path.join(dir, `${name}.onnx`);
  writeFileSync(file, bytes);
  execFileSync('/usr/bin/python3', ['-c', 'import sys, onnx; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', file], { stdio: ['ignore', 'ignore', 'pipe'] });
}

const plain = (shape: number[], seed: number): Weight => plainWeight(randomArray(shape.reduce((a, b) => a * b, 1), seed), shape);
const hashed = (shape: number[], seed: number): Weight => {
  const n = shape.reduce((a, b) => a * b, 1);
  return hashedWeight(randomArray(n, seed), shape, { algorithm: 'xxh32', bucketSeed: seed, signSeed: seed + 1 }, Math.ceil(n / 4), 'float32');
};
const constant = (name: string, value: Weight): Node => ({ name, op: { type: 'Constant', value }, inputs: [], outputs: [name] });

interface Case {
  name: string;
  inputs: TensorInfo[]; // -1: batch
  output: number[]; // shape of the one output, -1: batch
  /** Nodes before the op under test (constants, a positive input for Sqrt...), reading the inputs. */
  before?: Node[];
  op: Op;
  /** The op's inputs; default: the graph inputs. */
  opInputs?: string[];
}

const conv = { strides: [1, 1] as Pair, pads: [0, 0, 0, 0] as [number, number, number, number], dilations: [1, 1] as Pair };
const exp = (from: string, to: string): Node => ({ name: `exp_${to}`, op: { type: 'Exp' }, inputs: [from], outputs: [to] });
const x = (shape: number[], name = 'x'): TensorInfo => ({ name, shape: [-1, ...shape] });

const CASES: Case[] = [
  { name: 'Constant', inputs: [x([4])], output: [-1, 4], before: [constant('c', plain([4], 3))], op: { type: 'Add' }, opInputs: ['x', 'c'] },
  { name: 'Constant (hashed)', inputs: [x([2, 4])], output: [-1, 2, 4], before: [constant('c', hashed([2, 4], 5))], op: { type: 'Mul' }, opInputs: ['x', 'c'] },
  { name: 'Concat', inputs: [x([3, 4, 4]), x([2, 4, 4], 'y')], output: [-1, 5, 4, 4], op: { type: 'Concat', axis: 1 } },
  { name: 'Concat (last axis, 3 inputs)', inputs: [x([3, 2]), x([3, 1], 'y'), x([3, 4], 'z')], output: [-1, 3, 7], op: { type: 'Concat', axis: -1 } },
  { name: 'Slice', inputs: [x([6, 5])], output: [-1, 2, 4], op: { type: 'Slice', starts: [1, -4], ends: [5, Number.MAX_SAFE_INTEGER], axes: [1, 2], steps: [2, 1] } },
  { name: 'Slice (negative step)', inputs: [x([6, 5])], output: [-1, 6, 5], op: { type: 'Slice', starts: [-1], ends: [-Number.MAX_SAFE_INTEGER], axes: [2], steps: [-1] } },
  { name: 'Clip (0, 6)', inputs: [x([8])], output: [-1, 8], op: { type: 'Clip', min: 0, max: 6 } },
  { name: 'Clip (no min)', inputs: [x([8])], output: [-1, 8], op: { type: 'Clip', min: null, max: 0.25 } },
  { name: 'Clip (no max)', inputs: [x([8])], output: [-1, 8], op: { type: 'Clip', min: -0.25, max: null } },
  { name: 'HardSigmoid', inputs: [x([8])], output: [-1, 8], op: { type: 'HardSigmoid', alpha: 0.3, beta: 0.4 } },
  { name: 'HardSwish', inputs: [x([8])], output: [-1, 8], op: { type: 'HardSwish' } },
  { name: 'Mul (broadcast)', inputs: [x([3, 4]), x([1, 4], 'y')], output: [-1, 3, 4], op: { type: 'Mul' } },
  { name: 'Sub (broadcast constant)', inputs: [x([3, 4])], output: [-1, 3, 4], before: [constant('c', plain([3, 1], 7))], op: { type: 'Sub' }, opInputs: ['c', 'x'] },
  { name: 'Div', inputs: [x([3, 4])], output: [-1, 3, 4], before: [exp('x', 'e')], op: { type: 'Div' }, opInputs: ['x', 'e'] },
  { name: 'Pow (2)', inputs: [x([8])], output: [-1, 8], op: { type: 'Pow', exponent: 2 } },
  { name: 'Pow (0.5)', inputs: [x([8])], output: [-1, 8], before: [exp('x', 'e')], op: { type: 'Pow', exponent: 0.5 }, opInputs: ['e'] },
  { name: 'Sqrt', inputs: [x([8])], output: [-1, 8], before: [exp('x', 'e')], op: { type: 'Sqrt' }, opInputs: ['e'] },
  { name: 'Exp', inputs: [x([8])], output: [-1, 8], op: { type: 'Exp' } },
  { name: 'Erf', inputs: [x([8])], output: [-1, 8], op: { type: 'Erf' } },
  { name: 'Neg', inputs: [x([8])], output: [-1, 8], op: { type: 'Neg' } },
  { name: 'ReduceMean (spatial, keepdims)', inputs: [x([3, 4, 5])], output: [-1, 3, 1, 1], op: { type: 'ReduceMean', axes: [2, 3], keepdims: true } },
  { name: 'ReduceMean (last, no keepdims)', inputs: [x([3, 4])], output: [-1, 3], op: { type: 'ReduceMean', axes: [-1], keepdims: false } },
  { name: 'ReduceSum (axis 1)', inputs: [x([3, 4])], output: [-1, 4], op: { type: 'ReduceSum', axes: [1], keepdims: false } },
  { name: 'ReduceSum (all axes, keepdims)', inputs: [x([3, 4])], output: [1, 1, 1], op: { type: 'ReduceSum', axes: null, keepdims: true } },
  { name: 'ReduceMax', inputs: [x([3, 4])], output: [-1, 3, 1], op: { type: 'ReduceMax', axes: [2], keepdims: true } },
  { name: 'Transpose', inputs: [x([3, 4, 5])], output: [-1, 4, 5, 3], op: { type: 'Transpose', perm: [0, 2, 3, 1] } },
  { name: 'MatMul (batched)', inputs: [x([2, 3, 4]), x([2, 4, 5], 'y')], output: [-1, 2, 3, 5], op: { type: 'MatMul' } },
  { name: 'MatMul (rank 3)', inputs: [x([3, 4]), x([4, 2], 'y')], output: [-1, 3, 2], op: { type: 'MatMul' } },
  { name: 'MatMul (batch dims broadcast)', inputs: [x([2, 3, 4]), x([1, 4, 5], 'y')], output: [-1, 2, 3, 5], op: { type: 'MatMul' } },
  { name: 'LayerNorm', inputs: [x([3, 8])], output: [-1, 3, 8], op: { type: 'LayerNorm', axis: 2, epsilon: 1e-5, scale: plain([8], 11), bias: plain([8], 12) } },
  { name: 'LayerNorm (two axes, no bias)', inputs: [x([3, 4])], output: [-1, 3, 4], op: { type: 'LayerNorm', axis: 1, epsilon: 1e-6, scale: plain([3, 4], 13), bias: null } },
  { name: 'Gelu', inputs: [x([8])], output: [-1, 8], op: { type: 'Gelu', tanhApproximation: false } },
  { name: 'Gelu (tanh)', inputs: [x([8])], output: [-1, 8], op: { type: 'Gelu', tanhApproximation: true } },
  { name: 'Squeeze', inputs: [x([1, 4, 1])], output: [-1, 4], op: { type: 'Squeeze', axes: [1, 3] } },
  { name: 'Unsqueeze', inputs: [x([4])], output: [-1, 1, 4, 1], op: { type: 'Unsqueeze', axes: [1, 3] } },
  { name: 'Pad', inputs: [x([2, 3, 3])], output: [-1, 2, 7, 5], op: { type: 'Pad', pads: [0, 0, 1, 2, 0, 0, 3, 0], value: 0.5 } },
  { name: 'GlobalMaxPool', inputs: [x([3, 4, 5])], output: [-1, 3, 1, 1], op: { type: 'GlobalMaxPool' } },
  { name: 'Resize (nearest, asymmetric, floor)', inputs: [x([2, 3, 4])], output: [-1, 2, 6, 8], op: { type: 'Resize', mode: 'nearest', coordinates: 'asymmetric', nearest: 'floor', scales: [2, 2] } },
  { name: 'Resize (nearest, half_pixel, round_prefer_ceil)', inputs: [x([2, 3, 4])], output: [-1, 2, 9, 8], op: { type: 'Resize', mode: 'nearest', coordinates: 'half_pixel', nearest: 'round_prefer_ceil', scales: [3, 2] } },
  { name: 'Resize (linear, pytorch_half_pixel)', inputs: [x([2, 3, 4])], output: [-1, 2, 6, 12], op: { type: 'Resize', mode: 'linear', coordinates: 'pytorch_half_pixel', nearest: 'round_prefer_floor', scales: [2, 3] } },
  { name: 'Resize (linear, align_corners)', inputs: [x([2, 3, 4])], output: [-1, 2, 6, 8], op: { type: 'Resize', mode: 'linear', coordinates: 'align_corners', nearest: 'round_prefer_floor', scales: [2, 2] } },
  {
    name: 'ConvTranspose (stride 2, output padding)', inputs: [x([4, 5, 5])], output: [-1, 3, 10, 10],
    op: { type: 'ConvTranspose', weight: plain([4, 3, 3, 3], 21), bias: plain([3], 22), ...conv, strides: [2, 2], pads: [1, 1, 1, 1], outputPadding: [1, 1], group: 1 },
  },
  {
    name: 'ConvTranspose (grouped, dilated, hashed, no bias)', inputs: [x([4, 5, 5])], output: [-1, 2, 9, 9],
    op: { type: 'ConvTranspose', weight: hashed([4, 1, 3, 3], 23), bias: null, ...conv, dilations: [2, 2], outputPadding: [0, 0], group: 2 },
  },
  { name: 'Expand (batch)', inputs: [x([1, 4])], output: [-1, 3, 4], op: { type: 'Expand', shape: [-1, 3, 4] } },
  {
    name: 'Expand (a constant to the batch, like a class token)', inputs: [x([2, 4])], output: [-1, 3, 4],
    before: [
      constant('token', plain([1, 1, 4], 31)),
      { name: 'expand', op: { type: 'Expand', shape: [-1, 1, 4] }, inputs: ['token'], outputs: ['tokens'] },
    ],
    op: { type: 'Concat', axis: 1 }, opInputs: ['tokens', 'x'],
  },
];

function modelOf(c: Case): Model {
  return {
    inputs: c.inputs,
    outputs: [{ name: 'out', shape: c.output }],
    nodes: [...(c.before ?? []), { name: 'op', op: c.op, inputs: c.opInputs ?? c.inputs.map((i) => i.name), outputs: ['out'] }],
    metadata: {},
  };
}

function feeds(model: Model, batch: number): Record<string, Tensor> {
  return Object.fromEntries(model.inputs.map((t, i) => {
    const shape = t.shape.map((d) => (d < 0 ? batch : d));
    return [t.name, { shape, data: randomArray(shape.reduce((a, b) => a * b, 1), 100 + i).map((v) => 3 * v) }];
  }));
}

for (const c of CASES) {
  test(`export ${c.name}: onnx.checker, onnxruntime == reference, and it imports back`, async () => {
    const model = modelOf(c);
    const bytes = exportOnnx(model);
    onnxChecker(bytes, c.name.replace(/\W+/g, '_'));
    for (const batch of [1, 3]) {
      const inputs = feeds(model, batch);
      const expected = runReference(model, inputs).out;
      assertClose((await runOrt(bytes, inputs)).out, expected, 1e-5, `${c.name}: onnxruntime on the export, batch ${batch}`);
      const back = importOnnx(bytes, { source: `${c.name}.onnx` }).model;
      assertClose(runReference(back, inputs).out, expected, 1e-5, `${c.name}: the export imported back, batch ${batch}`);
    }
  });
}

test('the opset is 13 unless HardSwish (14) or LayerNorm (17) needs more', () => {
  const opsetOf = (name: string): number => {
    const model = modelOf(CASES.find((c) => c.name === name)!);
    const written = onnx.ModelProto.decode(exportOnnx(model)).opsetImport?.[0]?.version;
    assert.equal(Number(written), exportOpset(model), `${name}: the file's opset is exportOpset's`);
    return exportOpset(model);
  };
  assert.equal(opsetOf('Concat'), EXPORT_OPSET);
  assert.equal(EXPORT_OPSET, 13);
  assert.equal(opsetOf('HardSwish'), 14);
  assert.equal(opsetOf('LayerNorm'), 17);
  assert.equal(opsetOf('Gelu'), 13, 'Gelu is written as its Erf formula');
});

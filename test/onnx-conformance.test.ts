// ONNX's own backend node tests (Debian libonnx-testdata) through the importer,
// the reference forward pass and the WASM runtime. For every test whose ops hnet claims, the
// weight inputs are bound as initializers from the test's own input_*.pb,
// the model is imported (no hashing) and written to .hnet bytes and read
// back, and runReference must reproduce every
// output_*.pb within 1e-4 relative. Variants hnet deliberately does not claim
// are listed in NOT_CLAIMED with the reason; the importer must refuse them
// with its normal error (a refusal of anything else is a failure). The few
// tests whose expected output disagrees with onnxruntime and PyTorch are
// listed in ORT_IS_REFERENCE and compared against onnxruntime-node instead.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ConvertError, decodeTensorProto, importOnnx } from '@hnet/convert';
import { decode, encode, runReference, type Tensor } from '@hnet/format';
import onnxProto from 'onnx-proto';
import { runOrt, runWasm } from './helpers.js';

const { onnx } = onnxProto;

const ROOT = '/usr/share/libonnx-testdata/data/node';

/** The ONNX op types hnet claims (see packages/convert/src/onnx/). */
const CLAIMED = new Set([
  'Gemm', 'MatMul', 'Conv', 'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Softmax', 'LogSoftmax', 'Flatten',
  'Reshape', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'BatchNormalization', 'Dropout', 'Identity', 'Add', 'Constant',
  // format 1.1 (issue 12)
  'Concat', 'Split', 'Slice', 'Gather', 'Clip', 'HardSigmoid', 'HardSwish', 'Mul', 'Sub', 'Div', 'Pow', 'Sqrt', 'Exp',
  'Erf', 'Neg', 'ReduceMean', 'ReduceSum', 'ReduceMax', 'Transpose', 'LayerNormalization', 'Squeeze', 'Unsqueeze',
  'Pad', 'GlobalMaxPool', 'Resize', 'Upsample', 'ConvTranspose', 'Expand',
]);

/**
 * Which inputs of an op carry data (the rest are weights, bound as
 * initializers): 'all' for every input. An op with several bindings runs
 * each test once per binding, as its own row (MatMul: B a weight, imported
 * as Dense; B computed, a MatMul of two activations).
 */
type Binding = { label: string; data: number[] | 'all' };
const BINDINGS: Record<string, Binding[]> = {
  Add: [{ label: '', data: [0, 1] }],
  Mul: [{ label: '', data: [0, 1] }],
  Sub: [{ label: '', data: [0, 1] }],
  Div: [{ label: '', data: [0, 1] }],
  Concat: [{ label: '', data: 'all' }],
  MatMul: [{ label: ' (B weight: Dense)', data: [0] }, { label: ' (B computed)', data: [0, 1] }],
};
const DEFAULT_BINDING: Binding = { label: '', data: [0] };
const bindingsOf = (ops: string[]): Binding[] => {
  const multi = ops.map((op) => BINDINGS[op]).find((b) => b && b.length > 1);
  return multi ?? [DEFAULT_BINDING];
};
/** The data inputs of a node under a binding (which only changes the op it names, or the ops with one binding). */
function isDataInput(op: string, index: number, binding: Binding): boolean {
  const own = BINDINGS[op];
  const data = own && own.length > 1 ? binding.data : (own?.[0] ?? DEFAULT_BINDING).data;
  return data === 'all' || data.includes(index);
}

/**
 * Optional outputs that hnet does not compute (every hnet node has one
 * output): the tests of these ops run with only their first output, which is
 * what a model uses (LayerNormalization's Mean and InvStdDev are for training).
 */
const FIRST_OUTPUT_ONLY = new Set(['LayerNormalization']);

/** Tests of claimed ops that hnet refuses on purpose (test-name pattern → why). Keep honest and short. */
const NOT_CLAIMED_RULES: [RegExp, string][] = [
  [/_u?int8(_|$)/, 'int8/uint8 tensors: hnet computes in float32'],
  [/pool_(1d|3d)_default$/, '1-D and 3-D pooling: hnet pools are 2-D'],
  [/^test_maxpool_with_argmax_/, 'the MaxPool Indices output'],
  [/training_mode$|^test_training_dropout/, 'training-mode BatchNormalization/Dropout: hnet imports inference graphs'],
  [/^test_dropout_default_mask/, 'the Dropout mask output'],
  [/^test_gemm_(transposeA|all_attributes)$/, 'Gemm transA=1: hnet has no transpose of the input'],
  [/^test_gemm_default_matrix_bias$/, 'Gemm with a bias matrix C [M, N] that differs per row'],
  [/^test_identity_(opt|sequence)$/, 'optional and sequence types'],
  [/^test_reshape_allowzero_reordered$/, 'Reshape allowzero=1 with a 0 (an empty dimension)'],
  [/^test_constant$/, 'a graph output that is a constant (nothing to compute)'],
  // format 1.1
  [/^test_pow(_example|_bcast_array|_types_.*)?$/, 'Pow with a per-element exponent or integer tensors: hnet\'s Pow has one constant float exponent'],
  [/^test_gather_/, 'Gather with an index tensor: hnet claims a constant scalar index (Slice + Squeeze)'],
  [/^test_(edge|reflect)_pad$/, 'Pad modes edge and reflect: hnet pads with a constant'],
  [/^test_convtranspose_(1d|3d)$/, '1-D and 3-D ConvTranspose: hnet convolutions are 2-D'],
  [/^test_convtranspose_(autopad_same|kernel_shape|output_shape|with_kernel)$/, 'ConvTranspose output_shape and auto_pad: the importer asks for explicit pads and output_padding'],
  [/^test_layer_normalization_(\d)d_axis(0|_negative_\1)(_epsilon)?$/, 'LayerNormalization over every dimension: hnet\'s first dimension is the batch'],
  [/^test_resize_.*cubic/, 'Resize mode cubic: hnet resizes nearest and linear'],
  [/^test_resize_tf_crop_and_resize$|tf_half_pixel_for_nn$/, 'Resize coordinate modes tf_crop_and_resize and tf_half_pixel_for_nn'],
  [/^test_split_zero_size_splits$|^test_slice_start_out_of_bounds$/, 'zero-size outputs (an empty dimension)'],
];
const notClaimed = (dir: string): string | undefined => NOT_CLAIMED_RULES.find(([re]) => re.test(dir))?.[1];

/**
 * Tests whose expected output in this ONNX release disagrees with
 * onnxruntime and PyTorch (test-name pattern → why): hnet follows them, so
 * these are compared against onnxruntime-node on the same model and inputs.
 */
const ORT_IS_REFERENCE: [RegExp, string][] = [
  [/^test_resize_downsample_scales_linear_align_corners$/,
    'align_corners downsampling: the test data maps with (in − 1)/(in·scale − 1), onnxruntime and PyTorch with (in − 1)/(out − 1), out = floor(in·scale)'],
];
const ortIsReference = (dir: string): string | undefined => ORT_IS_REFERENCE.find(([re]) => re.test(dir))?.[1];

const TOLERANCE = 1e-4;

interface Row { op: string; passed: number; total: number; notClaimed: string[] }

function loadTensor(file: string): Tensor & { name: string } {
  const t = decodeTensorProto(readFileSync(file), file);
  return { name: t.name, shape: t.dims, data: Float32Array.from(t.values) };
}

/** Drops the outputs of FIRST_OUTPUT_ONLY ops after the first, from the node and from the graph's outputs. */
function firstOutputsOnly(model: ReturnType<typeof onnx.ModelProto.decode>): void {
  const graph = model.graph!;
  const dropped = new Set<string>();
  for (const node of graph.node ?? []) {
    if (!FIRST_OUTPUT_ONLY.has(node.opType ?? '')) continue;
    for (const o of (node.output ?? []).slice(1)) dropped.add(o);
    node.output = (node.output ?? []).slice(0, 1);
  }
  graph.output = (graph.output ?? []).filter((o) => !dropped.has(o.name ?? ''));
}

/** The model with every weight input turned into an initializer holding the test's value. */
function bindWeights(model: ReturnType<typeof onnx.ModelProto.decode>, dataSet: string, binding: Binding): { bytes: Uint8Array; inputs: string[] } {
  const graph = model.graph!;
  const dataNames = new Set<string>();
  for (const node of graph.node ?? []) {
    (node.input ?? []).forEach((name, i) => {
      if (name && isDataInput(node.opType ?? '', i, binding)) dataNames.add(name);
    });
  }
  const initNames = new Set((graph.initializer ?? []).map((t) => t.name));
  const graphInputs = (graph.input ?? []).filter((v) => !initNames.has(v.name));
  const keep = [];
  for (const [i, v] of graphInputs.entries()) {
    if (dataNames.has(v.name ?? '')) {
      keep.push(v);
    } else {
      const t = onnx.TensorProto.decode(readFileSync(path.join(dataSet, `input_${i}.pb`)));
      t.name = v.name ?? '';
      graph.initializer = [...(graph.initializer ?? []), t];
    }
  }
  graph.input = keep;
  return { bytes: onnx.ModelProto.encode(model).finish(), inputs: graphInputs.map((v) => v.name ?? '') };
}

function compare(actual: Tensor, expected: Tensor, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i];
    const e = expected.data[i];
    if (!(Math.abs(a - e) <= TOLERANCE * Math.max(1, Math.abs(e)))) {
      assert.fail(`${what}: element ${i} is ${a}, expected ${e}`);
    }
  }
}

/** One test directory under one binding, every data set: 'passed', 'not-claimed' (refused as listed), or it throws. */
async function runCase(dir: string, modelFile: string, dataSets: string[], binding: Binding): Promise<'passed' | 'not-claimed'> {
  const original = onnx.ModelProto.decode(readFileSync(modelFile));
  for (const dataSet of dataSets) {
    const fresh = onnx.ModelProto.decode(readFileSync(modelFile));
    firstOutputsOnly(fresh);
    const { bytes } = bindWeights(fresh, dataSet, binding);
    let imported;
    try {
      imported = importOnnx(bytes, { source: dir });
    } catch (e) {
      if (e instanceof ConvertError && e.code === 'unsupported' && notClaimed(dir)) return 'not-claimed';
      throw e;
    }
    if (notClaimed(dir)) throw new Error(`listed as not claimed (${notClaimed(dir)}) but the importer accepted it`);
    const graphInputs = (original.graph?.input ?? []).map((v) => v.name ?? '');
    const inputs: Record<string, Tensor> = {};
    for (const info of imported.model.inputs) {
      const idx = graphInputs.indexOf(info.name);
      assert.ok(idx >= 0, `${dir}: input ${info.name}`);
      inputs[info.name] = loadTensor(path.join(dataSet, `input_${idx}.pb`));
    }
    // Through the file format too: import → .hnet bytes → the reference and
    // the WASM runtime in both of its modes, each against ONNX's expected outputs.
    const hnetBytes = encode(imported.model);
    const engines: [string, Record<string, Tensor>][] = [['reference', runReference(decode(hnetBytes), inputs)]];
    for (const mode of ['materialized', 'streaming'] as const) engines.push([`wasm ${mode}`, await runWasm(hnetBytes, mode, inputs)]);
    const kept = new Set((fresh.graph?.output ?? []).map((o) => o.name ?? ''));
    const byOrt = ortIsReference(dir) ? await runOrt(bytes, inputs) : null;
    for (const [engine, outputs] of engines) {
      (original.graph?.output ?? []).forEach((o, k) => {
        if (!kept.has(o.name ?? '')) return;
        const expected = byOrt ? byOrt[o.name ?? ''] : loadTensor(path.join(dataSet, `output_${k}.pb`));
        compare(outputs[o.name ?? ''], expected, `${dir} output ${o.name} (${engine}${byOrt ? ' vs onnxruntime' : ''})`);
      });
    }
  }
  return 'passed';
}

test('ONNX backend node tests (libonnx-testdata)', { timeout: 600_000 }, async (t) => {
  if (!existsSync(ROOT)) {
    t.skip(`${ROOT} is missing: install Debian's libonnx-testdata (apt-get install libonnx-testdata) to run the ONNX conformance suite`);
    console.log(`SKIPPED ONNX conformance: ${ROOT} not found (apt-get install libonnx-testdata)`);
    return;
  }
  const rows = new Map<string, Row>();
  const failures: string[] = [];
  for (const dir of readdirSync(ROOT).filter((d) => d.startsWith('test_')).sort()) {
    const modelFile = path.join(ROOT, dir, 'model.onnx');
    if (!existsSync(modelFile)) continue;
    const model = onnx.ModelProto.decode(readFileSync(modelFile));
    const ops = [...new Set((model.graph?.node ?? []).map((n) => n.opType ?? ''))];
    if (!ops.every((op) => CLAIMED.has(op))) continue;
    const dataSets = readdirSync(path.join(ROOT, dir)).filter((d) => d.startsWith('test_data_set_')).map((d) => path.join(ROOT, dir, d));
    for (const binding of bindingsOf(ops)) {
      const op = (ops.filter((o) => o !== 'Constant').join('+') || 'Constant') + binding.label;
      const row = rows.get(op) ?? { op, passed: 0, total: 0, notClaimed: [] };
      rows.set(op, row);
      const result = await runCase(dir, modelFile, dataSets, binding).catch((e: Error) => {
        failures.push(`${dir}${binding.label}: ${e.message.split('\n').slice(0, 4).join(' | ')}`);
        return 'failed' as const;
      });
      if (result === 'not-claimed') row.notClaimed.push(`${dir}${binding.label}: ${notClaimed(dir)}`);
      else row.total++;
      if (result === 'passed') row.passed++;
    }
  }

  const list = [...rows.values()].sort((a, b) => a.op.localeCompare(b.op));
  const width = Math.max(...list.map((r) => r.op.length));
  console.log(`\nONNX conformance (${ROOT}), reference forward pass and WASM runtime (materialized, streaming), tolerance ${TOLERANCE} relative`);
  console.log(`(${[...FIRST_OUTPUT_ONLY].join(', ')}: the first output only):`);
  console.log(`${'op'.padEnd(width)}  passed/total`);
  for (const r of list) {
    const extra = r.notClaimed.length ? `   (+${r.notClaimed.length} not claimed)` : '';
    console.log(`${r.op.padEnd(width)}  ${`${r.passed}/${r.total}`.padStart(6)}${extra}`);
  }
  const refused = list.flatMap((r) => r.notClaimed);
  if (refused.length) {
    console.log('not claimed (refused by the importer with the normal error):');
    for (const line of refused) console.log(`  ${line}`);
  }
  const byOrt = readdirSync(ROOT).filter((d) => ortIsReference(d));
  if (byOrt.length) {
    console.log('compared against onnxruntime-node instead of the test data (which disagrees with onnxruntime and PyTorch):');
    for (const dir of byOrt) console.log(`  ${dir}: ${ortIsReference(dir)}`);
  }
  const passed = list.reduce((s, r) => s + r.passed, 0);
  const total = list.reduce((s, r) => s + r.total, 0);
  console.log(`total: ${passed}/${total} passed, ${refused.length} not claimed\n`);
  if (failures.length) console.log(`FAILURES:\n  ${failures.join('\n  ')}`);
  assert.equal(failures.length, 0, `${failures.length} claimed conformance tests failed:\n${failures.join('\n')}`);
});

// ONNX's own backend node tests (Debian libonnx-testdata) through the importer,
// the reference forward pass and the WASM runtime. For every test whose ops hnet claims, the
// weight inputs are bound as initializers from the test's own input_*.pb,
// the model is imported (no hashing) and written to .hnet bytes and read
// back, and runReference must reproduce every
// output_*.pb within 1e-4 relative. Variants hnet deliberately does not claim
// are listed in NOT_CLAIMED with the reason; the importer must refuse them
// with its normal error (a refusal of anything else is a failure).

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ConvertError, decodeTensorProto, importOnnx } from '@hnet/convert';
import { decode, encode, runReference, type Tensor } from '@hnet/format';
import { loadModel } from '@hnet/runtime-wasm';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

const ROOT = '/usr/share/libonnx-testdata/data/node';

/** The ONNX op types hnet claims (see src/onnx/import.ts). */
const CLAIMED = new Set([
  'Gemm', 'MatMul', 'Conv', 'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Softmax', 'LogSoftmax', 'Flatten',
  'Reshape', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'BatchNormalization', 'Dropout', 'Identity', 'Add', 'Constant',
]);

/** Which inputs of an op carry data (the rest are weights, bound as initializers). */
const DATA_INPUTS: Record<string, number[]> = { Add: [0, 1] };
const dataInputs = (op: string): number[] => DATA_INPUTS[op] ?? [0];

/** Tests of claimed ops that hnet refuses on purpose (test-name pattern → why). Keep honest and short. */
const NOT_CLAIMED_RULES: [RegExp, string][] = [
  [/_uint8$/, 'uint8 tensors: hnet computes in float32'],
  [/pool_(1d|3d)_default$/, '1-D and 3-D pooling: hnet pools are 2-D'],
  [/^test_maxpool_with_argmax_/, 'the MaxPool Indices output'],
  [/training_mode$|^test_training_dropout/, 'training-mode BatchNormalization/Dropout: hnet imports inference graphs'],
  [/^test_dropout_default_mask/, 'the Dropout mask output'],
  [/^test_gemm_(transposeA|all_attributes)$/, 'Gemm transA=1: hnet has no transpose of the input'],
  [/^test_gemm_default_matrix_bias$/, 'Gemm with a bias matrix C [M, N] that differs per row'],
  [/^test_matmul_[34]d$/, 'batched MatMul (rank > 2)'],
  [/^test_identity_(opt|sequence)$/, 'optional and sequence types'],
  [/^test_reshape_allowzero_reordered$/, 'Reshape allowzero=1 with a 0 (an empty dimension)'],
  [/^test_constant$/, 'a graph output that is a constant (nothing to compute)'],
];
const notClaimed = (dir: string): string | undefined => NOT_CLAIMED_RULES.find(([re]) => re.test(dir))?.[1];

const TOLERANCE = 1e-4;

interface Row { op: string; passed: number; total: number; notClaimed: string[] }

function loadTensor(file: string): Tensor & { name: string } {
  const t = decodeTensorProto(readFileSync(file), file);
  return { name: t.name, shape: t.dims, data: Float32Array.from(t.values) };
}

/** The model with every weight input turned into an initializer holding the test's value. */
function bindWeights(model: ReturnType<typeof onnx.ModelProto.decode>, dataSet: string): { bytes: Uint8Array; inputs: string[] } {
  const graph = model.graph!;
  const dataNames = new Set<string>();
  for (const node of graph.node ?? []) {
    for (const i of dataInputs(node.opType ?? '')) if (node.input?.[i]) dataNames.add(node.input[i]);
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
    const op = ops.filter((o) => o !== 'Constant').join('+') || 'Constant';
    const row = rows.get(op) ?? { op, passed: 0, total: 0, notClaimed: [] };
    rows.set(op, row);
    const dataSets = readdirSync(path.join(ROOT, dir)).filter((d) => d.startsWith('test_data_set_')).map((d) => path.join(ROOT, dir, d));
    let result: string | null = null;
    try {
      for (const dataSet of dataSets) {
        const fresh = onnx.ModelProto.decode(readFileSync(modelFile));
        const { bytes } = bindWeights(fresh, dataSet);
        let imported;
        try {
          imported = importOnnx(bytes, { source: dir });
        } catch (e) {
          if (e instanceof ConvertError && e.code === 'unsupported' && notClaimed(dir)) {
            result = 'not-claimed';
            break;
          }
          throw e;
        }
        if (notClaimed(dir)) throw new Error(`listed as not claimed (${notClaimed(dir)}) but the importer accepted it`);
        const graphInputs = (fresh.graph?.input ?? []).map((v) => v.name ?? '');
        const inputs: Record<string, Tensor> = {};
        for (const info of imported.model.inputs) {
          const idx = (model.graph?.input ?? []).findIndex((v) => v.name === info.name);
          assert.ok(idx >= 0 || graphInputs.includes(info.name), `${dir}: input ${info.name}`);
          inputs[info.name] = loadTensor(path.join(dataSet, `input_${idx}.pb`));
        }
        // Through the file format too: import → .hnet bytes → the reference and
        // the WASM runtime in both of its modes, each against ONNX's expected outputs.
        const hnetBytes = encode(imported.model);
        const engines: [string, Record<string, Tensor>][] = [['reference', runReference(decode(hnetBytes), inputs)]];
        for (const mode of ['materialized', 'streaming'] as const) {
          const runtime = await loadModel(hnetBytes, { mode });
          try {
            engines.push([`wasm ${mode}`, runtime.run(inputs)]);
          } finally {
            runtime.dispose();
          }
        }
        for (const [engine, outputs] of engines) {
          (model.graph?.output ?? []).forEach((o, k) => {
            compare(outputs[o.name ?? ''], loadTensor(path.join(dataSet, `output_${k}.pb`)), `${dir} output ${o.name} (${engine})`);
          });
        }
      }
      result ??= 'passed';
    } catch (e) {
      failures.push(`${dir}: ${(e as Error).message.split('\n').slice(0, 4).join(' | ')}`);
      result = 'failed';
    }
    if (result === 'not-claimed') row.notClaimed.push(`${dir}: ${notClaimed(dir)}`);
    else row.total++;
    if (result === 'passed') row.passed++;
  }

  const list = [...rows.values()].sort((a, b) => a.op.localeCompare(b.op));
  const width = Math.max(...list.map((r) => r.op.length));
  console.log(`\nONNX conformance (${ROOT}), reference forward pass and WASM runtime (materialized, streaming), tolerance ${TOLERANCE} relative:`);
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
  const passed = list.reduce((s, r) => s + r.passed, 0);
  const total = list.reduce((s, r) => s + r.total, 0);
  console.log(`total: ${passed}/${total} passed, ${refused.length} not claimed\n`);
  if (failures.length) console.log(`FAILURES:\n  ${failures.join('\n  ')}`);
  assert.equal(failures.length, 0, `${failures.length} claimed conformance tests failed:\n${failures.join('\n')}`);
});

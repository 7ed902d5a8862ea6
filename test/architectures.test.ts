// Real architectures end to end (issue 12): every fixture in fixtures/arch
// (scripts/make-arch-fixtures.py) is
//   0. checked to give clearly different outputs for the two examples of its
//      batch, so that batch mix-ups and ignored inputs cannot pass;
//   1. converted at compression 1 and run in the WASM runtime, materialized
//      and streaming, against onnxruntime-node on the original ONNX file;
//   2. hashed at 1/8 and run in the WASM runtime against the reference forward
//      pass of @hnet/format (the semantic oracle);
//   3. exported back to ONNX and run in onnxruntime-node: at compression 1 it
//      must give the original's output, at 1/8 the reference's.
// Each step is its own subtest, so a failure names the fixture and the step.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { decode, encode, readNpy, runReference, type Model, type Tensor } from '@hnet/format';
import { exportOnnx, hashModel, importOnnx } from '@hnet/convert';
import onnxProto from 'onnx-proto';
import { runOrt, runWasm } from './helpers.js';

const { onnx } = onnxProto;

const DIR = fileURLToPath(new URL('../fixtures/arch/', import.meta.url));
const FIXTURES = readdirSync(DIR).filter((f) => f.endsWith('.onnx')).map((f) => f.slice(0, -'.onnx'.length)).sort();

/** The bar against onnxruntime: max |diff| ≤ 1e-4 · max |ref|. */
const ORT_TOLERANCE = 1e-4;
/** WASM runtime vs the reference forward on the same hashed file: the same arithmetic up to summation order. */
const REFERENCE_TOLERANCE = 1e-5;

/** max |actual − expected| ≤ tolerance · max |expected|, with the same shape. */
function assertClose(actual: Tensor | undefined, expected: Tensor, tolerance: number, what: string): void {
  assert.ok(actual, `${what}: no output`);
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  let scale = 0;
  let worst = 0;
  let at = 0;
  for (let i = 0; i < expected.data.length; i++) {
    scale = Math.max(scale, Math.abs(expected.data[i]));
    const diff = Math.abs(actual.data[i] - expected.data[i]);
    if (!(diff <= worst)) [worst, at] = [diff, i]; // NaN counts as the worst
  }
  assert.ok(scale > 0, `${what}: the expected output is all zeros, which checks nothing`);
  assert.ok(worst <= tolerance * scale,
    `${what}: max |diff| ${worst.toExponential(2)} at element ${at} (${actual.data[at]} vs ${expected.data[at]}) > ${tolerance} · max |ref| ${scale.toExponential(2)}`);
}

/** The two examples of the batch must give outputs this far apart, relative to max |output|. */
const MIN_EXAMPLE_SPREAD = 1e-2;

/** max |y0 − y1| ≥ MIN_EXAMPLE_SPREAD · max |y| for the first two examples of a batch, so that a fixture whose
 *  output hardly depends on its input (which would let batch mix-ups and ignored inputs pass) cannot come back. */
function assertExamplesDiffer(y: Tensor, what: string): void {
  assert.ok(y.shape[0] >= 2, `${what}: a batch of at least 2 examples`);
  const per = y.data.length / y.shape[0];
  let scale = 0;
  let apart = 0;
  for (let i = 0; i < 2 * per; i++) scale = Math.max(scale, Math.abs(y.data[i]));
  for (let i = 0; i < per; i++) apart = Math.max(apart, Math.abs(y.data[i] - y.data[per + i]));
  assert.ok(apart >= MIN_EXAMPLE_SPREAD * scale,
    `${what}: max |y0 - y1| ${apart.toExponential(2)} < ${MIN_EXAMPLE_SPREAD} · max |y| ${scale.toExponential(2)}: the output hardly depends on the input (regenerate with scripts/make-arch-fixtures.py)`);
}

/** The one graph input of an ONNX file that is not an initializer (IR 3 files list initializers as inputs too). */
function onnxInputName(bytes: Uint8Array): string {
  const graph = onnx.ModelProto.decode(bytes).graph!;
  const inits = new Set((graph.initializer ?? []).map((i) => i.name));
  const names = (graph.input ?? []).map((v) => v.name ?? '').filter((n) => !inits.has(n));
  assert.equal(names.length, 1, `expected one graph input, found ${names.join(', ')}`);
  return names[0];
}

/** The first `n` examples of a batch. */
function firstExamples(x: Tensor, n: number): Tensor {
  const per = x.data.length / x.shape[0];
  return { shape: [n, ...x.shape.slice(1)], data: x.data.slice(0, n * per) };
}

for (const name of FIXTURES) {
  test(`fixtures/arch/${name}`, { timeout: 600_000 }, async (t) => {
    const file = path.join(DIR, `${name}.onnx`);
    const onnxBytes = new Uint8Array(readFileSync(file));
    const inputFile = path.join(DIR, `${name}.input.npy`);
    const x = readNpy(readFileSync(inputFile), inputFile);
    const dense: Model = importOnnx(file).model;
    assert.equal(dense.inputs.length, 1, `${name}: one graph input`);
    // The committed batch of 2, and its first example alone: the batch dimension stays symbolic through every step.
    const cases = await Promise.all([x, firstExamples(x, 1)].map(async (batch) => ({
      label: `batch ${batch.shape[0]}`,
      inputs: { [dense.inputs[0].name]: batch },
      expected: await runOrt(onnxBytes, { [onnxInputName(onnxBytes)]: batch }),
    })));

    await t.test('the two examples of the batch give clearly different outputs in onnxruntime', () => {
      const [batch] = cases;
      for (const out of dense.outputs) assertExamplesDiffer(batch.expected[out.name], `${name} ${batch.label} ${out.name}`);
    });

    await t.test('compression 1: the WASM runtime (both modes) matches onnxruntime', async () => {
      const bytes = encode(dense);
      for (const mode of ['materialized', 'streaming'] as const) {
        for (const { label, inputs, expected } of cases) {
          const actual = await runWasm(bytes, mode, inputs);
          for (const out of dense.outputs) assertClose(actual[out.name], expected[out.name], ORT_TOLERANCE, `${name} wasm ${mode} ${label} ${out.name}`);
        }
      }
    });

    await t.test('compression 1: exported back to ONNX, onnxruntime gives the original output', async () => {
      const exported = exportOnnx(dense);
      for (const { label, inputs, expected } of cases) {
        const actual = await runOrt(exported, inputs);
        for (const out of dense.outputs) assertClose(actual[out.name], expected[out.name], ORT_TOLERANCE, `${name} exported ${label} ${out.name}`);
      }
    });

    const { model: hashed, report } = hashModel(dense, { compression: 1 / 8, seed: 12, minVirtual: 64 });
    await t.test('1/8: the WASM runtime (both modes) equals the reference forward', async () => {
      assert.ok(report.weights.some((w) => w.hashed), `${name}: no weight was hashed at 1/8`);
      const bytes = encode(hashed);
      const decoded = decode(bytes);
      for (const { label, inputs } of cases) {
        const reference = runReference(decoded, inputs);
        for (const mode of ['materialized', 'streaming'] as const) {
          const actual = await runWasm(bytes, mode, inputs);
          for (const out of hashed.outputs) assertClose(actual[out.name], reference[out.name], REFERENCE_TOLERANCE, `${name} 1/8 wasm ${mode} ${label} ${out.name}`);
        }
      }
    });

    await t.test('1/8: exported back to ONNX, onnxruntime gives the reference output', async () => {
      const exported = exportOnnx(hashed);
      for (const { label, inputs } of cases) {
        const reference = runReference(hashed, inputs);
        const actual = await runOrt(exported, inputs);
        for (const out of hashed.outputs) assertClose(actual[out.name], reference[out.name], ORT_TOLERANCE, `${name} 1/8 exported ${label} ${out.name}`);
      }
    });
  });
}

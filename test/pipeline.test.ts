// The whole path across packages: a PyTorch-exported ONNX model → import →
// hash → retrain → .hnet → WASM runtime, each step checked against the
// reference forward pass of @hnet/format (the semantic oracle).
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { decode, encode, IDENTITY_NORMALIZATION, readNormalization, runReference, type Model, type Tensor } from '@hnet/format';
import { hashModel, importOnnx } from '@hnet/convert';
import { loadMnistPackage, normalize, sliceDataset, train } from '@hnet/train';
import { loadModel } from '@hnet/runtime-wasm';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

/** |a − b| ≤ tolerance · max(1, max|b|) for every element: relative to the output's scale. */
function assertClose(actual: Tensor, expected: Tensor, tolerance: number, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const scale = Math.max(1, ...expected.data.map(Math.abs));
  for (let i = 0; i < expected.data.length; i++) {
    const diff = Math.abs(actual.data[i] - expected.data[i]);
    assert.ok(diff <= tolerance * scale, `${what}[${i}]: ${actual.data[i]} vs reference ${expected.data[i]} (|diff| ${diff.toExponential(2)}, scale ${scale.toFixed(3)})`);
  }
}

function inputFor(model: Model, batch: number, seed: number): Record<string, Tensor> {
  const input = model.inputs[0];
  const shape = [batch, ...input.shape.slice(1)];
  const n = shape.reduce((a, b) => a * b, 1);
  return { [input.name]: { shape, data: Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed)) } };
}

for (const name of ['mlp', 'lenet', 'bn_residual', 'mnist_mlp']) {
  test(`${name}.onnx: hashed at 1/8 in every bucket dtype, the WASM runtime matches the reference in both modes`, async () => {
    const dense = importOnnx(fixture(`${name}.onnx`)).model;
    for (const bucketDtype of ['float32', 'float16', 'int8'] as const) {
      const hashed = hashModel(dense, { compression: 1 / 8, seed: 5, bucketDtype, minVirtual: 64 }).model;
      const bytes = encode(hashed);
      const model = decode(bytes);
      for (const mode of ['materialized', 'streaming'] as const) {
        const runtime = await loadModel(bytes, { mode });
        try {
          for (const batch of [1, 3]) {
            const feeds = inputFor(model, batch, batch);
            const expected = runReference(model, feeds);
            const actual = runtime.run(feeds);
            for (const out of model.outputs) assertClose(actual[out.name], expected[out.name], 1e-5, `${name} ${bucketDtype} ${mode} batch ${batch} ${out.name}`);
          }
        } finally {
          runtime.dispose();
        }
      }
    }
  });
}

test('ONNX → hash 1/8 → retrain → .hnet → WASM: the trained model learns and every engine agrees', async () => {
  const dense = importOnnx(fixture('mnist_mlp.onnx')).model;
  const data = loadMnistPackage(0.8);
  const trainSet = sliceDataset(data.train, 0, 1500);
  const testSet = sliceDataset(data.test!, 0, 400);
  const student = hashModel(dense, { compression: 1 / 8, seed: 3 }).model;
  const { model: trained, summary } = await train(student, trainSet, {
    teacher: dense, epochs: 1, optimizer: 'adam', learningRate: 0.002, seed: 1, test: testSet, quiet: true,
  });
  assert.ok(summary.testAccuracy! > 0.8, `test accuracy after 1 epoch: ${summary.testAccuracy}`);
  assert.equal(trained.metadata['hnet.train.epochs'], '1', 'the training summary is in the metadata');
  assert.match(trained.metadata['hnet.train.loss'], /distill/);

  // The written file, read back, gives the same predictions in the reference and in WASM.
  const bytes = encode(trained);
  const model = decode(bytes);
  const x = normalize(sliceDataset(testSet, 0, 16), readNormalization(model.metadata) ?? IDENTITY_NORMALIZATION);
  const feeds = { [model.inputs[0].name]: { shape: [16, ...model.inputs[0].shape.slice(1)], data: x.x } };
  const expected = runReference(model, feeds)[model.outputs[0].name];
  for (const mode of ['materialized', 'streaming'] as const) {
    const runtime = await loadModel(bytes, { mode });
    try {
      assertClose(runtime.run(feeds)[model.outputs[0].name], expected, 1e-5, `trained ${mode}`);
    } finally {
      runtime.dispose();
    }
  }
});

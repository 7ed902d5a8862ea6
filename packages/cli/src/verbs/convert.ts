// hnet convert: dense ONNX (or .hnet) → .hnet, optionally hashed, optionally retrained (--retrain DATA).

import { writeFileAtomic, type HashReport, type ImportReport } from '@hnet/convert';
import { formatBytes, formatCount, formatWeightShape } from '@hnet/format';
import { UsageError, type ParsedArgs } from '../args.js';
import { requireOutput, table, toJson } from '../common.js';
import { HASHING_FLAGS, policyFromArgs } from '../flags/hashing.js';
import { normalizationFromArgs, PREPROCESS_FLAGS, PREPROCESS_HELP } from '../flags/preprocessing.js';
import { TRAINING_FLAGS, trainingFromArgs } from '../flags/training.js';
import { adviceLines, knownData, measureDrop, nothingHashedLine, retrainCommand, type AccuracyDrop } from '../guidance.js';
import { pipeline } from '../pipeline.js';
import type { Io, Verb } from '../verb.js';

export const verb: Verb = {
  usage: 'hnet convert MODEL.onnx -o MODEL.hnet [options]',
  description: [
    'Imports the ONNX model (BatchNormalization and bias Adds are folded into the layer',
    'before them) and hashes every Dense, Conv2D and ConvTranspose weight and Constant',
    'tensor with at least --min-virtual values: K = ceil(virtual × compression) buckets, each',
    'the least-squares fit of the dense weights that share it. Smaller layers, biases and',
    'LayerNorm parameters stay dense. --compression 1 (the default) hashes nothing: an exact',
    'import. The input may also be a .hnet file.',
    'Without --retrain, a hashed model has lost accuracy: --data DATA measures how much (dense',
    'vs hashed on 500 labelled examples; the demo\'s fixture is measured on mnist by itself),',
    'and the report ends with the --retrain command that recovers it.',
    PREPROCESS_HELP,
  ].join('\n'),
  examples: [
    'hnet convert fixtures/mnist_mlp.onnx -o mnist.hnet --compression 1/8 --seed 42',
    'hnet convert lenet.onnx -o lenet.hnet --compression 1/16 --dense /fc3/Gemm --buckets /fc1/Gemm=2000',
    'hnet convert fixtures/mnist_mlp.onnx -o mnist.hnet --compression 1/64 --retrain mnist --distill --epochs 5',
  ],
  positionals: [1, 1],
  flags: [
    { name: 'output', short: 'o', kind: 'string', value: 'FILE', help: 'the .hnet file to write (required)' },
    ...HASHING_FLAGS,
    ...PREPROCESS_FLAGS,
    { name: 'json', kind: 'boolean', help: 'print the report as JSON' },
    { name: 'retrain', kind: 'string', value: 'DATA', help: 'retrain the hashed model on DATA before writing (see hnet train --help)' },
    { name: 'data', kind: 'string', value: 'DATA', help: 'without --retrain: labelled data to measure the accuracy the hashing cost on' },
    ...TRAINING_FLAGS,
  ],
  run(args, io) {
    const retrain = args.strings.get('retrain') ?? null;
    const data = args.strings.get('data') ?? null;
    if (retrain && data) throw new UsageError('--data measures a model hashed without retraining; with --retrain the test split of the training data is scored');
    return convertToFile(args, io, retrain, data ?? knownData(args.positionals[0]));
  },
};

/**
 * The pipeline on the command's model, training on `data` if given, then writes -o and prints the report (convert and train).
 * Without training, a hashed model's accuracy is measured on `measureOn` (when given) and the retrain command printed.
 */
export async function convertToFile(args: ParsedArgs, io: Io, data: string | null, measureOn: string | null = null): Promise<void> {
  const input = args.positionals[0];
  const output = requireOutput(args, 'hnet convert model.onnx -o model.hnet');
  const policy = policyFromArgs(args);
  const json = args.booleans.has('json');
  const retrained = data !== null;
  // The import and hashing report comes before training, which takes minutes.
  const printHashing = (imported: ImportReport | null, hashing: HashReport): void => {
    if (!json) printReport(io, input, imported, hashing, retrained);
  };
  const { bytes, imported, hashing, model, dense } = await pipeline(input, policy, data ? trainingFromArgs(args, data) : null, io, printHashing, normalizationFromArgs(args));
  const hashed = hashing.weights.some((w) => w.hashed);
  let drop: AccuracyDrop | null = null;
  let command: string | null = null;
  if (hashed && !retrained) {
    // Measured before writing: data that does not fit the model fails the command with nothing written.
    drop = measureOn ? await measureDrop(dense, model, measureOn) : null;
    command = retrainCommand(args, input, output, measureOn ?? 'DATA');
  }
  writeFileAtomic(output, bytes);
  const denseBytes = hashing.virtual * 4;
  if (json) {
    io.out(toJson({ input, output, bytes: bytes.length, denseFloat32Bytes: denseBytes, import: imported, policy, ...hashing, accuracy: drop, retrainCommand: command }, 2));
    return;
  }
  io.out(`wrote ${output}: ${formatBytes(bytes.length)} (dense float32 weights: ${formatBytes(denseBytes)})`);
  if (!hashed && policy.compression < 1) io.out(nothingHashedLine(policy));
  if (command) for (const line of adviceLines(drop, command)) io.out(line);
}

/** The import summary and the hashing table, with what its rel. error column means. */
function printReport(io: Io, input: string, imported: ImportReport | null, hashing: HashReport, retrained: boolean): void {
  if (imported) {
    io.out(`imported ${input}: ${imported.producer || 'unknown producer'}, opset ${imported.opset}, ${imported.onnxNodes} ONNX nodes → ${imported.hnetNodes} hnet nodes`);
    for (const f of imported.folded) io.out(`  ${f}`);
  }
  io.out(table(
    ['layer', 'part', 'shape', 'virtual', 'real', 'dtype', 'rel. error'],
    hashing.weights.map((w) => [
      w.layer, w.part, formatWeightShape(w.shape), formatCount(w.virtual),
      w.hashed ? `${formatCount(w.real)} buckets` : `${formatCount(w.real)} dense`, w.dtype, w.relError.toFixed(4),
    ]),
  ));
  const { virtual, real } = hashing;
  io.out(`parameters: ${formatCount(virtual)} virtual, ${formatCount(real)} stored (${(virtual / real).toFixed(2)}× fewer)`);
  if (hashing.weights.some((w) => w.hashed)) {
    io.out(`rel. error = ‖V − W‖/‖W‖ of the hashed virtual weights ${retrained ? 'before retraining (the projection training starts from)' : 'without retraining'}.`);
  }
}

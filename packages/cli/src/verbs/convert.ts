// hnet convert: dense ONNX (or .hnet) → .hnet, optionally hashed, optionally retrained (--retrain DATA).

import { writeFileAtomic, type HashReport, type ImportReport } from '@hnet/convert';
import { formatBytes, formatCount, formatWeightShape, normalizationEntry } from '@hnet/format';
import { UsageError, type ParsedArgs } from '../args.js';
import { requireOutput, table, toJson } from '../common.js';
import { HASHING_FLAGS, policyFromArgs } from '../flags/hashing.js';
import { normalizationFromArgs, PREPROCESS_FLAGS, PREPROCESS_HELP } from '../flags/preprocessing.js';
import { STORAGE_FLAGS, storageFromArgs } from '../flags/storage.js';
import { TRAINING_FLAGS, trainingFromArgs } from '../flags/training.js';
import { adviceLines, knownData, measureDrop, nothingHashedLine, retrainCommand, type AccuracyDrop } from '../guidance.js';
import { allocationPolicy, SEARCH_BIAS_DTYPE, searchBudget, sensitivityTraining, TargetError, type LayerOption, type SearchBase, type Target } from '../budget.js';
import { pipeline, readModel, type PipelineResult } from '../pipeline.js';
import { parseSize, sizeBreakdown, sizeLines } from '../size.js';
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
    '--target-size or --max-drop (with --retrain) choose K and the bucket dtype (int8/int4) of each',
    'layer by measured sensitivity (each layer hashed alone, briefly retrained, scored on held-out',
    'training examples), keep a layer dense where hashing costs more than it saves, retrain, and',
    'print the per-layer choice and where the file\'s bytes go (exit 4 when the target is not met).',
    '--strip writes only what running the model needs (input/output names and shapes, the input',
    'preprocessing): no node names, short intermediate tensor names, no provenance or training metadata.',
    PREPROCESS_HELP,
  ].join('\n'),
  examples: [
    'hnet convert fixtures/mnist_mlp.onnx -o mnist.hnet --compression 1/8 --seed 42',
    'hnet convert lenet.onnx -o lenet.hnet --compression 1/16 --dense /fc3/Gemm --buckets /fc1/Gemm=2000',
    'hnet convert fixtures/mnist_mlp.onnx -o mnist.hnet --compression 1/64 --retrain mnist --distill --epochs 5',
    'hnet convert mlp.onnx -o mlp.hnet --target-size 12KiB --retrain /usr/share/datasets/fashion-mnist --preprocess pixel/255',
    'hnet convert lenet.onnx -o lenet.hnet --compression 1/8 --bucket-dtype int4 --bias-dtype int8 --dense-dtype int8 --strip --retrain DATA',
  ],
  positionals: [1, 1],
  flags: [
    { name: 'output', short: 'o', kind: 'string', value: 'FILE', help: 'the .hnet file to write (required)' },
    ...HASHING_FLAGS,
    ...STORAGE_FLAGS,
    ...PREPROCESS_FLAGS,
    { name: 'json', kind: 'boolean', help: 'print the report as JSON' },
    { name: 'retrain', kind: 'string', value: 'DATA', help: 'retrain the hashed model on DATA before writing (see hnet train --help)' },
    { name: 'data', kind: 'string', value: 'DATA', help: 'without --retrain: labelled data to measure the accuracy the hashing cost on' },
    { name: 'target-size', kind: 'string', value: 'SIZE', help: 'with --retrain: pick each layer\'s K and dtype for a whole file of at most SIZE (12KiB, 10.7KB, 9000)' },
    { name: 'max-drop', kind: 'string', value: 'POINTS', help: 'with --retrain: the smallest file whose test accuracy is at most POINTS below the dense model\'s' },
    ...TRAINING_FLAGS,
  ],
  run(args, io) {
    const retrain = args.strings.get('retrain') ?? null;
    const data = args.strings.get('data') ?? null;
    if (retrain && data) throw new UsageError('--data measures a model hashed without retraining; with --retrain the test split of the training data is scored');
    const target = targetFromArgs(args);
    if (target) {
      if (!retrain) throw new UsageError(`--${'size' in target ? 'target-size' : 'max-drop'} needs --retrain DATA: the search measures each layer on it, and the chosen model is retrained on it`);
      return convertToTarget(args, io, retrain, target);
    }
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
  const { bytes, imported, hashing, model, dense, stripped } = await pipeline(input, policy, data ? trainingFromArgs(args, data) : null, io,
    { onHashed: printHashing, preprocessing: normalizationFromArgs(args), strip: storageFromArgs(args).strip });
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
  const sizes = sizeBreakdown(model, bytes);
  if (json) {
    io.out(toJson({ input, output, bytes: bytes.length, denseFloat32Bytes: denseBytes, size: sizes, stripped, import: imported, policy, ...hashing, accuracy: drop, retrainCommand: command }, 2));
    return;
  }
  if (stripped) io.out(strippedLine(stripped));
  for (const line of sizeLines(sizes)) io.out(line);
  io.out(`wrote ${output}: ${formatBytes(bytes.length)} (dense float32 weights: ${formatBytes(denseBytes)})`);
  if (!hashed && policy.compression < 1) io.out(nothingHashedLine(policy));
  if (command) for (const line of adviceLines(drop, command)) io.out(line);
}

/** What --strip dropped. */
function strippedLine(r: NonNullable<PipelineResult['stripped']>): string {
  return `stripped: ${r.nodeNames} node names, ${r.tensors} intermediate tensors renamed t0..t${Math.max(0, r.tensors - 1)}, ` +
    `${r.metadata.length} metadata entries${r.metadata.length ? ` (${r.metadata.join(', ')})` : ''}`;
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

/** --target-size or --max-drop, when one is given. */
function targetFromArgs(args: ParsedArgs): Target | null {
  const size = args.strings.get('target-size');
  const drop = args.strings.get('max-drop');
  if (size !== undefined && drop !== undefined) throw new UsageError('give --target-size or --max-drop, not both');
  if (size === undefined && drop === undefined) return null;
  const targetFlag = size !== undefined ? 'target-size' : 'max-drop';
  for (const flag of ['compression', 'buckets', 'bucket-dtype', 'dense', 'min-virtual']) {
    if (args.strings.has(flag) || args.lists.has(flag)) throw new UsageError(`--${flag} and --${targetFlag} both choose how layers are stored; give one`);
  }
  if (args.booleans.has('hash-bias')) throw new UsageError(`--hash-bias and --${targetFlag}: the search keeps biases unhashed (--bias-dtype sets their storage)`);
  if (size !== undefined) return { size: parseSize(size, 'target-size') };
  const points = Number(drop);
  if (!(Number.isFinite(points) && points >= 0 && points <= 100)) throw new UsageError(`--max-drop must be accuracy points in [0, 100] such as 1.0, got "${drop}"`);
  return { maxDrop: points };
}

/**
 * convert with the budget search (budget.ts): reads the model and the data, decides the input
 * preprocessing as training would, searches, then hashes and retrains the chosen model through the
 * pipeline, checks the target on the result and writes it (not when missed, unless --force).
 */
async function convertToTarget(args: ParsedArgs, io: Io, data: string, target: Target): Promise<void> {
  const input = args.positionals[0];
  const output = requireOutput(args, 'hnet convert model.onnx -o model.hnet --target-size 12KiB --retrain DATA');
  const base = policyFromArgs(args);
  const training = trainingFromArgs(args, data);
  const { options } = training;
  const json = args.booleans.has('json');
  const log = options.quiet ? () => {} : io.err;
  const { decidePreprocessing, evaluate, loadData, sliceDataset } = await import('@hnet/train');
  const read = readModel(input, io);
  const loaded = loadData(data);
  const { limit } = training;
  const splits = limit !== null && limit < loaded.train.count ? { ...loaded, train: sliceDataset(loaded.train, 0, limit), source: `${loaded.source} (first ${limit})` } : loaded;
  const engine = { engine: options.engine, threads: options.threads, backend: options.backend };
  const { normalization } = await decidePreprocessing(read.model, splits.train, training.preprocessing, { judge: read.model, log: options.quiet ? undefined : io.err, engine });
  const dense = { ...read.model, metadata: { ...read.model.metadata, ...normalizationEntry(normalization) } };
  const { strip } = storageFromArgs(args);
  const fixed: SearchBase = {
    hash: base.hash ?? 'xxh32', block: base.block ?? null,
    seed: base.seed ?? 0, signed: base.signed !== false, biasDtype: base.biasDtype ?? SEARCH_BIAS_DTYPE, denseDtype: base.denseDtype ?? null, strip,
  };
  const search = await searchBudget({ dense, normalization, train: splits.train, base: fixed, engine, training: sensitivityTraining(options), log }, target);
  if (!json) printAllocation(io, search.allocation.options, search.heldOut, target, search.predictedBytes);

  const result = await pipeline({ model: dense, imported: read.imported }, allocationPolicy(search.allocation, fixed),
    { ...training, data: splits, limit: null, preprocessing: normalization }, io,
    { onHashed: (imported, hashing) => { if (!json) printReport(io, input, imported, hashing, true); }, preprocessing: normalization, strip });
  const summary = result.training!.summary;
  // The drop as the target means it: the test split against the dense model's own accuracy (else the validation examples).
  const denseTest = splits.test ? (await evaluate(dense, splits.test, { normalization, ...engine, quiet: true })).accuracy : summary.dense?.accuracy ?? null;
  const trained = splits.test ? summary.testAccuracy : summary.result.accuracy;
  const drop = denseTest !== null && trained !== null ? (denseTest - trained) * 100 : null;
  const sizes = sizeBreakdown(result.model, result.bytes);
  const missed = 'size' in target
    ? (sizes.total > target.size ? `the file is ${sizes.total} bytes, over the target of ${target.size}` : null)
    : (drop === null ? 'the data has no labelled examples to measure the drop on' : drop > target.maxDrop ? `the retrained model is ${drop.toFixed(2)} points below the dense model, more than --max-drop ${target.maxDrop}` : null);
  if (missed && !training.force) throw new TargetError(`${missed}; nothing written (--force writes it anyway)`);
  writeFileAtomic(output, result.bytes);
  if (json) {
    io.out(toJson({ input, output, target, allocation: search.allocation, measured: search.measured, baseline: search.baseline, size: sizes, stripped: result.stripped, denseAccuracy: denseTest, accuracy: trained, drop, missed }, 2));
    return;
  }
  if (result.stripped) io.out(strippedLine(result.stripped));
  for (const line of sizeLines(sizes)) io.out(line);
  const pct = (v: number | null): string => (v === null ? 'n/a' : `${(v * 100).toFixed(2)}%`);
  io.out(`accuracy on ${splits.test ? 'the test split' : 'the validation examples'}: ${pct(trained)}, dense model ${pct(denseTest)} (drop ${drop === null ? 'n/a' : drop.toFixed(2)} points)`);
  io.out(`wrote ${output}: ${formatBytes(sizes.total)}${missed ? ` although ${missed} (--force)` : ''}`);
}

/** The search's choice per layer, with the drop each choice cost alone (the prediction the allocation added up). */
function printAllocation(io: Io, options: LayerOption[], heldOut: number, target: Target, predicted: number): void {
  const goal = 'size' in target ? `a file of at most ${formatBytes(target.size)}` : `a drop of at most ${target.maxDrop} points`;
  io.out(`budget search for ${goal}: predicted ${formatBytes(predicted)}, drop ${options.reduce((s, o) => s + o.drop, 0).toFixed(2)} points (sum of the layers' drops on ${heldOut} held-out examples)`);
  io.out(table(
    ['layer', 'virtual', 'stored as', 'dtype', 'bytes', 'drop alone'],
    options.map((o) => [o.layer, formatCount(o.virtual), o.buckets === null ? 'dense' : `${formatCount(o.buckets)} buckets (1/${(o.virtual / o.buckets).toFixed(0)})`, o.dtype, formatCount(o.bytes), o.drop.toFixed(2)]),
  ));
}

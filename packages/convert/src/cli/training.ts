// The training flags shared by `hnet train` and `hnet convert --retrain`,
// and the one function that turns them into a training run.

import { checkNormalizationFits, HnetFormatError, weightsOf, type Model } from '@hnet/format';
import {
  decidePreprocessing,
  loadData,
  sliceDataset,
  train,
  BACKENDS,
  TrainError,
  type BackendName,
  type DataSplits,
  type OptimizerName,
  type Schedule,
  type TrainOptions,
  type TrainSummary,
} from '@hnet/train';
import { parseFraction, parseInteger, UsageError, type FlagSpec, type ParsedArgs } from './args.js';
import { loadAnyModel } from './common.js';
import { normalizationFromArgs } from './preprocessing.js';
import type { Io } from './verb.js';

export const TRAINING_FLAGS: FlagSpec[] = [
  { name: 'distill', kind: 'boolean', help: 'distil from the dense model (HashNet_DK): the default when the input is a dense model and the data are labelled' },
  { name: 'no-distill', kind: 'boolean', help: 'labels only, no distillation from the dense input' },
  { name: 'teacher', kind: 'string', value: 'FILE', help: 'dense teacher for distillation (.onnx or .hnet); implies --distill' },
  { name: 'temperature', kind: 'string', value: 'T', help: 'distillation temperature (default 4)' },
  { name: 'alpha', kind: 'string', value: 'A', help: 'weight of the label loss, 1 − A goes to distillation (default 0.5 with labels)' },
  { name: 'epochs', kind: 'string', value: 'N', help: 'epochs (default 10)' },
  { name: 'limit', kind: 'string', value: 'N', help: 'train on the first N examples of the training data only' },
  { name: 'batch-size', kind: 'string', value: 'N', help: 'examples per step (default 50)' },
  { name: 'optimizer', kind: 'string', value: 'NAME', help: 'sgd (default, momentum 0.9) or adam' },
  { name: 'lr', kind: 'string', value: 'RATE', help: 'learning rate (default 0.1 for sgd, a hashed layer at 0.1/√(virtual per bucket); 0.001 for adam)' },
  { name: 'momentum', kind: 'string', value: 'M', help: 'sgd momentum (default 0.9)' },
  { name: 'schedule', kind: 'string', value: 'NAME', help: 'learning-rate schedule after the warm-up: cosine (default, per step to 0), constant, step' },
  { name: 'warmup', kind: 'string', value: 'STEPS', help: 'steps of linear warm-up (default half an epoch, at most a quarter of the run)' },
  { name: 'dropout', kind: 'string', value: 'RATE', help: 'dropout on hidden activations while training (default 0)' },
  { name: 'weight-decay', kind: 'string', value: 'L2', help: 'L2 weight decay (default 0)' },
  { name: 'validation', kind: 'string', value: 'FRACTION', help: 'hold out this fraction for validation and keep the best epoch (default 0.1)' },
  { name: 'patience', kind: 'string', value: 'N', help: 'stop after N epochs without a better validation accuracy' },
  { name: 'init', kind: 'string', value: 'HOW', help: 'project (default: start from the projected dense weights) or scratch' },
  { name: 'backend', kind: 'string', value: 'NAME', help: `TensorFlow.js backend: ${BACKENDS.join(', ')} (default: the first that works)` },
  { name: 'force', kind: 'boolean', help: 'write the model even when training made it worse than it started' },
  { name: 'quiet', short: 'q', kind: 'boolean', help: 'no progress output' },
];

function parseNumber(args: ParsedArgs, flag: string, min: number, max: number): number | undefined {
  const text = args.strings.get(flag);
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!(Number.isFinite(v) && v >= min && v <= max)) throw new UsageError(`--${flag} must be a number in [${min}, ${max}], got "${text}"`);
  return v;
}

function oneOf<T extends string>(args: ParsedArgs, flag: string, allowed: readonly T[]): T | undefined {
  const text = args.strings.get(flag);
  if (text === undefined) return undefined;
  if (!allowed.includes(text as T)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got "${text}"`);
  return text as T;
}

/** TrainOptions from the command line (without data, teacher and test split). */
export function trainOptionsFromArgs(args: ParsedArgs): TrainOptions {
  const integer = (flag: string, min: number, max: number): number | undefined =>
    args.strings.has(flag) ? parseInteger(args.strings.get(flag)!, flag, min, max) : undefined;
  return {
    epochs: integer('epochs', 1, 100000),
    batchSize: integer('batch-size', 1, 1 << 20),
    // One --seed for the whole command: it also seeds the hash (convert's flag).
    seed: integer('seed', 0, 0xffffffff),
    init: oneOf(args, 'init', ['project', 'scratch'] as const),
    temperature: parseNumber(args, 'temperature', 1e-3, 1e3),
    alpha: parseNumber(args, 'alpha', 0, 1),
    optimizer: oneOf<OptimizerName>(args, 'optimizer', ['sgd', 'adam']),
    learningRate: parseNumber(args, 'lr', 0, 100),
    momentum: parseNumber(args, 'momentum', 0, 1),
    schedule: oneOf<Schedule>(args, 'schedule', ['constant', 'step', 'cosine']),
    warmupSteps: integer('warmup', 0, 1 << 30),
    dropout: parseNumber(args, 'dropout', 0, 0.95),
    weightDecay: parseNumber(args, 'weight-decay', 0, 1),
    validation: args.strings.has('validation') ? parseFraction(args.strings.get('validation')!, 'validation') : 0.1,
    patience: integer('patience', 1, 100000),
    backend: oneOf<BackendName>(args, 'backend', BACKENDS),
    quiet: args.booleans.has('quiet'),
  };
}

const isDense = (model: Model): boolean =>
  model.nodes.every((node) => {
    const w = weightsOf(node.op);
    return !w || (w.weight.hash === null && !w.bias?.hash);
  });

/**
 * Trains `student` on the data named by --retrain/--data (or already loaded).
 * The input preprocessing is the flags', else the model's recorded one, else
 * (byte data) the one the dense model scores best with. Distils from
 * `denseTeacher` when it is dense and the data are labelled (unless
 * --no-distill; bench/train/lr-sweep.py: +0.7 to +1.0 point at 3 epochs), or
 * from --teacher. A run that ends worse than it started is an error (nothing
 * is written) unless --force. Returns the trained model; its metadata records
 * the summary.
 */
export async function runTraining(
  student: Model,
  denseTeacher: Model | null,
  dataSpec: string | DataSplits,
  args: ParsedArgs,
  io: Io,
): Promise<{ model: Model; summary: TrainSummary; data: DataSplits }> {
  const loaded = typeof dataSpec === 'string' ? loadData(dataSpec) : dataSpec;
  const limit = args.strings.has('limit') ? parseInteger(args.strings.get('limit')!, 'limit', 1, Number.MAX_SAFE_INTEGER) : null;
  const data = limit !== null && limit < loaded.train.count ? { ...loaded, train: sliceDataset(loaded.train, 0, limit), source: `${loaded.source} (first ${limit})` } : loaded;
  const options = trainOptionsFromArgs(args);
  if (args.booleans.has('distill') && args.booleans.has('no-distill')) throw new UsageError('--distill and --no-distill contradict each other');
  const teacherFile = args.strings.get('teacher');
  // The model before hashing teaches only if it is dense: an .hnet input may already be hashed.
  const dense = denseTeacher && isDense(denseTeacher) ? denseTeacher : null;
  // By default only a hashed student learns from the dense model (a dense one would copy itself).
  const distill = !args.booleans.has('no-distill') && (args.booleans.has('distill') || (dense !== null && !isDense(student) && data.train.y !== null));
  const teacher = teacherFile ? loadAnyModel(teacherFile) : distill ? dense : null;
  if (args.booleans.has('distill') && !teacher) {
    throw new UsageError('--distill needs a dense teacher: give an .onnx input or --teacher FILE');
  }
  const log = options.quiet ? undefined : io.err;
  const choice = await decidePreprocessing(student, data.train, normalizationFromArgs(args), { judge: dense ?? undefined, log });
  try {
    checkNormalizationFits(choice.normalization, student.inputs[0].shape);
  } catch (e) {
    if (e instanceof HnetFormatError) throw new UsageError(e.message);
    throw e;
  }
  const result = await train(student, data.train, {
    ...options,
    normalization: choice.normalization,
    teacher: teacher ?? undefined,
    dense: dense ?? undefined,
    test: data.test ?? undefined,
    dataSource: data.source,
  });
  const { summary } = result;
  const pct = (v: number | null): string => (v === null ? 'n/a' : `${(v * 100).toFixed(2)}%`);
  if (!options.quiet) {
    io.err(`trained ${summary.epochs} epoch(s) on ${summary.backend} (${summary.lossMode}, best epoch ${summary.bestEpoch}): validation ${pct(summary.validationAccuracy)}, test ${pct(summary.testAccuracy)}, ${summary.secondsPerEpoch.toFixed(1)} s/epoch`);
  }
  if (summary.worseThanStart) {
    const what = `training made the model worse: ${pct(summary.result.accuracy)} on ${summary.result.count} ${summary.result.on} examples after, ${pct(summary.start.accuracy)} before`;
    if (!args.booleans.has('force')) {
      throw new TrainError('options', `${what}; nothing written (try a lower --lr, more --epochs, or --force to write it anyway)`);
    }
    io.err(`warning: ${what}; writing it because of --force`);
  }
  return { ...result, data };
}

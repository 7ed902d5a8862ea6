// The training flags shared by `hnet train` and `hnet convert --retrain`,
// and the training settings they make (run by pipeline.ts). Only the backend
// names are loaded here: onnxruntime and TensorFlow.js load when a verb
// actually trains.

import { cpus } from 'node:os';
import { BACKENDS, ENGINES, type BackendName, type EngineName } from '@hnet/train/backend-names';
import type { OptimizerName, Schedule, TrainOptions } from '@hnet/train';
import { parseFraction, parseInteger, UsageError, type FlagSpec, type ParsedArgs } from '../args.js';
import type { Training } from '../pipeline.js';
import { normalizationFromArgs } from './preprocessing.js';

export const TRAINING_FLAGS: FlagSpec[] = [
  { name: 'distill', kind: 'boolean', help: 'distil from the dense model (HashNet_DK): the imported input, or --teacher (helps with few labels)' },
  { name: 'teacher', kind: 'string', value: 'FILE', help: 'dense teacher for distillation (.onnx or .hnet); implies --distill' },
  { name: 'temperature', kind: 'string', value: 'T', help: 'distillation temperature (default 4)' },
  { name: 'alpha', kind: 'string', value: 'A', help: 'weight of the label loss, 1 − A goes to distillation (default 0.5 with labels)' },
  { name: 'epochs', kind: 'string', value: 'N', help: 'epochs (default 10)' },
  { name: 'limit', kind: 'string', value: 'N', help: 'train on the first N examples of the training data only' },
  { name: 'batch-size', kind: 'string', value: 'N', help: 'examples per step (default 50)' },
  { name: 'optimizer', kind: 'string', value: 'NAME', help: 'sgd (default, momentum 0.9) or adam' },
  { name: 'lr', kind: 'string', value: 'RATE', help: 'learning rate (default 0.1 for sgd, a hashed layer at 0.1/√(virtual per bucket); 0.001 for adam)' },
  { name: 'momentum', kind: 'string', value: 'M', help: 'sgd momentum (default 0.9)' },
  { name: 'schedule', kind: 'string', value: 'NAME', help: 'learning-rate schedule after the warm-up: cosine (sgd default, per step to 0), constant (adam default), step' },
  { name: 'warmup', kind: 'string', value: 'STEPS', help: 'steps of linear warm-up (sgd default: half an epoch, at most a quarter of the run; adam: 0)' },
  { name: 'dropout', kind: 'string', value: 'RATE', help: 'dropout on hidden activations while training (default 0)' },
  { name: 'weight-decay', kind: 'string', value: 'L2', help: 'L2 weight decay (default 0)' },
  { name: 'validation', kind: 'string', value: 'FRACTION', help: 'hold out this fraction for validation and keep the best epoch (default 0.1)' },
  { name: 'patience', kind: 'string', value: 'N', help: 'stop after N epochs without a better validation accuracy' },
  { name: 'init', kind: 'string', value: 'HOW', help: 'project (default: start from the projected dense weights) or scratch' },
  { name: 'engine', kind: 'string', value: 'NAME', help: 'training engine: ort (default: onnxruntime-node, native, multi-threaded) or tfjs (TensorFlow.js)' },
  { name: 'threads', kind: 'string', value: 'N', help: `ort: intra-op threads (default: all ${cpus().length} cores)` },
  { name: 'backend', kind: 'string', value: 'NAME', help: `TensorFlow.js backend: ${BACKENDS.join(', ')} (default: the first that works); implies --engine tfjs` },
  { name: 'no-qat', kind: 'boolean', help: 'int8/int4 buckets: train float values and round them only when writing (default: quantization-aware)' },
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

/** The training step of the pipeline from the command line, on `data` (a DATA spec). */
export function trainingFromArgs(args: ParsedArgs, data: string): Training {
  return {
    data,
    options: trainOptionsFromArgs(args),
    distill: args.booleans.has('distill'),
    teacher: args.strings.get('teacher') ?? null,
    limit: args.strings.has('limit') ? parseInteger(args.strings.get('limit')!, 'limit', 1, Number.MAX_SAFE_INTEGER) : null,
    preprocessing: normalizationFromArgs(args),
    force: args.booleans.has('force'),
  };
}

/** --engine, --threads and --backend: a backend implies tfjs, threads need ort. */
function engineFromArgs(args: ParsedArgs): Pick<TrainOptions, 'engine' | 'threads' | 'backend'> {
  const backend = oneOf<BackendName>(args, 'backend', BACKENDS);
  const engine = oneOf<EngineName>(args, 'engine', ENGINES) ?? (backend ? 'tfjs' : 'ort');
  if (backend && engine !== 'tfjs') throw new UsageError(`--backend ${backend} is a TensorFlow.js backend: it needs --engine tfjs, not ${engine}`);
  const threads = args.strings.has('threads') ? parseInteger(args.strings.get('threads')!, 'threads', 1, 1024) : undefined;
  if (threads !== undefined && engine !== 'ort') throw new UsageError(`--threads sets the ort engine's threads; --engine ${engine} runs on one`);
  return { engine, threads, backend };
}

/** TrainOptions from the command line (without data, teacher and test split). */
function trainOptionsFromArgs(args: ParsedArgs): TrainOptions {
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
    quantizationAware: !args.booleans.has('no-qat'),
    ...engineFromArgs(args),
    quiet: args.booleans.has('quiet'),
  };
}

// train(student, data, options): retrains a @hnet/format Model (hashed or
// plain weights) on labels, on a dense teacher's soft targets (HashNet_DK),
// or both, and returns the model with its trained values plus a summary.
//
// One path: resolve options → prepare data (normalise, split, teacher soft
// targets once) → epoch loop (shuffle, engine.step per batch, validation,
// early stopping, best checkpoint) → summary (write back in the student's
// storage dtype, test accuracy of the written model, metadata).
// Around the loop: the baseline (the hashed projection as it starts, and the
// dense model) before it, and after it the verdict: worse than the start?
// Inside it: the rate of each step (warm-up + schedule, schedule.ts) and the
// divergence guard (guard.ts), which restores the last good state.
// The arithmetic of a step lives in the engine (engine.ts): 'ort' or 'tfjs'.

import { IDENTITY_NORMALIZATION, METADATA_KEYS, normalizationEntry, readNormalization, sizeOf, type Model, type Normalization } from '@hnet/format';
import type { BackendName } from './backend.js';
import { checkLabels, normalize, sliceDataset, splitValidation, type Dataset } from './data.js';
import { ADAM, argmaxRow, type Batch, type EngineName, type OptimizerSpec, type TrainingEngine } from './engine.js';
import { createEngine } from './engines.js';
import { TrainError } from './errors.js';
import { DivergenceGuard, type GuardOptions } from './guard.js';
import { trainableParams, type Init } from './params.js';
import { Progress, type ProgressSink } from './progress.js';
import { Rng } from './rng.js';
import { DEFAULT_SCHEDULE, defaultWarmupSteps, hashedRateFactor, learningRateAt, type Schedule, type ScheduleOptions } from './schedule.js';

export type OptimizerName = 'sgd' | 'adam';
export type { Schedule };

export interface TrainOptions {
  epochs?: number; // default 10
  batchSize?: number; // default 50
  /** Seeds the shuffles, scratch init, validation split and dropout: same seed, same backend → same result. */
  seed?: number; // default 0
  /** 'project' starts from the student's stored values (the projection of the dense weights); 'scratch' from seeded random values. */
  init?: Init; // default 'project'

  /** A dense teacher for distillation (HashNet_DK). */
  teacher?: Model;
  temperature?: number; // default 4
  /** Weight of the label cross-entropy; 1 − alpha goes to distillation. Default: 1 without teacher, 0 without labels, else 0.5. */
  alpha?: number;

  optimizer?: OptimizerName; // default 'sgd'
  /** Default 0.1 (sgd; a hashed tensor's rate is this / √(virtual per stored value), see schedule.ts), 0.001 (adam). */
  learningRate?: number;
  momentum?: number; // sgd, default 0.9
  nesterov?: boolean; // sgd, default false
  schedule?: Schedule; // default 'cosine' (per step, to 0 at the end) for sgd, 'constant' for adam
  /** Steps of linear warm-up; default for sgd half an epoch, at most a quarter of the run; for adam 0. */
  warmupSteps?: number;
  stepEvery?: number; // 'step': epochs between decays, default 10
  stepGamma?: number; // 'step': factor, default 0.1
  /** Dropout rate on hidden activations during training (0 = none). */
  dropout?: number;
  /** L2 weight decay on weights and buckets (not biases). */
  weightDecay?: number;
  /**
   * Train int8/int4 weights through their quantized form (fake quantization, straight-through gradient;
   * quantize.ts), so that the written file scores what training measured. Default true; no effect on float weights.
   */
  quantizationAware?: boolean;

  /** Validation data, or the fraction of the training data to hold out (seeded). Default none. */
  validation?: Dataset | number;
  /** Stop after this many epochs without a better validation accuracy (needs validation). */
  patience?: number;
  /** Test data: its accuracy on the written model goes in the summary. */
  test?: Dataset;
  /** The dense model the student came from: its accuracy is printed as the baseline (a teacher serves too). */
  dense?: Model;
  /** The divergence guard's limits. */
  guard?: GuardOptions;

  /** How raw inputs are scaled; default: what the student's metadata records, else identity. Recorded in the output. */
  normalization?: Normalization;
  /** Describes the data for the summary ("idx:/usr/share/datasets/fashion-mnist"). */
  dataSource?: string;

  /** Training engine: 'ort' (onnxruntime-node, native) or 'tfjs' (TensorFlow.js). Default 'ort', or 'tfjs' when a backend is given. */
  engine?: EngineName;
  /** ort: intra-op threads; default all cores. */
  threads?: number;
  /** The TensorFlow.js backend (tfjs engine only; giving one selects that engine); default: selectBackend() on first use. */
  backend?: BackendName;
  /** Where progress goes (default process.stderr); null or quiet: nothing. */
  progress?: ProgressSink | null;
  quiet?: boolean;
}

export interface EpochStats {
  epoch: number;
  learningRate: number;
  loss: number;
  /** Accuracy on the training batches (labels, or agreement with the teacher when unlabeled). */
  accuracy: number;
  validationAccuracy: number | null;
  validationLoss: number | null;
  seconds: number;
}

/** An accuracy and what it was measured on. */
export interface Score {
  accuracy: number;
  /** 'validation', or 'training' (the first examples of the training data) when there is no validation data. */
  on: 'validation' | 'training';
  count: number;
}

export interface TrainSummary {
  /** The engine as printed: "ort (onnxruntime-node 1.30.0, 2 threads)" or "tfjs (wasm)". */
  backend: string;
  engine: EngineName;
  threads: number;
  /** The student before training (the hashed projection), on the validation data. */
  start: Score;
  /** The dense model's accuracy on the same examples, when one was given. */
  dense: Score | null;
  /** The kept model's accuracy on the same examples. */
  result: Score;
  /** result < start: training made the model worse. Not a success (the CLI writes nothing unless --force). */
  worseThanStart: boolean;
  /** Times the divergence guard restored a good state and lowered the rate. */
  divergences: number;
  lossMode: 'ce' | 'distill' | 'ce+distill';
  epochs: number; // epochs run (early stopping may stop before options.epochs)
  bestEpoch: number; // the epoch whose weights were kept
  validationAccuracy: number | null;
  testAccuracy: number | null;
  testLoss: number | null;
  storedParameters: number;
  virtualParameters: number;
  compression: number; // stored / virtual
  secondsPerEpoch: number;
  history: EpochStats[];
}

/** The example shape the model expects ([N, ...] without N), checked against the data. */
function batchShape(model: Model, data: Dataset, what: string): number[] {
  const per = model.inputs[0].shape.slice(1);
  if (per.some((d) => d < 1)) throw new TrainError('model', `input '${model.inputs[0].name}' shape [${model.inputs[0].shape}]: only the batch dimension may be symbolic`);
  const want = per.reduce((a, b) => a * b, 1);
  const have = data.shape.reduce((a, b) => a * b, 1);
  if (want !== have) throw new TrainError('data', `${what}: examples of shape [${data.shape}] (${have} values) do not fit model input [${model.inputs[0].shape}] (${want} values)`);
  return per;
}

/** Accuracy against labels (or against a teacher's argmax) and mean cross-entropy of logits. */
function scoreLogits(logits: Float32Array, classes: number, labels: Int32Array | null, teacher: Float32Array | null): { accuracy: number; loss: number } {
  const count = logits.length / classes;
  let correct = 0;
  let loss = 0;
  for (let i = 0; i < count; i++) {
    const target = labels ? labels[i] : argmaxRow(teacher!, i, classes);
    if (argmaxRow(logits, i, classes) === target) correct++;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[i * classes + c]);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[i * classes + c] - max);
    loss += Math.log(sum) + max - logits[i * classes + target];
  }
  return { accuracy: correct / count, loss: loss / count };
}

// ---- 1. options ------------------------------------------------------------------

interface Resolved {
  engine: EngineName;
  epochs: number;
  batchSize: number;
  seed: number;
  init: Init;
  optimizer: OptimizerSpec;
  learningRate: number;
  temperature: number;
  alpha: number;
  dropout: number;
  weightDecay: number;
  patience: number;
  lossMode: TrainSummary['lossMode'];
  /** The schedule but for stepsPerEpoch, known once the data is split (scheduleFor). */
  schedule: Omit<ScheduleOptions, 'stepsPerEpoch' | 'warmupSteps'> & { warmupSteps: number | null };
  /** Each parameter's rate factor (trainableParams() order). */
  rateFactors: number[];
  normalization: Normalization;
}

function resolveOptions(student: Model, data: Dataset, options: TrainOptions): Resolved {
  const epochs = options.epochs ?? 10;
  const batchSize = options.batchSize ?? 50;
  const opt = options.optimizer ?? 'sgd';
  const learningRate = options.learningRate ?? (opt === 'adam' ? 0.001 : 0.1);
  const dropout = options.dropout ?? 0;
  const hasLabels = data.y !== null;
  checkLabels(data, student.outputs[0], 'training data');
  if (options.validation && typeof options.validation !== 'number') checkLabels(options.validation, student.outputs[0], 'validation data');
  if (options.test) checkLabels(options.test, student.outputs[0], 'test data');
  const teacher = options.teacher ?? null;
  if (!hasLabels && !teacher) throw new TrainError('data', 'the training data has no labels and no teacher was given: nothing to learn from');
  const alpha = options.alpha ?? (!teacher ? 1 : hasLabels ? 0.5 : 0);
  if (!(alpha >= 0 && alpha <= 1)) throw new TrainError('options', `alpha ${alpha}: must be in [0, 1]`);
  if (alpha > 0 && !hasLabels) throw new TrainError('options', `alpha ${alpha} weighs a label loss, but the data has no labels (use alpha 0 for distillation only)`);
  if (alpha < 1 && !teacher) throw new TrainError('options', `alpha ${alpha} < 1 needs a teacher`);
  if (!(epochs >= 1 && batchSize >= 1)) throw new TrainError('options', `epochs ${epochs} and batch size ${batchSize} must be >= 1`);
  if (!(dropout >= 0 && dropout < 1)) throw new TrainError('options', `dropout ${dropout}: must be in [0, 1)`);
  const engine = options.engine ?? (options.backend ? 'tfjs' : 'ort');
  if (engine !== 'ort' && engine !== 'tfjs') throw new TrainError('options', `engine '${engine as string}': expected ort or tfjs`);
  if (engine === 'ort' && options.backend) throw new TrainError('options', `backend '${options.backend}' is a TensorFlow.js backend: it needs engine 'tfjs', not 'ort'`);
  return {
    engine,
    epochs,
    batchSize,
    seed: options.seed ?? 0,
    init: options.init ?? 'project',
    optimizer: opt === 'adam' ? { name: 'adam', ...ADAM } : { name: 'sgd', momentum: options.momentum ?? 0.9, nesterov: options.nesterov ?? false },
    learningRate,
    temperature: options.temperature ?? 4,
    alpha,
    dropout,
    weightDecay: options.weightDecay ?? 0,
    patience: options.patience ?? Infinity,
    lossMode: alpha === 1 ? 'ce' : alpha === 0 ? 'distill' : 'ce+distill',
    schedule: {
      learningRate,
      // The warm-up + cosine default was measured for SGD (bench/train/lr-sweep.py); Adam keeps a constant rate.
      schedule: options.schedule ?? (opt === 'sgd' ? DEFAULT_SCHEDULE : 'constant'),
      stepEvery: options.stepEvery ?? 10,
      stepGamma: options.stepGamma ?? 0.1,
      epochs,
      warmupSteps: options.warmupSteps ?? (opt === 'sgd' ? null : 0),
    },
    // SGD only: the factor was measured there, and Adam's normalised step does not scale with the gradient's load.
    rateFactors: trainableParams(student).map((p) => (opt === 'sgd' ? hashedRateFactor(sizeOf(p.weight.shape), p.values.length) : 1)),
    normalization: options.normalization ?? readNormalization(student.metadata) ?? IDENTITY_NORMALIZATION,
  };
}

function scheduleFor(o: Resolved, trainCount: number): ScheduleOptions {
  const stepsPerEpoch = Math.ceil(trainCount / o.batchSize);
  return { ...o.schedule, stepsPerEpoch, warmupSteps: o.schedule.warmupSteps ?? defaultWarmupSteps(stepsPerEpoch, o.epochs) };
}

// ---- 2. data ---------------------------------------------------------------------

interface Prepared {
  train: Dataset;
  validation: Dataset | null;
  /** The teacher's logits on train / validation (computed once: the teacher is frozen). */
  teacherTrain: Float32Array | null;
  teacherValidation: Float32Array | null;
}

async function prepareData(student: Model, data: Dataset, options: TrainOptions, o: Resolved): Promise<Prepared> {
  batchShape(student, data, 'training data');
  let train = normalize(data, o.normalization);
  let validation: Dataset | null = null;
  if (typeof options.validation === 'number') {
    ({ train, validation } = splitValidation(train, options.validation, o.seed + 1));
    if (train.count === 0) throw new TrainError('data', `training data: ${data.count} example(s) leave none to train on after holding out ${options.validation} for validation`);
  }
  else if (options.validation) {
    batchShape(student, options.validation, 'validation data');
    validation = normalize(options.validation, o.normalization);
  }
  let teacherTrain: Float32Array | null = null;
  let teacherValidation: Float32Array | null = null;
  if (options.teacher) {
    batchShape(options.teacher, data, 'training data (teacher)');
    const teacher = await createEngine(o.engine, options.teacher, { threads: options.threads, backend: options.backend });
    try {
      teacherTrain = await teacher.logits(train.x, train.count);
      if (validation) teacherValidation = await teacher.logits(validation.x, validation.count);
    } finally {
      await teacher.dispose();
    }
  }
  return { train, validation, teacherTrain, teacherValidation };
}

// ---- 3. epochs ---------------------------------------------------------------------

/** Reusable batch buffers for one batch size: examples order[from, from + count) gathered. */
class Batcher {
  private readonly buffers = new Map<number, Batch>();
  constructor(
    private readonly data: Dataset,
    private readonly teacher: Float32Array | null,
    private readonly classes: number,
  ) {}

  gather(order: Int32Array, from: number, count: number): Batch {
    let b = this.buffers.get(count);
    const size = this.data.x.length / this.data.count;
    if (!b) {
      b = { count, x: new Float32Array(count * size), labels: this.data.y ? new Int32Array(count) : null, teacher: this.teacher ? new Float32Array(count * this.classes) : null };
      this.buffers.set(count, b);
    }
    for (let i = 0; i < count; i++) {
      const k = order[from + i];
      b.x.set(this.data.x.subarray(k * size, (k + 1) * size), i * size);
      if (b.labels) b.labels[i] = this.data.y![k];
      if (b.teacher) b.teacher.set(this.teacher!.subarray(k * this.classes, (k + 1) * this.classes), i * this.classes);
    }
    return b;
  }
}

interface EpochLoopResult {
  history: EpochStats[];
  best: { epoch: number; accuracy: number } | null;
  /** Times the guard restored a good state and lowered the rate, and the factor it left on the rate. */
  divergences: number;
  rateScale: number;
}

/** Steps between snapshots of the good state the guard goes back to. */
const GOOD_STATE_EVERY = 100;

async function epochLoop(engine: TrainingEngine, sets: Prepared, o: Resolved, schedule: ScheduleOptions, options: TrainOptions, rng: Rng, progress: Progress): Promise<EpochLoopResult> {
  const { train: data, validation } = sets;
  const guard = new DivergenceGuard(options.guard);
  let good = { snapshot: engine.snapshot(), step: 0 };
  let step = 0;
  let lr = learningRateAt(0, schedule);
  const batcher = new Batcher(data, sets.teacherTrain, engine.classes);
  const accLabel = data.y ? 'acc' : 'agree';
  const history: EpochStats[] = [];
  let best: { epoch: number; accuracy: number; snapshot: Float32Array[] } | null = null;
  let sinceBest = 0;
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    progress.startEpoch();
    const started = performance.now();
    const order = Int32Array.from({ length: data.count }, (_, i) => i);
    rng.shuffle(order);
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    for (let from = 0; from < data.count; from += o.batchSize) {
      const n = Math.min(o.batchSize, data.count - from);
      lr = learningRateAt(step, schedule) * guard.rateScale;
      const { loss, hits } = await engine.step(batcher.gather(order, from, n), lr);
      step++;
      const diverged = guard.check(loss);
      if (diverged) {
        // This step's update is applied already: go back to the last good state, with a fresh optimiser.
        guard.backOff(`epoch ${epoch + 1}, step ${step}: ${diverged}`, o.learningRate);
        engine.restore(good.snapshot);
        engine.resetOptimizer();
        progress.line(`epoch ${epoch + 1}, step ${step}: ${diverged}; restored the state of step ${good.step}, learning rate ×${guard.rateFactor} (retry ${guard.attempts}/${guard.retries})`);
        continue;
      }
      if (step % GOOD_STATE_EVERY === 0) good = { snapshot: engine.snapshot(), step };
      lossSum += loss * n;
      correct += hits;
      seen += n;
      progress.step(epoch + 1, seen, data.count, lossSum / seen, correct / seen);
    }
    let validationAccuracy: number | null = null;
    let validationLoss: number | null = null;
    if (validation) {
      const logits = await engine.logits(validation.x, validation.count);
      ({ accuracy: validationAccuracy, loss: validationLoss } = scoreLogits(logits, engine.classes, validation.y, sets.teacherValidation));
    }
    const stats: EpochStats = {
      epoch: epoch + 1, learningRate: lr, loss: lossSum / seen, accuracy: correct / seen,
      validationAccuracy, validationLoss, seconds: (performance.now() - started) / 1000,
    };
    history.push(stats);
    progress.endEpoch(
      epoch + 1,
      `loss ${stats.loss.toFixed(4)} ${accLabel} ${(100 * stats.accuracy).toFixed(2)}%` +
        (validationAccuracy !== null ? ` · val ${accLabel} ${(100 * validationAccuracy).toFixed(2)}% val loss ${validationLoss!.toFixed(4)}` : ''),
      o.epochs - epoch - 1,
    );
    if (validationAccuracy === null) continue;
    if (!best || validationAccuracy > best.accuracy) {
      best = { epoch: epoch + 1, accuracy: validationAccuracy, snapshot: engine.snapshot() };
      sinceBest = 0;
    } else if (++sinceBest >= o.patience) {
      progress.line(`early stop: no better validation accuracy for ${o.patience} epochs; keeping epoch ${best.epoch}`);
      break;
    }
  }
  if (best) engine.restore(best.snapshot);
  return { history, best: best && { epoch: best.epoch, accuracy: best.accuracy }, divergences: guard.attempts, rateScale: guard.rateScale };
}

// ---- baseline and verdict ------------------------------------------------------------

/** The examples that judge the result: the validation data, else the first 5,000 training examples. */
function judgeOn(sets: Prepared, classes: number): (engine: TrainingEngine) => Promise<Score> {
  const examples = sets.validation ?? sliceDataset(sets.train, 0, Math.min(sets.train.count, 5000));
  const teacher = sets.validation ? sets.teacherValidation : sets.teacherTrain?.subarray(0, examples.count * classes) ?? null;
  const on: Score['on'] = sets.validation ? 'validation' : 'training';
  return async (engine) => {
    const logits = await engine.logits(examples.x, examples.count);
    return { accuracy: scoreLogits(logits, classes, examples.y, teacher).accuracy, on, count: examples.count };
  };
}

const percent = (v: number): string => `${(100 * v).toFixed(2)}%`;

// ---- 4. summary --------------------------------------------------------------------

interface Verdict {
  start: Score;
  dense: Score | null;
  result: Score;
}

async function summarize(
  engine: TrainingEngine, run: EpochLoopResult, verdict: Verdict, sets: Prepared, schedule: ScheduleOptions, options: TrainOptions, o: Resolved,
): Promise<{ model: Model; summary: TrainSummary }> {
  const trained = engine.toModel(); // in the student's storage dtypes
  const counts = engine.parameterCounts();
  let testAccuracy: number | null = null;
  let testLoss: number | null = null;
  if (options.test) {
    if (!options.test.y) throw new TrainError('data', 'test data has no labels');
    ({ accuracy: testAccuracy, loss: testLoss } = await evaluate(trained, options.test, {
      normalization: o.normalization, engine: o.engine, threads: options.threads, backend: options.backend, quiet: true,
    }));
  }
  const { history, best } = run;
  const summary: TrainSummary = {
    backend: engine.description,
    engine: engine.name,
    threads: engine.threads,
    ...verdict,
    worseThanStart: verdict.result.accuracy < verdict.start.accuracy,
    divergences: run.divergences,
    lossMode: o.lossMode,
    epochs: history.length,
    bestEpoch: best?.epoch ?? history.length,
    validationAccuracy: best?.accuracy ?? null,
    testAccuracy,
    testLoss,
    storedParameters: counts.stored,
    virtualParameters: counts.virtual,
    compression: counts.stored / counts.virtual,
    secondsPerEpoch: history.reduce((a, h) => a + h.seconds, 0) / history.length,
    history,
  };
  const lossText = o.lossMode === 'ce' ? 'ce' : `${o.lossMode} (T=${o.temperature}, alpha=${o.alpha})`;
  const opt = o.optimizer;
  const optText =
    opt.name === 'adam'
      ? `adam (lr=${o.learningRate})`
      : `sgd (lr=${o.learningRate}, hashed tensors lr/√load, momentum=${opt.momentum}${opt.nesterov ? ', nesterov' : ''})`;
  const guarded = run.divergences ? `, rate lowered ×${run.rateScale.toPrecision(3)} by the divergence guard` : '';
  const { train, validation } = sets;
  const metadata: Record<string, string> = {
    ...trained.metadata,
    ...normalizationEntry(o.normalization),
    [METADATA_KEYS.trainData]: `${options.dataSource ?? 'in-memory'} (${train.count} train${validation ? `, ${validation.count} validation` : ''}${options.test ? `, ${options.test.count} test` : ''})`,
    [METADATA_KEYS.trainEpochs]: String(summary.epochs),
    [METADATA_KEYS.trainBestEpoch]: String(summary.bestEpoch),
    [METADATA_KEYS.trainLoss]: lossText,
    [METADATA_KEYS.trainOptimizer]: `${optText}, schedule ${schedule.schedule} after ${schedule.warmupSteps} warm-up steps${guarded}, batch ${o.batchSize}, dropout ${o.dropout}, weight decay ${o.weightDecay}`,
    [METADATA_KEYS.trainInit]: o.init,
    [METADATA_KEYS.trainSeed]: String(o.seed),
    [METADATA_KEYS.trainBackend]: engine.description,
    [METADATA_KEYS.trainCompression]: summary.compression.toPrecision(6),
    [METADATA_KEYS.trainParameters]: `${counts.stored} stored / ${counts.virtual} virtual`,
  };
  if (summary.validationAccuracy !== null) metadata[METADATA_KEYS.trainValAccuracy] = summary.validationAccuracy.toFixed(6);
  if (testAccuracy !== null) metadata[METADATA_KEYS.trainTestAccuracy] = testAccuracy.toFixed(6);
  return { model: { ...trained, metadata }, summary };
}

// ---- train ---------------------------------------------------------------------

export async function train(student: Model, data: Dataset, options: TrainOptions = {}): Promise<{ model: Model; summary: TrainSummary }> {
  const o = resolveOptions(student, data, options);
  const quiet = options.quiet ?? false;
  const progress = new Progress(quiet ? null : options.progress === undefined ? process.stderr : options.progress, o.epochs);
  const sets = await prepareData(student, data, options, o);
  const rng = new Rng(o.seed); // shuffles, then dropout masks
  const engine = await createEngine(o.engine, student, {
    init: o.init, seed: o.seed, rng, threads: options.threads, backend: options.backend, quiet,
    loss: { alpha: o.alpha, temperature: o.temperature }, optimizer: o.optimizer, weightDecay: o.weightDecay, dropout: o.dropout, rateFactors: o.rateFactors,
    quantizationAware: options.quantizationAware ?? true,
  });
  try {
    const counts = engine.parameterCounts();
    const schedule = scheduleFor(o, sets.train.count);
    progress.line(
      `hnet train: engine ${engine.description}; ${sets.train.count} examples${sets.validation ? `, ${sets.validation.count} validation` : ''}; ` +
        `${counts.stored} stored / ${counts.virtual} virtual parameters; loss ${o.lossMode}; ${o.optimizer.name} lr ${o.learningRate}` +
        `${o.optimizer.name === 'sgd' ? ' (hashed tensors: lr/√load)' : ''}, ${schedule.schedule} schedule after ${schedule.warmupSteps} warm-up steps`,
    );

    // The baseline: the student as it starts (and the dense model) on the examples that judge the result.
    const score = judgeOn(sets, engine.classes);
    const start = await score(engine);
    const denseModel = options.dense ?? options.teacher;
    let dense: Score | null = null;
    if (denseModel) {
      const denseEngine = await createEngine(o.engine, denseModel, { threads: options.threads, backend: options.backend });
      try {
        dense = await score(denseEngine);
      } finally {
        await denseEngine.dispose();
      }
    }
    progress.line(`baseline on ${start.count} ${start.on} examples: ${dense ? `dense model ${percent(dense.accuracy)}, ` : ''}hashed projection (start) ${percent(start.accuracy)}`);

    const run = await epochLoop(engine, sets, o, schedule, options, rng, progress);
    const result: Score = run.best ? { ...start, accuracy: run.best.accuracy } : await score(engine);
    if (result.accuracy < start.accuracy) {
      progress.line(`worse than the start: ${percent(result.accuracy)} after training against ${percent(start.accuracy)} before, on ${start.count} ${start.on} examples`);
    }
    return await summarize(engine, run, { start, dense, result }, sets, schedule, options, o);
  } finally {
    await engine.dispose();
  }
}

// ---- evaluate / predict ------------------------------------------------------------

export interface EvaluateOptions {
  /** Default: the normalization recorded in the model's metadata. */
  normalization?: Normalization;
  /** Default 'ort', or 'tfjs' when a backend is given. */
  engine?: EngineName;
  threads?: number;
  /** tfjs engine only. */
  backend?: BackendName;
  quiet?: boolean;
}

/** Logits [count, classes] of a model over raw (unnormalised) data. */
export async function predictLogits(model: Model, data: Dataset, options: EvaluateOptions = {}): Promise<{ logits: Float32Array; classes: number }> {
  batchShape(model, data, 'data');
  const engine = await createEngine(options.engine ?? (options.backend ? 'tfjs' : 'ort'), model, { threads: options.threads, backend: options.backend, quiet: options.quiet ?? true });
  try {
    const x = normalize(data, options.normalization ?? readNormalization(model.metadata) ?? IDENTITY_NORMALIZATION);
    return { logits: await engine.logits(x.x, x.count), classes: engine.classes };
  } finally {
    await engine.dispose();
  }
}

/** Accuracy and mean cross-entropy of a model on labelled data (for `hnet eval`). */
export async function evaluate(model: Model, data: Dataset, options: EvaluateOptions = {}): Promise<{ accuracy: number; loss: number; count: number }> {
  if (!data.y) throw new TrainError('data', 'evaluation needs labels');
  checkLabels(data, model.outputs[0], 'data');
  const { logits, classes } = await predictLogits(model, data, options);
  return { ...scoreLogits(logits, classes, data.y, null), count: data.count };
}



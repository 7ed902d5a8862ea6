// train(student, data, options): retrains a @hnet/format Model (hashed or
// plain weights) on labels, on a dense teacher's soft targets (HashNet_DK),
// or both, and returns the model with its trained values plus a summary.
//
// One path: normalise data → (teacher soft targets, once) → per epoch:
// shuffle, batches of forward / loss / backward / update → validation,
// early stopping, best checkpoint → write back in the student's storage
// dtype → test accuracy of the written model → summary in metadata.

import * as tf from '@tensorflow/tfjs';
import { METADATA_KEYS, normalizationEntry, type Model } from '@hnet/format';
import { currentBackend, selectBackend, type BackendName } from './backend.js';
import {
  normalizationOf,
  normalize,
  splitValidation,
  type Dataset,
  type Normalization,
} from './data.js';
import { TrainError } from './errors.js';
import { TrainableGraph, type Init } from './graph.js';
import { Progress, type ProgressSink } from './progress.js';
import { Rng } from './rng.js';

export type OptimizerName = 'sgd' | 'adam';
export type Schedule = 'constant' | 'step' | 'cosine';

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
  learningRate?: number; // default 0.1 (sgd), 0.001 (adam)
  momentum?: number; // sgd, default 0.9
  nesterov?: boolean; // sgd, default false
  schedule?: Schedule; // default 'constant'
  stepEvery?: number; // 'step': epochs between decays, default 10
  stepGamma?: number; // 'step': factor, default 0.1
  /** Dropout rate on hidden activations during training (0 = none). */
  dropout?: number;
  /** L2 weight decay on weights and buckets (not biases). */
  weightDecay?: number;

  /** Validation data, or the fraction of the training data to hold out (seeded). Default none. */
  validation?: Dataset | number;
  /** Stop after this many epochs without a better validation accuracy (needs validation). */
  patience?: number;
  /** Test data: its accuracy on the written model goes in the summary. */
  test?: Dataset;

  /** How raw inputs are scaled; default: what the student's metadata records, else identity. Recorded in the output. */
  normalization?: Normalization;
  /** Describes the data for the summary ("idx:/usr/share/datasets/fashion-mnist"). */
  dataSource?: string;

  /** Backend to use; default: selectBackend() on first use. */
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

export interface TrainSummary {
  backend: string;
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

/** Starts the requested backend, or the automatic choice if none was started yet. */
async function ensureBackend(wanted: BackendName | undefined, quiet: boolean): Promise<string> {
  const current = currentBackend();
  if (current && (!wanted || wanted === current)) return current;
  return selectBackend(wanted, quiet ? null : undefined);
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

/** Copies examples order[from, to) into one batch tensor [n, ...per]. */
function batchOf(data: Dataset, order: Int32Array, from: number, to: number, per: number[]): tf.Tensor {
  const size = data.x.length / data.count;
  const x = new Float32Array((to - from) * size);
  for (let i = from; i < to; i++) x.set(data.x.subarray(order[i] * size, (order[i] + 1) * size), (i - from) * size);
  return tf.tensor(x, [to - from, ...per]);
}

/** Logits of a graph over a whole dataset, in batches: [count, classes]. */
function logitsOf(graph: TrainableGraph, data: Dataset, per: number[], batchSize: number = 500): { values: Float32Array; classes: number } {
  const order = Int32Array.from({ length: data.count }, (_, i) => i);
  let out: Float32Array | null = null;
  let classes = 0;
  for (let from = 0; from < data.count; from += batchSize) {
    const to = Math.min(from + batchSize, data.count);
    const logits = tf.tidy(() => graph.forward(batchOf(data, order, from, to, per), { logits: true }));
    if (logits.rank !== 2) throw new TrainError('model', `the model output must be [N, classes] for classification, got [${logits.shape}]`);
    classes = logits.shape[1]!;
    out ??= new Float32Array(data.count * classes);
    out.set(logits.dataSync() as Float32Array, from * classes);
    logits.dispose();
  }
  return { values: out ?? new Float32Array(0), classes };
}

function argmaxRow(v: Float32Array, row: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (v[row * classes + c] > v[row * classes + best]) best = c;
  return best;
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

// ---- optimisers: the update rules, written out ---------------------------------

interface Optimizer {
  step(vars: tf.Variable[], grads: tf.Tensor[], lr: number): void;
  dispose(): void;
}

/** SGD with momentum (PyTorch form): v ← μv + g; w ← w − lr·(nesterov ? g + μv : v). */
function sgd(momentum: number, nesterov: boolean): Optimizer {
  const velocity = new Map<tf.Variable, tf.Variable>();
  return {
    step(vars, grads, lr) {
      vars.forEach((w, k) => {
        tf.tidy(() => {
          const g = grads[k];
          if (momentum === 0) return w.assign(tf.sub(w, tf.mul(g, lr)));
          let v = velocity.get(w);
          if (!v) velocity.set(w, (v = tf.variable(tf.zerosLike(w), false)));
          v.assign(tf.add(tf.mul(v, momentum), g));
          const update = nesterov ? tf.add(g, tf.mul(v, momentum)) : v;
          w.assign(tf.sub(w, tf.mul(update, lr)));
        });
      });
    },
    dispose: () => velocity.forEach((v) => v.dispose()),
  };
}

/** Adam: m ← β1m + (1−β1)g; v ← β2v + (1−β2)g²; w ← w − lr·m̂/(√v̂ + ε). */
function adam(beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8): Optimizer {
  const moments = new Map<tf.Variable, [tf.Variable, tf.Variable]>();
  let t = 0;
  return {
    step(vars, grads, lr) {
      t++;
      const lrT = (lr * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
      vars.forEach((w, k) => {
        tf.tidy(() => {
          const g = grads[k];
          let mv = moments.get(w);
          if (!mv) moments.set(w, (mv = [tf.variable(tf.zerosLike(w), false), tf.variable(tf.zerosLike(w), false)]));
          const [m, v] = mv;
          m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
          v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
          w.assign(tf.sub(w, tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsilon)), lrT)));
        });
      });
    },
    dispose: () => moments.forEach(([m, v]) => (m.dispose(), v.dispose())),
  };
}

function learningRateAt(epoch: number, o: Required<Pick<TrainOptions, 'learningRate' | 'schedule' | 'stepEvery' | 'stepGamma' | 'epochs'>>): number {
  switch (o.schedule) {
    case 'constant':
      return o.learningRate;
    case 'step':
      return o.learningRate * o.stepGamma ** Math.floor(epoch / o.stepEvery);
    case 'cosine':
      return o.learningRate * 0.5 * (1 + Math.cos((Math.PI * epoch) / o.epochs));
  }
}

// ---- losses --------------------------------------------------------------------

/** Mean cross-entropy of logits [n, k] against integer labels [n]. */
function crossEntropy(logits: tf.Tensor, labels: tf.Tensor1D): tf.Scalar {
  const logp = tf.logSoftmax(logits);
  return tf.neg(tf.mean(tf.sum(tf.mul(logp, tf.oneHot(labels, logits.shape[1]!)), 1))) as tf.Scalar;
}

/** T² · mean KL(softmax(teacher/T) ‖ softmax(student/T)) (Hinton et al.; HashNet_DK). */
function distillation(studentLogits: tf.Tensor, teacherLogits: tf.Tensor, T: number): tf.Scalar {
  const pt = tf.softmax(tf.div(teacherLogits, T));
  const kl = tf.sum(tf.mul(pt, tf.sub(tf.logSoftmax(tf.div(teacherLogits, T)), tf.logSoftmax(tf.div(studentLogits, T)))), 1);
  return tf.mul(tf.mean(kl), T * T);
}

// ---- train ---------------------------------------------------------------------

export async function train(student: Model, data: Dataset, options: TrainOptions = {}): Promise<{ model: Model; summary: TrainSummary }> {
  const quiet = options.quiet ?? false;
  const backend = await ensureBackend(options.backend, quiet);
  const epochs = options.epochs ?? 10;
  const batchSize = options.batchSize ?? 50;
  const seed = options.seed ?? 0;
  const opt = options.optimizer ?? 'sgd';
  const learningRate = options.learningRate ?? (opt === 'adam' ? 0.001 : 0.1);
  const T = options.temperature ?? 4;
  const dropout = options.dropout ?? 0;
  const weightDecay = options.weightDecay ?? 0;
  const patience = options.patience ?? Infinity;
  const teacherModel = options.teacher ?? null;
  const hasLabels = data.y !== null;
  if (!hasLabels && !teacherModel) throw new TrainError('data', 'the training data has no labels and no teacher was given: nothing to learn from');
  const alpha = options.alpha ?? (!teacherModel ? 1 : hasLabels ? 0.5 : 0);
  if (!(alpha >= 0 && alpha <= 1)) throw new TrainError('options', `alpha ${alpha}: must be in [0, 1]`);
  if (alpha > 0 && !hasLabels) throw new TrainError('options', `alpha ${alpha} weighs a label loss, but the data has no labels (use alpha 0 for distillation only)`);
  if (alpha < 1 && !teacherModel) throw new TrainError('options', `alpha ${alpha} < 1 needs a teacher`);
  if (!(epochs >= 1 && batchSize >= 1)) throw new TrainError('options', `epochs ${epochs} and batch size ${batchSize} must be >= 1`);
  if (!(dropout >= 0 && dropout < 1)) throw new TrainError('options', `dropout ${dropout}: must be in [0, 1)`);
  const lossMode: TrainSummary['lossMode'] = alpha === 1 ? 'ce' : alpha === 0 ? 'distill' : 'ce+distill';
  const schedule = { learningRate, schedule: options.schedule ?? 'constant', stepEvery: options.stepEvery ?? 10, stepGamma: options.stepGamma ?? 0.1, epochs } as const;

  // Data, normalised once with the declared scaling.
  const norm = options.normalization ?? normalizationOf(student.metadata);
  const per = batchShape(student, data, 'training data');
  let trainSet = normalize(data, norm);
  let validation: Dataset | null = null;
  if (typeof options.validation === 'number') ({ train: trainSet, validation } = splitValidation(trainSet, options.validation, seed + 1));
  else if (options.validation) {
    batchShape(student, options.validation, 'validation data');
    validation = normalize(options.validation, norm);
  }

  const graph = new TrainableGraph(student, { init: options.init ?? 'project', seed });
  const progress = new Progress(quiet ? null : options.progress === undefined ? process.stderr : options.progress, epochs);
  const counts = graph.parameterCounts();
  progress.line(
    `hnet train: ${trainSet.count} examples${validation ? `, ${validation.count} validation` : ''}; ${counts.stored} stored / ${counts.virtual} virtual parameters; loss ${lossMode}; ${opt} lr ${learningRate}`,
  );

  // Teacher soft targets, computed once (the teacher is frozen).
  let teacherTrain: Float32Array | null = null;
  let teacherVal: Float32Array | null = null;
  let classes = 0;
  if (teacherModel) {
    batchShape(teacherModel, data, 'training data (teacher)');
    const teacher = new TrainableGraph(teacherModel, { trainable: false });
    ({ values: teacherTrain, classes } = logitsOf(teacher, trainSet, teacherModel.inputs[0].shape.slice(1)));
    if (validation) teacherVal = logitsOf(teacher, validation, teacherModel.inputs[0].shape.slice(1)).values;
    teacher.dispose();
  }

  const rng = new Rng(seed);
  const optimizer = opt === 'adam' ? adam() : sgd(options.momentum ?? 0.9, options.nesterov ?? false);
  const decayed = new Set(graph.params.filter((p) => p.role === 'weight').map((p) => p.variable));
  const vars = graph.variables;
  const history: EpochStats[] = [];
  let best: { epoch: number; accuracy: number; snapshot: Float32Array[] } | null = null;
  let sinceBest = 0;

  for (let epoch = 0; epoch < epochs; epoch++) {
    progress.startEpoch();
    const started = performance.now();
    const lr = learningRateAt(epoch, schedule);
    const order = Int32Array.from({ length: trainSet.count }, (_, i) => i);
    rng.shuffle(order);
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    for (let from = 0; from < trainSet.count; from += batchSize) {
      const to = Math.min(from + batchSize, trainSet.count);
      const n = to - from;
      const { lossValue, hits } = tf.tidy(() => {
        const x = batchOf(trainSet, order, from, to, per);
        const labels = trainSet.y ? tf.tensor1d(Int32Array.from(order.subarray(from, to), (k) => trainSet.y![k]), 'int32') : null;
        let soft: tf.Tensor | null = null;
        if (teacherTrain) {
          const t = new Float32Array(n * classes);
          for (let i = 0; i < n; i++) t.set(teacherTrain.subarray(order[from + i] * classes, (order[from + i] + 1) * classes), i * classes);
          soft = tf.tensor2d(t, [n, classes]);
        }
        let logitsOut: tf.Tensor | null = null;
        const { value, grads } = tf.variableGrads(() => {
          const logits = graph.forward(x, { logits: true, dropout, rng });
          logitsOut = tf.keep(logits);
          let loss: tf.Scalar = tf.scalar(0);
          if (alpha > 0) loss = tf.add(loss, tf.mul(crossEntropy(logits, labels!), alpha));
          if (alpha < 1) loss = tf.add(loss, tf.mul(distillation(logits, soft!, T), 1 - alpha));
          return loss;
        }, vars);
        const gradList = vars.map((v) => {
          const g = grads[v.name];
          return weightDecay > 0 && decayed.has(v) ? tf.add(g, tf.mul(v, weightDecay)) : g;
        });
        optimizer.step(vars, gradList, lr);
        const predicted = tf.argMax(logitsOut!, 1);
        const target = labels ?? tf.argMax(soft!, 1);
        const hits = tf.sum(tf.cast(tf.equal(predicted, target), 'int32'));
        const result = { lossValue: value.dataSync()[0], hits: hits.dataSync()[0] };
        logitsOut!.dispose(); // kept out of the gradient scope, so tidy does not own it
        return result;
      });
      if (!Number.isFinite(lossValue)) {
        throw new TrainError('options', `epoch ${epoch + 1}: the loss became ${lossValue} (learning rate ${lr} too high?)`);
      }
      lossSum += lossValue * n;
      correct += hits;
      seen += n;
      progress.step(epoch + 1, seen, trainSet.count, lossSum / seen, correct / seen);
    }

    let validationAccuracy: number | null = null;
    let validationLoss: number | null = null;
    if (validation) {
      const { values, classes: k } = logitsOf(graph, validation, per);
      ({ accuracy: validationAccuracy, loss: validationLoss } = scoreLogits(values, k, validation.y, teacherVal));
    }
    const stats: EpochStats = {
      epoch: epoch + 1,
      learningRate: lr,
      loss: lossSum / seen,
      accuracy: correct / seen,
      validationAccuracy,
      validationLoss,
      seconds: (performance.now() - started) / 1000,
    };
    history.push(stats);
    const accLabel = hasLabels ? 'acc' : 'agree';
    progress.endEpoch(
      epoch + 1,
      `loss ${stats.loss.toFixed(4)} ${accLabel} ${(100 * stats.accuracy).toFixed(2)}%` +
        (validationAccuracy !== null ? ` · val ${accLabel} ${(100 * validationAccuracy).toFixed(2)}% val loss ${validationLoss!.toFixed(4)}` : ''),
      epochs - epoch - 1,
    );
    if (validationAccuracy !== null) {
      if (!best || validationAccuracy > best.accuracy) {
        best = { epoch: epoch + 1, accuracy: validationAccuracy, snapshot: graph.snapshot() };
        sinceBest = 0;
      } else if (++sinceBest >= patience) {
        progress.line(`early stop: no better validation accuracy for ${patience} epochs; keeping epoch ${best.epoch}`);
        break;
      }
    }
  }
  if (best) graph.restore(best.snapshot);
  optimizer.dispose();

  // Write back in the student's dtypes, then measure the written model.
  const trained = graph.toModel();
  graph.dispose();
  let testAccuracy: number | null = null;
  let testLoss: number | null = null;
  if (options.test) {
    if (!options.test.y) throw new TrainError('data', 'test data has no labels');
    ({ accuracy: testAccuracy, loss: testLoss } = await evaluate(trained, options.test, { normalization: norm, quiet: true }));
  }
  const summary: TrainSummary = {
    backend,
    lossMode,
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
  const lossText =
    lossMode === 'ce' ? 'ce' : `${lossMode} (T=${T}, alpha=${alpha})`;
  const optText = opt === 'adam' ? `adam (lr=${learningRate})` : `sgd (lr=${learningRate}, momentum=${options.momentum ?? 0.9}${options.nesterov ? ', nesterov' : ''})`;
  const metadata: Record<string, string> = {
    ...trained.metadata,
    ...normalizationEntry(norm),
    [METADATA_KEYS.trainData]: `${options.dataSource ?? 'in-memory'} (${trainSet.count} train${validation ? `, ${validation.count} validation` : ''}${options.test ? `, ${options.test.count} test` : ''})`,
    [METADATA_KEYS.trainEpochs]: String(summary.epochs),
    [METADATA_KEYS.trainBestEpoch]: String(summary.bestEpoch),
    [METADATA_KEYS.trainLoss]: lossText,
    [METADATA_KEYS.trainOptimizer]: `${optText}, schedule ${schedule.schedule}, batch ${batchSize}, dropout ${dropout}, weight decay ${weightDecay}`,
    [METADATA_KEYS.trainInit]: options.init ?? 'project',
    [METADATA_KEYS.trainSeed]: String(seed),
    [METADATA_KEYS.trainBackend]: backend,
    [METADATA_KEYS.trainCompression]: summary.compression.toPrecision(6),
    [METADATA_KEYS.trainParameters]: `${counts.stored} stored / ${counts.virtual} virtual`,
  };
  if (summary.validationAccuracy !== null) metadata[METADATA_KEYS.trainValAccuracy] = summary.validationAccuracy.toFixed(6);
  if (testAccuracy !== null) metadata[METADATA_KEYS.trainTestAccuracy] = testAccuracy.toFixed(6);
  return { model: { ...trained, metadata }, summary };
}

// ---- evaluate / predict ------------------------------------------------------------

export interface EvaluateOptions {
  batchSize?: number;
  /** Default: the normalization recorded in the model's metadata. */
  normalization?: Normalization;
  backend?: BackendName;
  quiet?: boolean;
}

/** Logits [count, classes] of a model over raw (unnormalised) data. */
export async function predictLogits(model: Model, data: Dataset, options: EvaluateOptions = {}): Promise<{ logits: Float32Array; classes: number }> {
  await ensureBackend(options.backend, options.quiet ?? true);
  const per = batchShape(model, data, 'data');
  const graph = new TrainableGraph(model, { trainable: false });
  try {
    const { values, classes } = logitsOf(graph, normalize(data, options.normalization ?? normalizationOf(model.metadata)), per, options.batchSize);
    return { logits: values, classes };
  } finally {
    graph.dispose();
  }
}

/** Accuracy and mean cross-entropy of a model on labelled data (for `hnet eval`). */
export async function evaluate(model: Model, data: Dataset, options: EvaluateOptions = {}): Promise<{ accuracy: number; loss: number; count: number }> {
  if (!data.y) throw new TrainError('data', 'evaluation needs labels');
  const { logits, classes } = await predictLogits(model, data, options);
  return { ...scoreLogits(logits, classes, data.y, null), count: data.count };
}



// The training loop that Node's train() and the browser's retraining share,
// on a TrainingEngine already made, with no Node import:
//   baseline (the student as it starts, on the examples that judge it)
//   → epochs (shuffle, engine.steps on stepsPerRun batches at a time, the
//     rate of each step from schedule.ts, the divergence guard, validation,
//     early stopping, the best epoch's checkpoint)
//   → verdict (worse than the start?).
// Everything around it (options, loading and normalising data, the teacher,
// the summary and metadata) is the caller's.

import type { Dataset } from './dataset.js';
import { sliceDataset } from './dataset.js';
import { argmaxRow, type Batch, type TrainingEngine } from './engine.js';
import { DivergenceGuard, type GuardOptions } from './guard.js';
import type { Progress } from './progress.js';
import type { Rng } from './rng.js';
import { learningRateAt, type ScheduleOptions } from './schedule.js';

/** The normalised examples of one run. */
export interface TrainingSets {
  train: Dataset;
  validation: Dataset | null;
  /** The teacher's logits on train / validation (computed once: the teacher is frozen). */
  teacherTrain: Float32Array | null;
  teacherValidation: Float32Array | null;
}

export interface LoopOptions {
  epochs: number;
  batchSize: number;
  /** Stop after this many epochs without a better validation accuracy. */
  patience: number;
  /** The rate of every step; stepsPerEpoch must match the training data and batch size. */
  schedule: ScheduleOptions;
  guard?: GuardOptions;
  /** Awaited after each run of steps (a page repaints there). */
  onSteps?: (done: { epoch: number; step: number; loss: number }) => Promise<void> | void;
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

export interface LoopResult {
  /** The student before training (the hashed projection) and the kept model, on the same examples. */
  start: Score;
  result: Score;
  /** result < start: training made the model worse, which is not a success. */
  worseThanStart: boolean;
  history: EpochStats[];
  best: { epoch: number; accuracy: number } | null;
  /** Times the guard restored a good state and lowered the rate, and the factor it left on the rate. */
  divergences: number;
  rateScale: number;
}

/** Accuracy against labels (or against a teacher's argmax) and mean cross-entropy of logits. */
export function scoreLogits(logits: Float32Array, classes: number, labels: Int32Array | null, teacher: Float32Array | null): { accuracy: number; loss: number } {
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

/** Scores an engine on the examples that judge the result: the validation data, else the first 5,000 training examples. */
export function judgeOn(sets: TrainingSets, classes: number): (engine: TrainingEngine) => Promise<Score> {
  const examples = sets.validation ?? sliceDataset(sets.train, 0, Math.min(sets.train.count, 5000));
  const teacher = sets.validation ? sets.teacherValidation : sets.teacherTrain?.subarray(0, examples.count * classes) ?? null;
  const on: Score['on'] = sets.validation ? 'validation' : 'training';
  return async (engine) => {
    const logits = await engine.logits(examples.x, examples.count);
    return { accuracy: scoreLogits(logits, classes, examples.y, teacher).accuracy, on, count: examples.count };
  };
}

export const percent = (v: number): string => `${(100 * v).toFixed(2)}%`;

/**
 * Baseline, epochs, verdict. `baseline` is awaited with the start score
 * before the first step (Node scores the dense model there, with the same judge).
 */
export async function runEpochs(
  engine: TrainingEngine,
  sets: TrainingSets,
  options: LoopOptions,
  rng: Rng,
  progress: Progress,
  baseline: (start: Score, judge: (engine: TrainingEngine) => Promise<Score>) => Promise<void> | void = () => {},
): Promise<LoopResult> {
  const judge = judgeOn(sets, engine.classes);
  const start = await judge(engine);
  await baseline(start, judge);
  const run = await epochLoop(engine, sets, options, rng, progress);
  const result: Score = run.best ? { ...start, accuracy: run.best.accuracy } : await judge(engine);
  if (result.accuracy < start.accuracy) {
    progress.line(`worse than the start: ${percent(result.accuracy)} after training against ${percent(start.accuracy)} before, on ${start.count} ${start.on} examples`);
  }
  return { start, result, worseThanStart: result.accuracy < start.accuracy, ...run };
}

/** Reusable batch buffers per batch size and slot of a run: examples order[from, from + count) gathered. */
class Batcher {
  private readonly buffers = new Map<string, Batch>();
  constructor(
    private readonly data: Dataset,
    private readonly teacher: Float32Array | null,
    private readonly classes: number,
  ) {}

  gather(order: Int32Array, from: number, count: number, slot: number): Batch {
    const key = `${count}:${slot}`;
    let b = this.buffers.get(key);
    const size = this.data.x.length / this.data.count;
    if (!b) {
      b = { count, x: new Float32Array(count * size), labels: this.data.y ? new Int32Array(count) : null, teacher: this.teacher ? new Float32Array(count * this.classes) : null };
      this.buffers.set(key, b);
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

/** Steps between snapshots of the good state the guard goes back to. */
const GOOD_STATE_EVERY = 100;

async function epochLoop(engine: TrainingEngine, sets: TrainingSets, o: LoopOptions, rng: Rng, progress: Progress): Promise<Omit<LoopResult, 'start' | 'result' | 'worseThanStart'>> {
  const { train: data, validation } = sets;
  const { schedule } = o;
  const guard = new DivergenceGuard(o.guard);
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
    for (let from = 0; from < data.count; ) {
      // stepsPerRun full batches in one run while there are that many left; the rest one by one.
      const group = Math.floor((data.count - from) / o.batchSize) >= engine.stepsPerRun ? engine.stepsPerRun : 1;
      const batches: Batch[] = [];
      const rates: number[] = [];
      for (let t = 0; t < group; t++) {
        const n = Math.min(o.batchSize, data.count - from);
        rates.push(learningRateAt(step + t, schedule) * guard.rateScale);
        batches.push(batcher.gather(order, from, n, t));
        from += n;
      }
      const results = await engine.steps(batches, rates);
      const stepBefore = step;
      step += group;
      lr = rates[group - 1];
      let diverged = -1;
      let why: string | null = null;
      while (!why && ++diverged < group) why = guard.check(results[diverged].loss);
      // The healthy steps count in the epoch's loss and accuracy, as when they ran one by one.
      results.slice(0, diverged).forEach((r, t) => {
        lossSum += r.loss * batches[t].count;
        correct += r.hits;
        seen += batches[t].count;
        progress.step(epoch + 1, seen, data.count, lossSum / seen, correct / seen);
      });
      if (why) {
        // The updates of this run are applied already: go back to the last good state, with a fresh optimiser.
        const at = `epoch ${epoch + 1}, step ${stepBefore + diverged + 1}`;
        guard.backOff(`${at}: ${why}`, schedule.learningRate);
        engine.restore(good.snapshot);
        engine.resetOptimizer();
        progress.line(`${at}: ${why}; restored the state of step ${good.step}, learning rate ×${guard.rateFactor} (retry ${guard.attempts}/${guard.retries})`);
        continue;
      }
      if (Math.floor(step / GOOD_STATE_EVERY) > Math.floor(stepBefore / GOOD_STATE_EVERY)) good = { snapshot: engine.snapshot(), step };
      await o.onSteps?.({ epoch: epoch + 1, step, loss: results[group - 1].loss });
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

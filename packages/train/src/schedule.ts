// Learning rate per step: a linear warm-up, then a constant, step or cosine
// schedule; and the per-tensor factor that keeps hashed layers stable.
//
// Why the factor (docs/results/TRAINING.md, bench/train/lr-sweep.py): a
// bucket's gradient is the signed sum of the gradients of the `load` virtual
// weights that share it (load = virtual / buckets), so one SGD step moves
// each of them about √load times further than in a dense layer. Dividing a
// bucket vector's rate by √load gives one base rate (0.1) that was the best
// or within 0.2 point of the best at 1/8, 1/16 and 1/64, where one global
// rate had to be retuned per compression (0.03 at 1/8, 0.01 at 1/64).

import { sizeOf, type Model } from '@hnet/format';
import { trainableParams } from './params.js';

export type Schedule = 'constant' | 'step' | 'cosine';

export interface ScheduleOptions {
  learningRate: number;
  schedule: Schedule;
  /** 'step': epochs between decays, and the factor. */
  stepEvery: number;
  stepGamma: number;
  epochs: number;
  stepsPerEpoch: number;
  /** Steps of linear warm-up from learningRate / warmupSteps to learningRate. */
  warmupSteps: number;
}

export const DEFAULT_SCHEDULE: Schedule = 'cosine';
/** SGD's default base rate; each hashed tensor trains at it × hashedRateFactor. */
export const DEFAULT_SGD_RATE = 0.1;

/** Half an epoch, at most a quarter of the run (the sweep's setting: half of the first of 3 epochs). */
export function defaultWarmupSteps(stepsPerEpoch: number, epochs: number): number {
  return Math.max(0, Math.min(Math.ceil(stepsPerEpoch / 2), Math.floor((stepsPerEpoch * epochs) / 4)));
}

/** The rate of step `step` (0-based, counted over the whole run). */
export function learningRateAt(step: number, o: ScheduleOptions): number {
  if (step < o.warmupSteps) return (o.learningRate * (step + 1)) / o.warmupSteps;
  switch (o.schedule) {
    case 'constant':
      return o.learningRate;
    case 'step':
      return o.learningRate * o.stepGamma ** Math.floor(step / o.stepsPerEpoch / o.stepEvery);
    case 'cosine': {
      // From the end of the warm-up to 0 after the last step.
      const span = Math.max(1, o.epochs * o.stepsPerEpoch - o.warmupSteps);
      return o.learningRate * 0.5 * (1 + Math.cos((Math.PI * (step - o.warmupSteps)) / span));
    }
  }
}

/** 1/√(virtual values per stored value) for a hashed tensor, 1 for a plain one. */
export function hashedRateFactor(virtual: number, stored: number): number {
  return stored < virtual ? Math.sqrt(stored / virtual) : 1;
}

/** hashedRateFactor of each trainable parameter of a model, in trainableParams() order (SGD's rate factors). */
export function hashedRateFactors(model: Model): number[] {
  return trainableParams(model).map((p) => hashedRateFactor(sizeOf(p.weight.shape), p.values.length));
}

/** The default SGD schedule: a linear warm-up (defaultWarmupSteps), then a per-step cosine to 0 at the end of the run. */
export function defaultSgdSchedule(epochs: number, stepsPerEpoch: number, learningRate = DEFAULT_SGD_RATE): ScheduleOptions {
  return { learningRate, schedule: DEFAULT_SCHEDULE, stepEvery: 10, stepGamma: 0.1, epochs, stepsPerEpoch, warmupSteps: defaultWarmupSteps(stepsPerEpoch, epochs) };
}

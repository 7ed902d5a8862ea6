// What train() needs from a training engine, and the two engines behind it:
// 'ort' (ONNX graphs on onnxruntime-node, native and multi-threaded, or on
// onnxruntime-web) and 'tfjs' (TensorFlow.js, the first engine, kept as the
// oracle). createEngine() is in engines.ts, so that this module (which the
// browser entry loads) reaches neither engine's runtime.
//
// Parameter values cross this interface in one layout for both engines:
// K buckets for a hashed weight, else the format's row-major values, in the
// order of trainableParams().

import type { Model } from '@hnet/format';
import type { BackendName, EngineName } from './backend-names.js';
import type { LossSpec } from './ort/loss.js';
import type { OptimizerSpec } from './ort/optimizer.js';
import type { Init } from './params.js';
import type { Rng } from './rng.js';

export { ENGINES, type EngineName } from './backend-names.js';
export type { LossSpec, OptimizerSpec };

/** One batch of normalised examples. */
export interface Batch {
  count: number;
  /** [count, ...input shape] */
  x: Float32Array;
  /** class per example, when the loss has a label term */
  labels: Int32Array | null;
  /** teacher logits [count, classes], when the loss has a distillation term */
  teacher: Float32Array | null;
}

export interface EngineOptions {
  init?: Init;
  seed?: number;
  loss?: LossSpec; // default: labels only
  optimizer?: OptimizerSpec; // default: SGD, momentum 0.9
  weightDecay?: number;
  /**
   * Each parameter's rate is lr × its factor, in trainableParams() order
   * (train() gives hashed tensors 1/√(virtual per stored value), schedule.ts). Default 1.
   */
  rateFactors?: readonly number[];
  dropout?: number;
  /** Fake-quantize int8/int4 parameters in the forward, straight-through gradient (quantize.ts). Default false. */
  quantizationAware?: boolean;
  /** Draws dropout masks; required when dropout > 0. */
  rng?: Rng;
  /** ort: intra-op threads (default: all cores on onnxruntime-node, 1 on onnxruntime-web). */
  threads?: number;
  /** tfjs: the TensorFlow.js backend (default: the automatic choice). */
  backend?: BackendName;
  quiet?: boolean;
}

export interface StepResult {
  loss: number;
  /** examples whose argmax matches the label (or the teacher's argmax without labels) */
  hits: number;
}

export interface TrainingEngine {
  readonly name: EngineName;
  /** "ort (onnxruntime-node 1.30.0, 2 threads)", for the first progress line and the metadata. */
  readonly description: string;
  readonly threads: number;
  /** Width of the logits. */
  readonly classes: number;
  parameterCounts(): { stored: number; virtual: number };
  /** Forward, loss, backward and update on one batch at learning rate lr. */
  step(batch: Batch, lr: number): Promise<StepResult>;
  /** The loss and its gradient for each parameter, without an update. */
  gradients(batch: Batch): Promise<{ loss: number; grads: Float32Array[] }>;
  /** Logits [count, classes] of normalised examples [count, ...]. */
  logits(x: Float32Array, count: number): Promise<Float32Array>;
  /** Copies of the current parameter values (a checkpoint). */
  snapshot(): Float32Array[];
  restore(values: readonly Float32Array[]): void;
  /** Forgets the optimiser state (momentum, Adam's moments and step count), as after a divergence. */
  resetOptimizer(): void;
  /** The model with the current values written back in each weight's storage dtype. */
  toModel(): Model;
  dispose(): Promise<void>;
}

export const DEFAULT_OPTIMIZER: OptimizerSpec = { name: 'sgd', momentum: 0.9, nesterov: false };
export const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;

/** argmax of each row of [rows, classes]. */
export function argmaxRow(v: Float32Array, row: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (v[row * classes + c] > v[row * classes + best]) best = c;
  return best;
}

/** How many rows of logits pick the label (or the teacher's argmax). */
export function countHits(logits: Float32Array, batch: Batch, classes: number): number {
  let hits = 0;
  for (let i = 0; i < batch.count; i++) {
    const target = batch.labels ? batch.labels[i] : argmaxRow(batch.teacher!, i, classes);
    if (argmaxRow(logits, i, classes) === target) hits++;
  }
  return hits;
}

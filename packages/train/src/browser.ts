// @hnet/train/browser: the ort engine with no Node import, for a page that
// retrains with onnxruntime-web (WASM) — or for Node with an onnxruntime
// given explicitly — and the training loop train() runs (loop.ts: warm-up +
// cosine schedule, divergence guard, worse-than-start verdict). The caller
// passes the onnxruntime module:
//
//   import * as ort from 'onnxruntime-web';
//   const engine = await createOrtEngine(model, { rateFactors: hashedRateFactors(model), threads: 1 }, ort);
//   const run = await runEpochs(engine, sets, { epochs, batchSize, patience: Infinity, schedule: defaultSgdSchedule(epochs, stepsPerEpoch) }, rng, new Progress(null, epochs));
//
// Nothing reachable from here imports Node, onnx-proto or TensorFlow.js
// (test/browser-entry.test.ts walks the imports).

import type { Model } from '@hnet/format';
import type { EngineOptions, TrainingEngine } from './engine.js';
import { TrainError } from './errors.js';
import { OrtEngine, type OrtModule } from './ort/engine.js';

/** onnxruntime-web, or onnxruntime-node: what createOrtEngine reads besides sessions and tensors. */
export interface OrtPackage extends OrtModule {
  env: { versions: { web?: string; node?: string }; wasm?: { numThreads?: number } };
}

/**
 * The ort engine on the given onnxruntime. With onnxruntime-web, `threads`
 * (default 1) becomes `env.wasm.numThreads`, which counts only before the
 * page's first session and only beyond 1 on a cross-origin-isolated page.
 */
export function createOrtEngine(model: Model, options: EngineOptions, ort: OrtPackage): Promise<TrainingEngine> {
  const threads = options.threads ?? 1;
  const { web, node } = ort.env.versions;
  if (web === undefined && node === undefined) throw new TrainError('options', 'createOrtEngine: the module given is neither onnxruntime-web nor onnxruntime-node (no env.versions)');
  if (web !== undefined && ort.env.wasm) ort.env.wasm.numThreads = threads;
  const label = web !== undefined ? `onnxruntime-web ${web}` : `onnxruntime-node ${node}`;
  return OrtEngine.create(model, { ...options, threads }, { ort, label, defaultThreads: threads, writesIntoOutputs: web === undefined });
}

export { trainableParams, parameterCounts, type TrainableParam } from './params.js';
export { runEpochs, scoreLogits, type EpochStats, type LoopOptions, type LoopResult, type Score, type TrainingSets } from './loop.js';
export { DEFAULT_SGD_RATE, defaultSgdSchedule, hashedRateFactors, learningRateAt, type ScheduleOptions } from './schedule.js';
export { Progress, type ProgressSink } from './progress.js';
export type { Dataset } from './dataset.js';
export { Rng } from './rng.js';
export { TrainError } from './errors.js';
export { argmaxRow, countHits, DEFAULT_OPTIMIZER, ADAM } from './engine.js';
export type { Batch, EngineOptions, StepResult, TrainingEngine, LossSpec, OptimizerSpec } from './engine.js';

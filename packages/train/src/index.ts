// @hnet/train: retraining @hnet/format models (HashedNets) on onnxruntime (native) or TensorFlow.js.
export { selectBackend, currentBackend, BACKENDS, type BackendName } from './backend.js';
export { TrainError, type TrainErrorCode } from './errors.js';
export {
  hashLayout,
  expandBuckets,
  scatterAddBuckets,
  scatterAddReference,
  hashedVirtual,
  hashedVirtualByGather,
  toTfLayout,
  fromTfLayout,
  type HashLayout,
} from './hashed.js';
export { TrainableGraph, type Init, type GraphOptions, type ForwardOptions, type Param } from './graph.js';
export {
  loadData,
  checkLabels,
  loadIdx,
  loadIdxDir,
  loadCsv,
  loadNpy,
  loadMnistPackage,
  readIdx,
  normalize,
  fitNormalization,
  splitValidation,
  sliceDataset,
  pickExamples,
  type Dataset,
  type DataSplits,
  type CsvOptions,
} from './data.js';
export { train, evaluate, predictLogits, type TrainOptions, type TrainSummary, type EpochStats, type EvaluateOptions, type OptimizerName, type Schedule, type Score } from './train.js';
export { learningRateAt, defaultWarmupSteps, hashedRateFactor, hashedRateFactors, defaultSgdSchedule, DEFAULT_SCHEDULE, DEFAULT_SGD_RATE, type ScheduleOptions } from './schedule.js';
export { runEpochs, scoreLogits, type LoopOptions, type LoopResult, type TrainingSets } from './loop.js';
export { DivergenceGuard, type GuardOptions } from './guard.js';
export { looksLikeBytes, candidatePreprocessings, clearlyAboveChance, choosePreprocessing, decidePreprocessing, type CandidateScore, type PreprocessChoice, type ChooseOptions } from './preprocess.js';
export { Rng } from './rng.js';
export { createEngine } from './engines.js';
export {
  ENGINES,
  argmaxRow,
  type EngineName,
  type EngineOptions,
  type TrainingEngine,
  type Batch,
  type StepResult,
  type LossSpec,
  type OptimizerSpec,
} from './engine.js';
export { trainableParams, parameterCounts, type TrainableParam } from './params.js';

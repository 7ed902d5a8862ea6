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
  normalizationOf,
  fitNormalization,
  splitValidation,
  sliceDataset,
  pickExamples,
  NORMALIZATION_KEY,
  IDENTITY_NORMALIZATION,
  type Dataset,
  type DataSplits,
  type Normalization,
  type CsvOptions,
} from './data.js';
export { train, evaluate, predictLogits, type TrainOptions, type TrainSummary, type EpochStats, type EvaluateOptions, type OptimizerName, type Schedule } from './train.js';
export { Rng } from './rng.js';
export { createEngine } from './engines.js';
export {
  ENGINES,
  type EngineName,
  type EngineOptions,
  type TrainingEngine,
  type Batch,
  type StepResult,
  type LossSpec,
  type OptimizerSpec,
} from './engine.js';
export { trainableParams, parameterCounts, type TrainableParam } from './params.js';

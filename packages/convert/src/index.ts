// @hnet/convert: dense ONNX in, .hnet out (optionally hashed), and back to ONNX.
export { ConvertError, type ConvertErrorCode, type NodeIssue } from './errors.js';
export { importOnnx, MIN_OPSET, type ImportOptions, type ImportReport, type ImportResult } from './onnx/import.js';
export { readTensor, decodeTensorProto, type ConstTensor } from './onnx/tensors.js';
export { exportOnnx, EXPORT_OPSET } from './onnx/export.js';
export { hashModel, deriveSeed, relativeError, DEFAULT_MIN_VIRTUAL, type HashPolicy, type HashReport, type WeightReport } from './hashing.js';
export { readNpy, writeNpy, NpyError } from '@hnet/format';
export { writeFileAtomic, readFileChecked } from './files.js';
export { registerEngine, getEngine, engineNames, type Engine } from './engine.js';
export { main as cliMain, EXIT } from './cli/main.js';
export { registerVerb } from './cli/registry.js';
export { addConvertHook, type ConvertHook } from './cli/verbs/convert.js';
export type { Verb, Io } from './cli/verb.js';
export type { FlagSpec, ParsedArgs } from './cli/args.js';
export { UsageError } from './cli/args.js';

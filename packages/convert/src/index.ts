// @hnet/convert: dense ONNX in, .hnet out (optionally hashed), and back to ONNX.
// The `hnet` command that drives it is @hnet/cli.
export { ConvertError, type ConvertErrorCode, type NodeIssue } from './errors.js';
export { importOnnx, MIN_OPSET, type ImportOptions, type ImportReport, type ImportResult } from './onnx/import/driver.js';
export { readTensor, decodeTensorProto, type ConstTensor } from './onnx/tensors.js';
export { exportOnnx, exportOpset, EXPORT_OPSET } from './onnx/export.js';
export { hashModel, deriveSeed, relativeError, alignedBlockFor, DEFAULT_BLOCK, DEFAULT_MIN_VIRTUAL, type HashOptions, type HashPolicy, type HashReport, type WeightReport } from './hashing.js';
export { stripModel, type StripReport } from './strip.js';
export { writeFileAtomic, readFileChecked } from './files.js';
export { CONVERT_VERSION } from './version.js';

// @hnet/convert: dense ONNX in, .hnet out (optionally hashed), and back to ONNX.
export { ConvertError, type ConvertErrorCode, type NodeIssue } from './errors.js';
export { importOnnx, MIN_OPSET, type ImportOptions, type ImportReport, type ImportResult } from './onnx/import.js';
export { readTensor, decodeTensorProto, type ConstTensor } from './onnx/tensors.js';

// @hnet/format: the one library that reads and writes .hnet files.
export * from './model.js';
export * from './errors.js';
export * from './limits.js';
export * from './hash.js';
export * from './values.js';
export * from './weights.js';
export * from './version.js';
export * from './shapes.js';
export * from './validate.js';
export { encode, DATA_ALIGNMENT } from './codec/encode.js';
export { decode, readVersions, readMetadata, checkReaderVersion, type FileVersions } from './codec/decode.js';
export type { Tensor } from './tensor.js';
export * from './metadata.js';
export { runReference } from './reference/forward.js';
export { erf } from './reference/erf.js';
export { resizeSource, resizeNearest, resizeLinear } from './reference/resize.js';
export {
  summarizeModel, describeFile, formatShape, formatWeightShape, formatBytes, formatCount, hex,
  type ModelSummary, type WeightSummary, type FileDescription,
} from './describe.js';
export { readNpy, writeNpy, NpyError } from './npy.js';

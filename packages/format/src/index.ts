// @hnet/format: the one library that reads and writes .hnet files.
export * from './model.js';
export * from './errors.js';
export * from './hash.js';
export * from './values.js';
export * from './weights.js';

// The engine and backend names alone, without onnxruntime or TensorFlow.js:
// the CLI validates and documents --engine and --backend from these before
// deciding to load the trainer.

export type EngineName = 'ort' | 'tfjs';
export const ENGINES: readonly EngineName[] = ['ort', 'tfjs'];

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

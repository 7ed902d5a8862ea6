// The backend names alone, without TensorFlow.js: the CLI validates and
// documents --backend from these before deciding to load the trainer.

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

// The tensor every package hands around: the reference forward pass, the
// WASM runtime's wrapper, the trainer's data and the CLI's .npy files.

/** A dense float32 tensor, row-major. */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

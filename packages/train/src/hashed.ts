// Hashed weights on TensorFlow.js. The trainable variable is the K buckets;
// the virtual weight V[f] = ξ(f)·w[h(f)] is built in JS from index/sign
// arrays precomputed once from the @hnet/format hash spec, and its gradient
// is the ξ-signed scatter-add dw[h(f)] += ξ(f)·dV[f] — O(weights) on every
// backend (tf's own gather gradient needs UnsortedSegmentSum, which the WASM
// backend lacks and the CPU backend runs in O(buckets × weights)).
// xxh32-block needs nothing of its own: forEachHashed yields its (bucket,
// sign) per element, and the gradient of a block's run of buckets is this
// same scatter-add (a run is just Z consecutive indices).
//
// "tf layout": the trainer keeps every weight as the transpose of its key
// grid, [cols, rows] = [in, out] for Dense and [C/g·KH·KW, M] for Conv2D, so
// that a layer is y = x · Vt with no transpose at run time. A 1-D weight
// (bias) is unchanged.

import * as tf from '@tensorflow/tfjs';
import { forEachHashed, keyGrid, type HashSpec } from '@hnet/format';

/** Where each virtual element of a hashed weight (in tf layout) takes its value from. */
export interface HashLayout {
  /** tf-layout shape: [cols, rows], or [n] for a 1-D weight. */
  tfShape: number[];
  bucketCount: number;
  /** bucket index of tf-layout element i */
  bucket: Int32Array;
  /** sign ξ (±1) of tf-layout element i */
  sign: Float32Array;
}

/** The tf-layout shape of a virtual shape: the transposed key grid. */
export function tfShapeOf(shape: readonly number[]): number[] {
  if (shape.length <= 1) return [...shape];
  const { rows, cols } = keyGrid(shape);
  return [cols, rows];
}

/** Row-major virtual values → tf layout (transpose of the key grid). */
export function toTfLayout(virtual: Float32Array, shape: readonly number[]): Float32Array {
  if (shape.length <= 1) return Float32Array.from(virtual);
  const { rows, cols } = keyGrid(shape);
  const out = new Float32Array(virtual.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = virtual[r * cols + c];
  return out;
}

/** tf layout → row-major virtual values. */
export function fromTfLayout(tfValues: Float32Array, shape: readonly number[]): Float32Array {
  if (shape.length <= 1) return Float32Array.from(tfValues);
  const { rows, cols } = keyGrid(shape);
  const out = new Float32Array(tfValues.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = tfValues[c * rows + r];
  return out;
}

/** Precomputes the bucket and sign of every virtual element, in tf layout. */
export function hashLayout(shape: readonly number[], hash: HashSpec, bucketCount: number): HashLayout {
  const { rows } = keyGrid(shape);
  const transposed = shape.length > 1;
  const bucket = new Int32Array(shape.reduce((a, b) => a * b, 1));
  const sign = new Float32Array(bucket.length);
  const cols = bucket.length / rows;
  forEachHashed(shape, hash, bucketCount, (f, b, s) => {
    // f = r * cols + c  →  tf-layout index c * rows + r
    const i = transposed ? (f % cols) * rows + Math.floor(f / cols) : f;
    bucket[i] = b;
    sign[i] = s;
  });
  return { tfShape: tfShapeOf(shape), bucketCount, bucket, sign };
}

/** Forward kernel: V[i] = ξ[i] · w[h[i]]. */
export function expandBuckets(buckets: Float32Array, layout: HashLayout, out?: Float32Array): Float32Array {
  const { bucket, sign } = layout;
  const v = out ?? new Float32Array(bucket.length);
  for (let i = 0; i < v.length; i++) v[i] = sign[i] * buckets[bucket[i]];
  return v;
}

/** Backward kernel: dw[h[i]] += ξ[i] · dV[i], one pass over the virtual gradient. */
export function scatterAddBuckets(dV: Float32Array, layout: HashLayout): Float32Array {
  const { bucket, sign } = layout;
  const dw = new Float32Array(layout.bucketCount);
  for (let i = 0; i < dV.length; i++) dw[bucket[i]] += sign[i] * dV[i];
  return dw;
}

/**
 * Naive reference of the backward kernel, straight from the hash spec (no
 * precomputed arrays, one hash per element); the tests hold the fast kernel to it.
 */
export function scatterAddReference(
  dVirtualRowMajor: Float32Array,
  shape: readonly number[],
  hash: HashSpec,
  bucketCount: number,
): Float64Array {
  const dw = new Float64Array(bucketCount);
  forEachHashed(shape, hash, bucketCount, (f, b, s) => {
    dw[b] += s * dVirtualRowMajor[f];
  });
  return dw;
}

/**
 * The virtual weight (tf layout) of a bucket variable, differentiable with
 * respect to the buckets through the scatter-add above.
 */
export function hashedVirtual(buckets: tf.Tensor1D, layout: HashLayout): tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const w = args[0] as tf.Tensor;
    const value = tf.tensor(expandBuckets(w.dataSync() as Float32Array, layout), layout.tfShape, 'float32');
    const gradFunc = (dy: tf.Tensor) => tf.tensor1d(scatterAddBuckets(dy.dataSync() as Float32Array, layout), 'float32');
    return { value, gradFunc };
  });
  return op(buckets);
}

/** The same virtual weight with tf's own ops (gather · sign): the oracle for the custom gradient. */
export function hashedVirtualByGather(buckets: tf.Tensor1D, layout: HashLayout): tf.Tensor {
  return tf.tidy(() =>
    tf.mul(tf.gather(buckets, tf.tensor1d(layout.bucket, 'int32')), tf.tensor1d(layout.sign)).reshape(layout.tfShape),
  );
}

// Virtual weights: from stored buckets to the dense tensor they stand for,
// and back (the least-squares projection of a dense tensor onto buckets).

import { blockOf, blockSignBits, blockSignOf, halfPatternOf, keyFinish, keyGrid, keyRowState, runBucket, runStartOf } from './hash.js';
import type { DType, HashSpec, Weight } from './model.js';
import { sizeOf } from './model.js';
import { valuesFromFloat32, valuesToFloat32 } from './values.js';

/**
 * Calls visit(flatIndex, bucket, sign) for every virtual element of a hashed
 * shape in row-major order. The one loop that every use of the hash goes
 * through: per-element xxh32 hashes each (r, c); xxh32-block hashes each
 * block (r, b) once and walks its run of buckets (xxh32-aligned-block: from
 * an aligned start, with the block's sign from the same hash).
 */
export function forEachHashed(
  shape: readonly number[],
  hash: HashSpec,
  bucketCount: number,
  visit: (flat: number, bucket: number, sign: 1 | -1) => void,
): void {
  const { rows, cols } = keyGrid(shape);
  const z = blockOf(hash);
  // each column block's pattern, per half of 32 offsets, the same in every row (per element, Z = 1, never reads it: offset 0)
  const halves = z > 32 ? 2 : 1;
  const patterns = Array.from({ length: z > 1 ? Math.ceil(cols / z) * halves : 0 },
    (_, i) => (hash.signSeed === null ? 0 : halfPatternOf(Math.floor(i / halves), i % halves, hash.signSeed)));
  for (let r = 0; r < rows; r++) {
    const bucketRow = keyRowState(r, hash.bucketSeed);
    const signRow = hash.signSeed === null ? 0 : keyRowState(r, hash.signSeed);
    for (let b = 0, c0 = 0; c0 < cols; b++, c0 += z) {
      const h = keyFinish(bucketRow, b);
      const start = runStartOf(hash, h, bucketCount);
      const s = hash.signSeed === null ? 0 : blockSignBits(hash, h, signRow, b);
      const end = Math.min(cols, c0 + z);
      for (let c = c0; c < end; c++) {
        const o = c - c0;
        visit(r * cols + c, runBucket(start, o, bucketCount), hash.signSeed === null ? 1 : blockSignOf(s, patterns[b * halves + (o >> 5)] ?? 0, o & 31));
      }
    }
  }
}

/** The dense virtual tensor of a weight, row-major: V[f] = ξ(f) * w[h(f)]. */
export function expandWeight(weight: Weight): Float32Array {
  const stored = valuesToFloat32(weight.values);
  if (weight.hash === null) return Float32Array.from(stored);
  const out = new Float32Array(sizeOf(weight.shape));
  forEachHashed(weight.shape, weight.hash, stored.length, (f, bucket, sign) => {
    out[f] = sign * stored[bucket];
  });
  return out;
}

/**
 * Bucket values that best approximate a dense tensor in least squares: each
 * bucket takes the mean of ξ·W over the virtual weights that share it
 * (0 for an empty bucket).
 */
export function projectToBuckets(
  dense: Float32Array,
  shape: readonly number[],
  hash: HashSpec,
  bucketCount: number,
): Float32Array {
  const sum = new Float64Array(bucketCount);
  const count = new Uint32Array(bucketCount);
  forEachHashed(shape, hash, bucketCount, (f, bucket, sign) => {
    sum[bucket] += sign * dense[f];
    count[bucket]++;
  });
  const out = new Float32Array(bucketCount);
  for (let k = 0; k < bucketCount; k++) out[k] = count[k] ? sum[k] / count[k] : 0;
  return out;
}

/** A plain (unhashed) weight holding a dense tensor. */
export function plainWeight(dense: Float32Array, shape: number[], dtype: DType = 'float32'): Weight {
  return { shape: [...shape], hash: null, values: valuesFromFloat32(dense, dtype) };
}

/** A hashed weight whose buckets are the least-squares projection of a dense tensor. */
export function hashedWeight(
  dense: Float32Array,
  shape: number[],
  hash: HashSpec,
  bucketCount: number,
  dtype: DType = 'float32',
): Weight {
  const buckets = projectToBuckets(dense, shape, hash, bucketCount);
  return { shape: [...shape], hash: { ...hash }, values: valuesFromFloat32(buckets, dtype) };
}

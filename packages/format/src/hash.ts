// The hash spec (docs/FORMAT.md, "Hash spec"): how a virtual weight finds its
// bucket and its sign. Every implementation (the WASM runtime, the trainer)
// must agree with these functions bit for bit; vectors/hash-vectors.json holds the
// shared vectors.
//
//   key(r, c)  = 8 bytes: uint32 r little-endian, then uint32 c little-endian,
//                r = index along the first dimension of the virtual shape,
//                c = row-major index over the remaining dimensions (0 for 1-D)
//   h          = XXH32(key, bucket_seed)
//   bucket     = (uint64(h) * K) >> 32          (multiply-shift range reduction)
//   s          = XXH32(key, sign_seed)
//   sign ξ     = +1 if the top bit of s is 0, else -1   (+1 when the weight is unsigned)
//
// Block hashing (xxh32-block, format 1.1; docs/FORMAT.md, "Block hashing"):
// columns go in blocks of Z, b = floor(c / Z), o = c mod Z, and one hash pair
// per block serves its Z weights:
//   start      = (uint64(XXH32(key(r, b), bucket_seed)) * K) >> 32
//   bucket     = (start + o) mod K              (a circular run of Z buckets)
//   s          = XXH32(key(r, b), sign_seed)
//   p          = XXH32(4-byte key b, sign_seed), the column block's pattern
//   sign ξ     = σ · π: σ = -1 if the top bit of s is set (the block's sign),
//                π = -1 if o >= 1 and bit (31 - o) of p is set (the same in every row)
// With Z = 1 this is the per-element hash above, exactly.
//
// Aligned block hashing (xxh32-aligned-block, format 1.2; docs/FORMAT.md,
// "Aligned block hashing"): the same blocks and pattern, Z a multiple of 4 up
// to 64, and
//   h          = XXH32(key(r, b), bucket_seed)
//   start      = 4 * ((uint64(h) * floor(K / 4)) >> 32)   (a multiple of 4)
//   σ          = -1 if bit 0 of h is set (the block's sign, from the bucket hash)
//   π          = offset o = 32j + q takes bit (31 - q) of the pattern p_j (q >= 1),
//                p_0 = p, p_1 = XXH32(4-byte key b + 2^31, sign_seed)
// so a reader's 16-byte loads of float32 runs never straddle a cache line, and
// one hash per block serves both the start and the sign (and, at Z = 64, two
// halves of 32 columns).

import type { HashSpec } from './model.js';

const PRIME1 = 0x9e3779b1;
const PRIME2 = 0x85ebca77;
const PRIME3 = 0xc2b2ae3d;
const PRIME4 = 0x27d4eb2f;
const PRIME5 = 0x165667b1;

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));

function round(acc: number, lane: number): number {
  acc = (acc + Math.imul(lane, PRIME2)) | 0;
  return Math.imul(rotl(acc, 13), PRIME1);
}

function avalanche(h: number): number {
  h ^= h >>> 15;
  h = Math.imul(h, PRIME2);
  h ^= h >>> 13;
  h = Math.imul(h, PRIME3);
  h ^= h >>> 16;
  return h >>> 0;
}

/** XXH32 of arbitrary bytes (the reference algorithm, used for tests and digests). */
export function xxh32(bytes: Uint8Array, seed = 0): number {
  const len = bytes.length;
  const read32 = (i: number): number =>
    bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
  let i = 0;
  let h: number;
  if (len >= 16) {
    let v1 = (seed + PRIME1 + PRIME2) | 0;
    let v2 = (seed + PRIME2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - PRIME1) | 0;
    for (; i + 16 <= len; i += 16) {
      v1 = round(v1, read32(i));
      v2 = round(v2, read32(i + 4));
      v3 = round(v3, read32(i + 8));
      v4 = round(v4, read32(i + 12));
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + PRIME5) | 0;
  }
  h = (h + len) | 0;
  for (; i + 4 <= len; i += 4) {
    h = (h + Math.imul(read32(i), PRIME3)) | 0;
    h = Math.imul(rotl(h, 17), PRIME4);
  }
  for (; i < len; i++) {
    h = (h + Math.imul(bytes[i], PRIME5)) | 0;
    h = Math.imul(rotl(h, 11), PRIME1);
  }
  return avalanche(h);
}

/**
 * XXH32 of the 8-byte key (r, c), split in two so that the row's part is
 * computed once per row: xxh32Key(r, c, seed) === keyFinish(keyRowState(r, seed), c).
 */
export function keyRowState(row: number, seed: number): number {
  let h = (seed + PRIME5 + 8) | 0;
  h = (h + Math.imul(row, PRIME3)) | 0;
  return Math.imul(rotl(h, 17), PRIME4);
}

export function keyFinish(rowState: number, col: number): number {
  let h = (rowState + Math.imul(col, PRIME3)) | 0;
  h = Math.imul(rotl(h, 17), PRIME4);
  return avalanche(h);
}

/** XXH32 of the key (r, c) with the given seed. */
export function xxh32Key(row: number, col: number, seed: number): number {
  return keyFinish(keyRowState(row, seed), col);
}

/** floor(h * K / 2^32), exactly, for uint32 h and 1 <= K < 2^32. */
export function bucketOf(h: number, bucketCount: number): number {
  const low = (h & 0xffff) * bucketCount; // < 2^48, exact
  const high = (h >>> 16) * bucketCount + Math.floor(low / 65536); // < 2^49, exact
  return Math.floor(high / 65536);
}

/** The sign ξ of a sign hash: +1 when its top bit is clear, else -1. */
export function signOf(s: number): 1 | -1 {
  return s >>> 31 ? -1 : 1;
}

/** Rows and columns of a virtual shape under the key layout above. */
export function keyGrid(shape: readonly number[]): { rows: number; cols: number } {
  let cols = 1;
  for (let i = 1; i < shape.length; i++) cols *= shape[i];
  return { rows: shape.length === 0 ? 1 : shape[0], cols };
}

/** The largest xxh32-block: one 32-bit pattern gives one sign bit per offset of a block. */
export const MAX_BLOCK = 32;

/** The largest xxh32-aligned-block: two halves of 32 offsets share one hash, each half with its own pattern. */
export const MAX_ALIGNED_BLOCK = 64;

/** Columns per hash of a spec: its block Z, 1 for per-element xxh32. */
export function blockOf(hash: HashSpec): number {
  return hash.algorithm === 'xxh32' ? 1 : hash.block;
}

/** xxh32-aligned-block: run starts are multiples of RUN_ALIGN buckets, and Z is one too. */
export const RUN_ALIGN = 4;

/**
 * The start of block (r, b)'s run from its bucket hash h: multiply-shift over
 * K, or for xxh32-aligned-block over the floor(K / 4) whole quads of buckets,
 * times 4 (0 when K < 4).
 */
export function runStartOf(hash: HashSpec, h: number, bucketCount: number): number {
  if (hash.algorithm !== 'xxh32-aligned-block') return bucketOf(h, bucketCount);
  const quads = Math.floor(bucketCount / RUN_ALIGN);
  return quads === 0 ? 0 : RUN_ALIGN * bucketOf(h, quads);
}

/**
 * The sign σ of block (r, b) as the bit that blockSignOf reads (bit 31): the
 * top bit of the block's sign hash, finished from the row's sign state
 * (keyRowState(r, sign_seed)), or for xxh32-aligned-block bit 0 of the bucket
 * hash h, with no sign hash computed.
 */
export function blockSignBits(hash: HashSpec, h: number, signRowState: number, block: number): number {
  return hash.algorithm === 'xxh32-aligned-block' ? (h << 31) >>> 0 : keyFinish(signRowState, block);
}

/** Bucket of offset o (0 <= o < Z) in the run that starts at bucket `start` of K: the run wraps around. */
export function runBucket(start: number, offset: number, bucketCount: number): number {
  return (start + offset) % bucketCount;
}

/**
 * The sign pattern of column block b: XXH32 of the 4-byte key b (its length
 * sets it apart from every 8-byte key) with the sign seed. It is the same in
 * every row, so a reader can apply it to x once per call.
 */
export function columnPatternOf(block: number, signSeed: number): number {
  let h = (signSeed + PRIME5 + 4) | 0;
  h = (h + Math.imul(block, PRIME3)) | 0;
  h = Math.imul(rotl(h, 17), PRIME4);
  return avalanche(h);
}

/**
 * The pattern of the 32 offsets from 32·half on in column block b: p for
 * half 0, and for half 1 (an xxh32-aligned-block wider than 32) the pattern
 * of the 4-byte key b + 2^31, which no block index reaches.
 */
export function halfPatternOf(block: number, half: number, signSeed: number): number {
  return columnPatternOf(half === 0 ? block : (block + 0x80000000) >>> 0, signSeed);
}

/**
 * The sign ξ of offset o of block (r, b): the block's sign, the top bit of
 * its sign hash s, times the column block's pattern p at offset o, bit 31 - o
 * of p for o >= 1 (offset 0 takes the block's sign alone, so Z = 1 is per-element xxh32).
 * For an aligned block wider than 32, callers pass the half's pattern
 * (halfPatternOf) and the offset within the half, o mod 32.
 */
export function blockSignOf(s: number, pattern: number, offset: number): 1 | -1 {
  return (s ^ ((pattern & 0x7fffffff) << offset)) >>> 31 ? -1 : 1;
}

/**
 * Bucket and sign of the single virtual element (r, c), straight from the
 * spec (no per-row state): the naive twin that the fast loops are tested against.
 */
export function hashOfElement(hash: HashSpec, bucketCount: number, row: number, col: number): { bucket: number; sign: 1 | -1 } {
  const z = blockOf(hash);
  const block = Math.floor(col / z);
  const offset = col % z;
  const h = xxh32Key(row, block, hash.bucketSeed);
  const start = runStartOf(hash, h, bucketCount);
  // offset o = 32·half + q: each half of 32 offsets has its own pattern (only an aligned block reaches half 1)
  const half = offset >> 5;
  const sign = hash.signSeed === null ? 1
    : blockSignOf(blockSignBits(hash, h, keyRowState(row, hash.signSeed), block), halfPatternOf(block, half, hash.signSeed), offset & 31);
  return { bucket: runBucket(start, offset, bucketCount), sign };
}

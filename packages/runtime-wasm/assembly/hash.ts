// The hash spec of packages/format/src/hash.ts, bit for bit:
//   h = XXH32(key(r, c), seed) with the 8-byte key [u32 r LE, u32 c LE],
//   bucket = (u64(h) * K) >> 32, sign = top bit of XXH32(key, sign_seed).
// The row's half of the key is hashed once per row (keyRowState); the
// column's half (keyFinish) runs per element, four columns at a time in SIMD.
// xxh32-block hashes the key (r, b) of each block of Z columns with the same
// functions (kernels.ts: blockLoop; blockGemv hashes four rows at a time,
// keyRowState4), and the block's sign is the top bit of its sign hash.
// xxh32-aligned-block (1.2) takes the same bucket hash h of (r, b), starts
// the run at 4 · bucketOf(h, K / 4) and takes the block's sign from bit 0 of h;
// offsets 32..63 of its blocks take the pattern of the key b + 2^31 (kernels.ts, blockPattern).

const PRIME1: u32 = 0x9e3779b1;
const PRIME2: u32 = 0x85ebca77;
export const PRIME3: u32 = 0xc2b2ae3d;
const PRIME4: u32 = 0x27d4eb2f;
const PRIME5: u32 = 0x165667b1;

// @ts-ignore: decorator
@inline function avalanche(h: u32): u32 {
  h ^= h >> 15;
  h *= PRIME2;
  h ^= h >> 13;
  h *= PRIME3;
  h ^= h >> 16;
  return h;
}

/** The state after the first 4 key bytes (the row). */
export function keyRowState(row: u32, seed: u32): u32 {
  let h = seed + PRIME5 + 8;
  h += row * PRIME3;
  return rotl<u32>(h, 17) * PRIME4;
}

/**
 * XXH32 of the 4-byte key b with the sign seed: column block b's sign
 * pattern (format's columnPatternOf), the same in every row.
 */
export function columnPattern(block: u32, seed: u32): u32 {
  let h = seed + PRIME5 + 4;
  h += block * PRIME3;
  return avalanche(rotl<u32>(h, 17) * PRIME4);
}

/** keyRowState for four rows at once (one per lane). */
// @ts-ignore: decorator
@inline export function keyRowState4(rows: v128, seed: u32): v128 {
  const h = i32x4.add(i32x4.splat(seed + PRIME5 + 8), i32x4.mul(rows, i32x4.splat(PRIME3)));
  return i32x4.mul(rotl4(h, 17), i32x4.splat(PRIME4));
}

/** The hash of key (row, col) from the row's state. */
// @ts-ignore: decorator
@inline export function keyFinish(rowState: u32, col: u32): u32 {
  let h = rowState + col * PRIME3;
  h = rotl<u32>(h, 17) * PRIME4;
  return avalanche(h);
}

/** floor(h * K / 2^32). */
// @ts-ignore: decorator
@inline export function bucketOf(h: u32, count: u32): u32 {
  return <u32>((<u64>h * <u64>count) >> 32);
}

/**
 * The start of a block's run from its bucket hash h: bucketOf over K, or
 * for xxh32-aligned-block 4 · bucketOf over the K / 4 whole quads (0 when K < 4).
 */
// @ts-ignore: decorator
@inline export function runStart(h: u32, count: u32, aligned: bool): u32 {
  return aligned ? bucketOf(h, count >> 2) << 2 : bucketOf(h, count);
}

/** xxh32-aligned-block's sign mask of a block from its bucket hash h: bit 0 moved to the float sign bit. */
// @ts-ignore: decorator
@inline export function alignedSignMask(h: u32): u32 {
  return h << 31;
}

// @ts-ignore: decorator
@inline function rotl4(x: v128, r: i32): v128 {
  return v128.or(i32x4.shl(x, r), i32x4.shr_u(x, 32 - r));
}

/**
 * keyFinish for four columns at once, given colTimesPrime3 = cols · PRIME3
 * (callers step it by adding 4 · PRIME3, and share it between the bucket and
 * the sign hash: one multiply fewer per hash).
 */
// @ts-ignore: decorator
@inline export function keyFinish4(rowState: v128, colTimesPrime3: v128): v128 {
  const h = keySignBits4(rowState, colTimesPrime3); // all of XXH32 but its last step
  return v128.xor(h, i32x4.shr_u(h, 16));
}

/** bucketOf for four hashes: the high halves of the four u64 products. */
// @ts-ignore: decorator
@inline export function bucketOf4(h: v128, count: v128): v128 {
  const lo = i64x2.extmul_low_i32x4_u(h, count);  // lanes 0, 1 as u64
  const hi = i64x2.extmul_high_i32x4_u(h, count); // lanes 2, 3 as u64
  return i32x4.shuffle(lo, hi, 1, 3, 5, 7);       // the high 32 bits of each
}

/**
 * The sign bit of keyFinish4 for four columns, in each lane's top bit: the
 * last avalanche step (h ^= h >> 16) never changes the top bit, so it is
 * skipped. The other bits are not the hash: mask with 0x80000000.
 */
// @ts-ignore: decorator
@inline export function keySignBits4(rowState: v128, colTimesPrime3: v128): v128 {
  let h = i32x4.add(rowState, colTimesPrime3);
  h = i32x4.mul(rotl4(h, 17), i32x4.splat(PRIME4));
  h = v128.xor(h, i32x4.shr_u(h, 15));
  h = i32x4.mul(h, i32x4.splat(PRIME2));
  h = v128.xor(h, i32x4.shr_u(h, 13));
  return i32x4.mul(h, i32x4.splat(PRIME3));
}

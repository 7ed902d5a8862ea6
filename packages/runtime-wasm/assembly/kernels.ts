// Compute kernels. Pointers are byte addresses of f32 data in linear memory;
// callers (runtime.ts) have checked every size against the arena plan, so the
// loops use raw load/store. Layout is NCHW; shapes are noted at each kernel.

import { Weight, DT_FLOAT32, DT_FLOAT16, DT_INT8, DT_INT4, MAX_BLOCK } from "./model";
import { MatMulPlan } from "./layout";
import { PRIME3, alignedSignMask, bucketOf, bucketOf4, columnPattern, keyFinish, keyFinish4, keyRowState, keyRowState4, keySignBits4, runStart } from "./hash";

// ---- Stored values ----------------------------------------------------------

/** The f32 value of an IEEE binary16 bit pattern (exact). */
// @ts-ignore: decorator
@inline export function float16ToF32(bits: u32): f32 {
  const sign = (bits & 0x8000) << 16;
  const exp = (bits >> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp == 0) { // zero or subnormal: mant * 2^-24
    const v = <f32>mant * 5.9604644775390625e-8;
    return reinterpret<f32>(reinterpret<u32>(v) | sign);
  }
  if (exp == 0x1f) return reinterpret<f32>(sign | 0x7f800000 | (mant << 13)); // Inf or NaN
  return reinterpret<f32>(sign | ((exp + 112) << 23) | (mant << 13));
}

/** Stored value k of a weight whose bytes start at `src`. */
// @ts-ignore: decorator
@inline export function storedValue(src: usize, dtype: i32, scale: f32, k: u32): f32 {
  if (dtype == DT_FLOAT32) return load<f32>(src + (<usize>k << 2));
  if (dtype == DT_FLOAT16) return float16ToF32(<u32>load<u16>(src + (<usize>k << 1)));
  if (dtype == DT_INT8) return scale * <f32>load<i8>(src + <usize>k);
  return scale * <f32>((<i32>nibbleAt(src, k) << 28) >> 28); // int4: the nibble sign-extended from bit 3
}

/** Nibble k of int4 storage, 0..15: the low nibble of byte k / 2 for an even k, the high one for an odd k. */
// @ts-ignore: decorator
@inline export function nibbleAt(p: usize, k: u32): u8 {
  return (load<u8>(p + (<usize>k >> 1)) >> (<u8>(k & 1) << 2)) & 0xf;
}

// ---- Virtual weights ---------------------------------------------------------

/** Four stored values at the bucket indices in k, decoded to f32 (wasm has no gather). */
// @ts-ignore: decorator
@inline function gather4(src: usize, dtype: i32, scale: f32, k: v128): v128 {
  if (dtype == DT_FLOAT32) {
    const byteOffsets = i32x4.shl(k, 2);
    let v = v128.load32_zero(src + <usize>i32x4.extract_lane(byteOffsets, 0));
    v = v128.load32_lane(src + <usize>i32x4.extract_lane(byteOffsets, 1), v, 1);
    v = v128.load32_lane(src + <usize>i32x4.extract_lane(byteOffsets, 2), v, 2);
    return v128.load32_lane(src + <usize>i32x4.extract_lane(byteOffsets, 3), v, 3);
  }
  if (dtype == DT_FLOAT16) {
    // the four halves into the low 16 bits of each i32 lane, then decoded in SIMD
    const byteOffsets = i32x4.shl(k, 1);
    let h = v128.load16_lane(src + <usize>i32x4.extract_lane(byteOffsets, 0), i32x4.splat(0), 0);
    h = v128.load16_lane(src + <usize>i32x4.extract_lane(byteOffsets, 1), h, 2);
    h = v128.load16_lane(src + <usize>i32x4.extract_lane(byteOffsets, 2), h, 4);
    h = v128.load16_lane(src + <usize>i32x4.extract_lane(byteOffsets, 3), h, 6);
    return float16x4ToF32(h);
  }
  if (dtype == DT_INT4) {
    // the byte holding each nibble into the low 8 bits of its lane; even k keeps bits 0..3, odd k bits 4..7
    const byteIndex = i32x4.shr_u(k, 1);
    let b = v128.load8_lane(src + <usize>i32x4.extract_lane(byteIndex, 0), i32x4.splat(0), 0);
    b = v128.load8_lane(src + <usize>i32x4.extract_lane(byteIndex, 1), b, 4);
    b = v128.load8_lane(src + <usize>i32x4.extract_lane(byteIndex, 2), b, 8);
    b = v128.load8_lane(src + <usize>i32x4.extract_lane(byteIndex, 3), b, 12);
    const low = i32x4.shr_s(i32x4.shl(b, 28), 28);
    const high = i32x4.shr_s(i32x4.shl(b, 24), 28);
    const odd = i32x4.eq(v128.and(k, i32x4.splat(1)), i32x4.splat(1));
    return f32x4.mul(f32x4.splat(scale), f32x4.convert_i32x4_s(v128.bitselect(high, low, odd)));
  }
  // int8: the four bytes into the low 8 bits of each lane, sign-extended, times the scale
  let q = v128.load8_lane(src + <usize>i32x4.extract_lane(k, 0), i32x4.splat(0), 0);
  q = v128.load8_lane(src + <usize>i32x4.extract_lane(k, 1), q, 4);
  q = v128.load8_lane(src + <usize>i32x4.extract_lane(k, 2), q, 8);
  q = v128.load8_lane(src + <usize>i32x4.extract_lane(k, 3), q, 12);
  q = i32x4.shr_s(i32x4.shl(q, 24), 24);
  return f32x4.mul(f32x4.splat(scale), f32x4.convert_i32x4_s(q));
}

/**
 * float16ToF32 for four binary16 patterns (one per i32 lane), exactly: the
 * exponent and mantissa bits shifted into f32 position and scaled by 2^112
 * rebias normals and subnormals alike; Inf/NaN get the f32 all-ones exponent.
 */
// @ts-ignore: decorator
@inline export function float16x4ToF32(h: v128): v128 {
  const magnitude = i32x4.shl(v128.and(h, i32x4.splat(0x7fff)), 13);
  let f = f32x4.mul(magnitude, f32x4.splat(reinterpret<f32>(0x77800000))); // · 2^112
  const special = i32x4.eq(v128.and(h, i32x4.splat(0x7c00)), i32x4.splat(0x7c00));
  f = v128.or(f, v128.and(special, i32x4.splat(0x7f800000)));
  return v128.or(f, i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16));
}

/**
 * Writes row r of a hashed weight's virtual tensor to dst (w.cols floats):
 * dst[c] = ξ(r, c) · stored[h(r, c)]. The one place where buckets become
 * weights: materialized mode calls it for every row at load, streaming mode
 * for each tile of rows during the matmul/conv.
 */
export function expandRow(w: Weight, src: usize, r: i32, dst: usize): void {
  if (naiveExpand) { expandRowNaive(w, src, r, dst); return; }
  if (w.block > 1) { expandBlockRow(w, src, r, dst); return; } // Z = 1 is the per-element map: the loop below
  // One loop, specialised per dtype and sign by constant arguments (inlined,
  // so the per-element branches on them fold away).
  const signed = w.signed;
  switch (w.dtype) {
    case DT_FLOAT32:
      if (signed) expandLoop(w, src, r, dst, DT_FLOAT32, true); else expandLoop(w, src, r, dst, DT_FLOAT32, false);
      break;
    case DT_FLOAT16:
      if (signed) expandLoop(w, src, r, dst, DT_FLOAT16, true); else expandLoop(w, src, r, dst, DT_FLOAT16, false);
      break;
    case DT_INT8:
      if (signed) expandLoop(w, src, r, dst, DT_INT8, true); else expandLoop(w, src, r, dst, DT_INT8, false);
      break;
    default:
      if (signed) expandLoop(w, src, r, dst, DT_INT4, true); else expandLoop(w, src, r, dst, DT_INT4, false);
  }
}

// @ts-ignore: decorator
@inline function expandLoop(w: Weight, src: usize, r: i32, dst: usize, dtype: i32, signed: bool): void {
  const cols = w.cols;
  const count = w.count;
  const scale = w.scale;
  const bucketRow = keyRowState(<u32>r, w.bucketSeed);
  const signRow = keyRowState(<u32>r, w.signSeed);
  // Four columns per step: the row's half of the key is hashed once above,
  // the column's half here in SIMD; the sign flips the float's sign bit.
  const bucketRow4 = i32x4.splat(bucketRow);
  const signRow4 = i32x4.splat(signRow);
  const count4 = i32x4.splat(count);
  const signMask = i32x4.splat(0x80000000);
  let colsP3 = i32x4(0, PRIME3, 2 * PRIME3, 3 * PRIME3); // [c, c+1, c+2, c+3] · PRIME3
  const step = i32x4.splat(4 * PRIME3);
  let c = 0;
  // Two independent groups per step keep more multiplies in flight.
  const step2 = i32x4.splat(8 * PRIME3);
  for (; c + 8 <= cols; c += 8) {
    const colsP3b = i32x4.add(colsP3, step);
    const k0 = bucketOf4(keyFinish4(bucketRow4, colsP3), count4);
    const k1 = bucketOf4(keyFinish4(bucketRow4, colsP3b), count4);
    let v0 = gather4(src, dtype, scale, k0);
    let v1 = gather4(src, dtype, scale, k1);
    if (signed) {
      v0 = v128.xor(v0, v128.and(keySignBits4(signRow4, colsP3), signMask));
      v1 = v128.xor(v1, v128.and(keySignBits4(signRow4, colsP3b), signMask));
    }
    v128.store(dst + (<usize>c << 2), v0);
    v128.store(dst + (<usize>c << 2) + 16, v1);
    colsP3 = i32x4.add(colsP3, step2);
  }
  for (; c + 4 <= cols; c += 4) {
    let v = gather4(src, dtype, scale, bucketOf4(keyFinish4(bucketRow4, colsP3), count4));
    if (signed) v = v128.xor(v, v128.and(keySignBits4(signRow4, colsP3), signMask));
    v128.store(dst + (<usize>c << 2), v);
    colsP3 = i32x4.add(colsP3, step);
  }
  for (; c < cols; c++) {
    let v = storedValue(src, dtype, scale, bucketOf(keyFinish(bucketRow, <u32>c), count));
    if (signed && (keyFinish(signRow, <u32>c) >> 31) != 0) v = -v;
    store<f32>(dst + (<usize>c << 2), v);
  }
}

/** Use expandRowNaive instead (runtime.ts's setNaiveKernels switches it with the other naive kernels). */
let naiveExpand = false;
export function setNaiveExpand(on: bool): void { naiveExpand = on; }

/**
 * Naive twin of expandRow, straight from the hash spec, one element at a
 * time: the two hashes of the element's block b = c / Z, the bucket
 * (start + o) mod K, and the sign: the block's (the top bit of its sign
 * hash) times bit 31 - o of the column block's pattern for o >= 1
 * (per-element xxh32 is Z = 1). xxh32-aligned-block: the start 4 ·
 * ⌊h · ⌊K/4⌋ / 2^32⌋, the block's sign bit 0 of the bucket hash h, and
 * offsets 32..63 signed by the pattern of the key b + 2^31.
 */
export function expandRowNaive(w: Weight, src: usize, r: i32, dst: usize): void {
  const z = w.block;
  for (let c = 0; c < w.cols; c++) {
    const block = <u32>(c / z);
    const offset = <u32>(c % z);
    const h = keyFinish(keyRowState(<u32>r, w.bucketSeed), block);
    const start = w.aligned ? 4 * bucketOf(h, w.count / 4) : bucketOf(h, w.count);
    let v = storedValue(src, w.dtype, w.scale, <u32>((<u64>start + <u64>offset) % <u64>w.count));
    // offset o = 32·half + q: each half of 32 offsets has its pattern, whose top bit is cleared (q = 0 takes the block's sign alone)
    const half = offset >> 5;
    const pattern = columnPattern(half == 0 ? block : block + 0x80000000, w.signSeed) & 0x7fffffff;
    const blockSign = w.aligned ? (h & 1) << 31 : keyFinish(keyRowState(<u32>r, w.signSeed), block);
    if (w.signed && ((blockSign ^ (pattern << (offset & 31))) >> 31) != 0) v = -v;
    store<f32>(dst + (<usize>c << 2), v);
  }
}

/** Four consecutive stored values from bucket k on, decoded to f32: a block's run is contiguous, so plain loads. */
// @ts-ignore: decorator
@inline function load4(src: usize, dtype: i32, scale: f32, k: u32): v128 {
  if (dtype == DT_FLOAT32) return v128.load(src + (<usize>k << 2));
  if (dtype == DT_FLOAT16) return float16x4ToF32(i32x4.extend_low_i16x8_u(v128.load64_zero(src + (<usize>k << 1))));
  if (dtype == DT_INT4) { // a run may start on either nibble of a byte: one value at a time
    return f32x4(storedValue(src, dtype, scale, k), storedValue(src, dtype, scale, k + 1), storedValue(src, dtype, scale, k + 2), storedValue(src, dtype, scale, k + 3));
  }
  const q = i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v128.load32_zero(src + <usize>k)));
  return f32x4.mul(f32x4.splat(scale), f32x4.convert_i32x4_s(q));
}

/** The xor mask of a block's sign: the float sign bit when the top bit of its sign hash s is set. */
// @ts-ignore: decorator
@inline function blockSignMask(s: u32): u32 {
  return s & 0x80000000;
}

/**
 * Column block b's pattern p_half for its offsets 32·half .. 32·half + 31,
 * its top bit cleared: offsets 0 and 32 take the block's sign alone. Half 1
 * (an xxh32-aligned-block wider than 32) is the pattern of the key b + 2^31.
 */
// @ts-ignore: decorator
@inline function blockPattern(w: Weight, block: u32, half: u32): u32 {
  return columnPattern(half == 0 ? block : block + 0x80000000, w.signSeed) & 0x7fffffff;
}

/**
 * The pattern as lane bits: lane j of the result holds p << j, whose top bit
 * is the pattern's sign of offset j (bit 31 - j of p); shifted left by o it
 * serves offsets o .. o + 3.
 */
// @ts-ignore: decorator
@inline function patternBits(pattern: u32): v128 {
  return i32x4.mul(i32x4.splat(pattern), i32x4(1, 2, 4, 8));
}

/** The float sign bits of offsets o .. o + 3 in the pattern's lane bits (patternBits). */
// @ts-ignore: decorator
@inline function patternSigns(bits: v128, o: i32): v128 {
  return v128.and(i32x4.shl(bits, o), i32x4.splat(0x80000000));
}

/** Values o .. o + 15 of a block's run, from 16 stored integers q in element order: scaled, signed and stored at out. */
// @ts-ignore: decorator
@inline function storeRun16(q: v128, scale4: v128, mask4: v128, bits: v128, o: i32, out: usize): void {
  v128.store(out + (<usize>o << 2), v128.xor(f32x4.mul(scale4, int8Quad(q, 0)), v128.xor(mask4, patternSigns(bits, o))));
  v128.store(out + (<usize>o << 2), v128.xor(f32x4.mul(scale4, int8Quad(q, 1)), v128.xor(mask4, patternSigns(bits, o + 4))), 16);
  v128.store(out + (<usize>o << 2), v128.xor(f32x4.mul(scale4, int8Quad(q, 2)), v128.xor(mask4, patternSigns(bits, o + 8))), 32);
  v128.store(out + (<usize>o << 2), v128.xor(f32x4.mul(scale4, int8Quad(q, 3)), v128.xor(mask4, patternSigns(bits, o + 12))), 48);
}

/** expandRow for the block hashes with Z > 1: one hash (pair) per block, its run read four buckets at a time. */
function expandBlockRow(w: Weight, src: usize, r: i32, dst: usize): void {
  switch (w.dtype) {
    case DT_FLOAT32: blockLoop(w, src, r, dst, DT_FLOAT32); break;
    case DT_FLOAT16: blockLoop(w, src, r, dst, DT_FLOAT16); break;
    case DT_INT4: blockLoop(w, src, r, dst, DT_INT4); break;
    default: blockLoop(w, src, r, dst, DT_INT8);
  }
}

// @ts-ignore: decorator
@inline function blockLoop(w: Weight, src: usize, r: i32, dst: usize, dtype: i32): void {
  const cols = w.cols;
  const z = w.block;
  const count = w.count;
  const scale = w.scale;
  const bucketRow = keyRowState(<u32>r, w.bucketSeed);
  const signRow = keyRowState(<u32>r, w.signSeed);
  const aligned = w.aligned;
  // the streaming copy repeats its first buckets after the last (runPad); the file's bytes do not
  const padded = src == w.stored;
  const reach = count + (padded ? runPad(w) : 0);
  const scale4 = f32x4.splat(scale);
  for (let b = 0, c0 = 0; c0 < cols; b++, c0 += z) {
    const h = keyFinish(bucketRow, <u32>b);
    const blockStart = runStart(h, count, aligned);
    const mask: u32 = !w.signed ? 0 : aligned ? alignedSignMask(h) : blockSignMask(keyFinish(signRow, <u32>b));
    const mask4 = i32x4.splat(mask);
    const blockLen = min(z, cols - c0);
    // a block of up to 32 columns is one half; an aligned block of 64, two, each with its pattern
    for (let half: u32 = 0; <i32>(half << 5) < blockLen; half++) {
      const start = blockStart + (half << 5); // may pass K − 1: read mod K below, or from the repeated buckets
      const len = min(32, blockLen - <i32>(half << 5));
      const pattern: u32 = w.signed ? blockPattern(w, <u32>b, half) : 0;
      const bits = patternBits(pattern);
      const out = dst + (<usize>(c0 + <i32>(half << 5)) << 2);
      let o = 0;
      if (dtype == DT_INT4 && padded && (len == 32 || len == 16)) { // the run in SIMD, as blockGemv reads it
        const bytes = int4Bytes(src, start);
        storeRun16(int4Half(bytes, 0), scale4, mask4, bits, 0, out);
        if (len == 32) storeRun16(int4Half(bytes, 1), scale4, mask4, bits, 16, out);
        continue;
      }
      // offsets before the run wraps past bucket K - 1 (or past the repeated ones)
      const contiguous = start >= reach ? 0 : <i32>min<u32>(<u32>len, reach - start);
      for (; o + 4 <= contiguous; o += 4) {
        v128.store(out + (<usize>o << 2), v128.xor(load4(src, dtype, scale, start + <u32>o), v128.xor(mask4, patternSigns(bits, o))));
      }
      for (; o < len; o++) { // the block's tail, and a run that wraps
        const v = storedValue(src, dtype, scale, <u32>((<u64>start + <u64>o) % <u64>count));
        store<u32>(out + (<usize>o << 2), reinterpret<u32>(v) ^ ((mask ^ (pattern << <u32>o)) & 0x80000000));
      }
    }
  }
}

/**
 * Buckets repeated after bucket K − 1 in a streaming copy (bucket K + i is
 * bucket i mod K), so that blockGemv reads a run of Z buckets straight on
 * from any start without testing for the wrap: Z − 1 (at most 252 bytes,
 * Z = 64); for int4, whose runs are read as 16-byte loads from the run's
 * byte and the next (int4Bytes), 34 nibbles past the start of a run's last
 * half of 32 (66 at Z = 64). None for per-element hashing.
 */
export function runPad(w: Weight): u32 {
  if (w.block <= 1) return 0;
  return w.dtype == DT_INT4 ? (w.block > 32 ? <u32>w.block - 32 : 0) + INT4_RUN_PAD : w.block - 1;
}

/** The int4 loads read 17 bytes at most from a half's first byte: 32 + 2 nibbles beyond the half's start. */
const INT4_RUN_PAD: u32 = 34;

/**
 * The streaming Dense at batch 1 for xxh32-block, fused: y[m] = Σ_c x[c] ·
 * V[m, c] + bias[m], each block's run of buckets read in place and multiplied
 * into x without building a weight row. It goes block by block, and within a
 * block row by row: the block's slice of x stays in registers, the rows'
 * hash pairs for the block are computed first, four rows at a time in SIMD,
 * and each row keeps a four-lane partial sum in scratch (blockGemvScratchBytes:
 * 32 bytes per row). A run is read without a test for its wrap past bucket
 * K − 1: the streaming copy repeats the first buckets (runPad); blocks of 32
 * and 16 have their own loops, with x's slice in registers. ξ = σ · π: the
 * column block's pattern π is the same in every row, so it is applied to x's
 * slice once per block, and the block's sign σ flips a row's whole partial
 * dot product, one xor per Z weights. xxh32-aligned-block takes the start
 * and σ from one hash, and stores the start in quads (a vector shift fewer
 * per four rows; the row loop shifts it back in a scalar register); its
 * blocks of 64 go as two halves of 32 columns that share the block's hash,
 * each with its own pattern. Its naive twin is expandRowNaive then
 * gemmNaive (hnet_set_naive).
 */
export function blockGemv(w: Weight, x: usize, y: usize, bias: usize, scratch: usize): void {
  switch (w.dtype) {
    case DT_FLOAT32: blockGemvLoop(w, x, y, bias, scratch, DT_FLOAT32); break;
    case DT_FLOAT16: blockGemvLoop(w, x, y, bias, scratch, DT_FLOAT16); break;
    case DT_INT4: blockGemvLoop(w, x, y, bias, scratch, DT_INT4); break;
    default: blockGemvLoop(w, x, y, bias, scratch, DT_INT8);
  }
}

/** Rows rounded up to a multiple of 4 (the SIMD hashing's groups). */
// @ts-ignore: decorator
@inline function rows4(w: Weight): i32 {
  return (w.rows + 3) & ~3;
}

/**
 * Bytes of blockGemv's scratch for a block-hashed weight, per row (rounded
 * up to 4 rows): the partial sum (16 bytes), the row's two key states, and
 * the current block's run start and sign mask (4 bytes each); then the
 * block's patterned slice of x, and addBlock32's fence (16 bytes).
 */
export function blockGemvScratchBytes(w: Weight): i32 {
  return w.block <= 1 ? 0 : (rows4(w) << 5) + (<i32>MAX_BLOCK << 2) + 16;
}

/** dst[o] = x[o] with the sign of bit 31 - o of the pattern p (blockPattern), o < len. */
// @ts-ignore: decorator
@inline function patternSlice(x: usize, len: i32, p: u32, dst: usize): void {
  const bits = patternBits(p);
  let o = 0;
  for (; o + 4 <= len; o += 4) {
    v128.store(dst + (<usize>o << 2), v128.xor(v128.load(x + (<usize>o << 2)), patternSigns(bits, o)));
  }
  for (; o < len; o++) store<u32>(dst + (<usize>o << 2), load<u32>(x + (<usize>o << 2)) ^ ((p << <u32>o) & 0x80000000));
}

/**
 * Σ over one block's run of x[o] · stored[start + o], o < len, as four lanes
 * (the sum of the lanes is the dot product): quads straight off the bucket
 * array until the run passes `reach` (the values readable in a row: K, or
 * K + runPad in a streaming copy) or the block ends, then
 * one value at a time (into lane 0), wrapped mod K.
 */
// @ts-ignore: decorator
@inline function runDot(src: usize, dtype: i32, scale: f32, count: u32, reach: u32, start: u32, x: usize, len: i32): v128 {
  const contiguous = <i32>min<u32>(<u32>len, reach - start);
  // two partial sums: a chain of dependent adds through one would bound the loop by add latency
  let part0 = f32x4.splat(0), part1 = f32x4.splat(0);
  let o = 0;
  for (; o + 8 <= contiguous; o += 8) {
    part0 = fma(part0, v128.load(x + (<usize>o << 2)), load4(src, dtype, scale, start + <u32>o));
    part1 = fma(part1, v128.load(x + (<usize>o << 2) + 16), load4(src, dtype, scale, start + <u32>o + 4));
  }
  for (; o + 4 <= contiguous; o += 4) part0 = fma(part0, v128.load(x + (<usize>o << 2)), load4(src, dtype, scale, start + <u32>o));
  let tail: f32 = 0;
  for (; o < len; o++) tail += storedValue(src, dtype, scale, <u32>((<u64>start + <u64>o) % <u64>count)) * load<f32>(x + (<usize>o << 2));
  const sum = f32x4.add(part0, part1);
  return f32x4.replace_lane(sum, 0, f32x4.extract_lane(sum, 0) + tail);
}

/** Four stored values from the byte address p on, decoded to f32 (load4 with the address precomputed). */
// @ts-ignore: decorator
@inline function load4At(p: usize, dtype: i32, scale: f32): v128 {
  if (dtype == DT_FLOAT32) return v128.load(p);
  if (dtype == DT_FLOAT16) return float16x4ToF32(i32x4.extend_low_i16x8_u(v128.load64_zero(p)));
  const q = i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v128.load32_zero(p)));
  return f32x4.mul(f32x4.splat(scale), f32x4.convert_i32x4_s(q));
}

/** A block of 16 of one row: Σ of its 4 quads against x's 4 quads (in registers), as four lanes. */
// @ts-ignore: decorator
@inline function dot16(p: usize, quadBytes: usize, dtype: i32, scale: f32, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const a = fma(f32x4.mul(load4At(p, dtype, scale), x0), load4At(p + 2 * quadBytes, dtype, scale), x2);
  const b = fma(f32x4.mul(load4At(p + quadBytes, dtype, scale), x1), load4At(p + 3 * quadBytes, dtype, scale), x3);
  return f32x4.add(a, b);
}

/** Quads 0..3 of 16 int8 values (one SIMD load), as f32: the stored integers, unscaled. */
// @ts-ignore: decorator
@inline function int8Quad(q: v128, quad: i32): v128 {
  const half = quad < 2 ? i16x8.extend_low_i8x16_s(q) : i16x8.extend_high_i8x16_s(q);
  return f32x4.convert_i32x4_s((quad & 1) == 0 ? i32x4.extend_low_i16x8_s(half) : i32x4.extend_high_i16x8_s(half));
}

/**
 * The int4 run from nibble k on as int8 in element order, in two steps.
 * int4Bytes gives the 16 bytes that hold its 32 nibbles in element order, low
 * nibble first: for an even k, A (the 16 bytes from k's byte on); for an odd
 * k, byte i is A[i]'s high nibble then B[i]'s low one (B: the 16 bytes after
 * k's byte). int4Half splits them into values 0..15 (half 0) or 16..31
 * (half 1). Both use only 16-bit shifts and byte masks: V8 has no single x64
 * instruction for wasm's 8-bit shifts (five for an arithmetic one).
 */
// @ts-ignore: decorator
@inline function int4Bytes(src: usize, k: u32): v128 {
  const a = v128.load(src + (<usize>k >> 1)), b = v128.load(src + (<usize>k >> 1), 1);
  const straddling = v128.or(v128.and(i16x8.shr_u(a, 4), i8x16.splat(0x0f)), v128.and(i16x8.shl(b, 4), i8x16.splat(<i8>0xf0)));
  return v128.bitselect(straddling, a, oddMask(k));
}

// @ts-ignore: decorator
@inline function int4Half(bytes: v128, half: i32): v128 {
  // a nibble n as a signed value is (n ^ 8) − 8; one xor flips both nibbles of a byte
  const flipped = v128.xor(bytes, i8x16.splat(<i8>0x88));
  const low = i8x16.sub(v128.and(flipped, i8x16.splat(0x0f)), i8x16.splat(8));
  const high = i8x16.sub(v128.and(i16x8.shr_u(flipped, 4), i8x16.splat(0x0f)), i8x16.splat(8));
  return half == 0
    ? i8x16.shuffle(low, high, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23)
    : i8x16.shuffle(low, high, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
}

/**
 * int4Bytes, or when every run starts on an even nibble (xxh32-aligned-block:
 * starts are multiples of 4) the 16 bytes from k's byte as they are.
 */
// @ts-ignore: decorator
@inline function int4RunBytes(src: usize, k: u32, evenStarts: bool): v128 {
  return evenStarts ? v128.load(src + (<usize>k >> 1)) : int4Bytes(src, k);
}

/** The odd-k mask of int4Bytes: all ones when the run starts on a byte's high nibble. */
// @ts-ignore: decorator
@inline function oddMask(k: u32): v128 {
  return i8x16.splat(<i8>(0 - (k & 1)));
}

/** dot16 for 16 stored integers in element order (int8, or int4 through int4Half), unscaled: blockGemvLoop scales each row's sum once. */
// @ts-ignore: decorator
@inline function dot16Ints(q: v128, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const a = fma(f32x4.mul(int8Quad(q, 0), x0), int8Quad(q, 2), x2);
  const b = fma(f32x4.mul(int8Quad(q, 1), x1), int8Quad(q, 3), x3);
  return f32x4.add(a, b);
}

/** Σ of 32 stored integers in element order (q then r) against x's 8 quads, unscaled, as dot16Ints. */
// @ts-ignore: decorator
@inline function dot32Ints(q: v128, r: v128, x0: v128, x1: v128, x2: v128, x3: v128, x4: v128, x5: v128, x6: v128, x7: v128): v128 {
  let a = f32x4.mul(int8Quad(q, 0), x0);
  let b = f32x4.mul(int8Quad(q, 1), x1);
  a = fma(a, int8Quad(q, 2), x2);
  b = fma(b, int8Quad(q, 3), x3);
  a = fma(a, int8Quad(r, 0), x4);
  b = fma(b, int8Quad(r, 1), x5);
  a = fma(a, int8Quad(r, 2), x6);
  b = fma(b, int8Quad(r, 3), x7);
  return f32x4.add(a, b);
}

/**
 * A row's block of 16 from bucket `start` of its run: Σ against x's 4 quads
 * in registers, as four lanes; int8 and int4 unscaled (their stored
 * integers), float16 and float32 as values.
 */
// @ts-ignore: decorator
@inline function blockDot16(src: usize, start: u32, dtype: i32, evenStarts: bool, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  if (dtype == DT_INT4) return dot16Ints(int4Half(int4RunBytes(src, start, evenStarts), 0), x0, x1, x2, x3);
  if (dtype == DT_INT8) return dot16Ints(v128.load(src + <usize>start), x0, x1, x2, x3);
  if (dtype == DT_FLOAT16) return dot16(src + (<usize>start << 1), 8, dtype, 1, x0, x1, x2, x3);
  return dot16(src + (<usize>start << 2), 16, dtype, 1, x0, x1, x2, x3);
}

/**
 * Adds a row's Z = 32 block, from bucket `start` of its run and signed by
 * `mask`, to the row's partial sum at `at`, against x's 8 quads in registers;
 * int8 and int4 unscaled (their stored integers). float32 and float16 go as
 * two blocks of 16 with the first one's sum stored to `fence` between them:
 * the store keeps V8 from issuing all 8 of the run's loads before its
 * multiplies, which spilled two of x's quads (10% faster); nothing reads it.
 */
// @ts-ignore: decorator
@inline function addBlock32(src: usize, start: u32, dtype: i32, evenStarts: bool, at: usize, fence: usize, mask: v128, x0: v128, x1: v128, x2: v128, x3: v128, x4: v128, x5: v128, x6: v128, x7: v128): void {
  if (dtype == DT_INT4 || dtype == DT_INT8) { // the run's 32 integers in two SIMD values, read once
    let q: v128, r: v128;
    if (dtype == DT_INT8) {
      q = v128.load(src + <usize>start); r = v128.load(src + <usize>start, 16);
    } else { // from one decode of the run's 17 bytes
      const bytes = int4RunBytes(src, start, evenStarts);
      q = int4Half(bytes, 0); r = int4Half(bytes, 1);
    }
    // one pass: the store between the halves, and reading int8 as four 8-byte extending loads, measured no faster here
    v128.store(at, f32x4.add(v128.load(at), v128.xor(dot32Ints(q, r, x0, x1, x2, x3, x4, x5, x6, x7), mask)));
    return;
  }
  const first = blockDot16(src, start, dtype, false, x0, x1, x2, x3);
  v128.store(fence, first);
  const dot = f32x4.add(first, blockDot16(src, start + 16, dtype, false, x4, x5, x6, x7));
  v128.store(at, f32x4.add(v128.load(at), v128.xor(dot, mask))); // σ once per row
}

// @ts-ignore: decorator
@inline function blockGemvLoop(w: Weight, x: usize, y: usize, bias: usize, scratch: usize, dtype: i32): void {
  const rows = w.rows;
  const cols = w.cols;
  const z = w.block;
  const count = w.count;
  const scale = w.scale;
  const src = w.stored;
  const n4 = rows4(w);
  const partial = scratch;                          // 16 bytes per row
  const bucketRows = partial + (<usize>n4 << 4);    // the row's half of each key (keyRowState)
  const signRows = bucketRows + (<usize>n4 << 2);
  const starts = signRows + (<usize>n4 << 2);       // the current block's run start per row (aligned: in quads)
  const masks = starts + (<usize>n4 << 2);          // and its sign mask
  const patterned = masks + (<usize>n4 << 2);       // the block's slice of x, patterned (MAX_BLOCK floats)
  const fence = patterned + (<usize>MAX_BLOCK << 2); // 16 bytes that addBlock32 writes and nothing reads
  // int8 and int4 rows sum the stored integers, and each row's sum is scaled once at the end
  const quantized = dtype == DT_INT8 || dtype == DT_INT4;
  const valueScale: f32 = quantized ? 1 : scale;
  const sumScale: f32 = quantized ? scale : 1;
  const signed = w.signed;
  let r4 = i32x4(0, 1, 2, 3);
  for (let m = 0; m < n4; m += 4) {
    v128.store(bucketRows + (<usize>m << 2), keyRowState4(r4, w.bucketSeed));
    if (!w.aligned) v128.store(signRows + (<usize>m << 2), keyRowState4(r4, w.signSeed)); // aligned: no sign hash
    r4 = i32x4.add(r4, i32x4.splat(4));
  }
  memory.fill(partial, 0, <usize>n4 << 4);
  if (!signed) memory.fill(masks, 0, <usize>n4 << 2);
  const count4 = i32x4.splat(count);
  const quads4 = i32x4.splat(count >> 2);
  const aligned = w.aligned;
  const startShift: u32 = aligned ? 2 : 0; // aligned starts are stored in quads of buckets
  for (let b = 0, c0 = 0; c0 < cols; b++, c0 += z) {
    // this block's run starts and sign masks for every row, four rows at a time
    const blockP3 = i32x4.splat(<u32>b * PRIME3);
    if (aligned) { // xxh32-aligned-block: one hash gives the start (a multiple of 4) and, in bit 0, the sign
      if (signed) {
        for (let at: usize = 0, end = <usize>n4 << 2; at < end; at += 16) {
          const h = keyFinish4(v128.load(bucketRows + at), blockP3);
          v128.store(starts + at, bucketOf4(h, quads4));
          v128.store(masks + at, i32x4.shl(h, 31));
        }
      } else {
        for (let at: usize = 0, end = <usize>n4 << 2; at < end; at += 16) {
          v128.store(starts + at, bucketOf4(keyFinish4(v128.load(bucketRows + at), blockP3), quads4));
        }
      }
    } else {
      for (let at: usize = 0, end = <usize>n4 << 2; at < end; at += 16) {
        v128.store(starts + at, bucketOf4(keyFinish4(v128.load(bucketRows + at), blockP3), count4));
      }
    }
    // the top bit of the sign hash (keySignBits4 leaves it right; its other bits are not the hash);
    // a loop of its own, so that neither loop tests `signed`
    if (signed && !aligned) {
      for (let at: usize = 0, end = <usize>n4 << 2; at < end; at += 16) {
        v128.store(masks + at, v128.and(keySignBits4(v128.load(signRows + at), blockP3), i32x4.splat(0x80000000)));
      }
    }
    // An aligned block of 64 goes as two halves of 32 columns that share the hash pass above: each half
    // has its own pattern and reads its run from bucket start + 32 · half. Every other block is one half.
    const blockLen = min(z, cols - c0);
    for (let half: u32 = 0; <i32>(half << 5) < blockLen; half++) {
      const runOffset = half << 5;
      const c = c0 + <i32>runOffset;
      const len = min(32, blockLen - <i32>runOffset);
      // x's slice for this half with its pattern applied (once per call, for every row)
      const xb = signed ? patterned : x + (<usize>c << 2);
      if (signed) patternSlice(x + (<usize>c << 2), len, blockPattern(w, <u32>b, half), patterned);
      if (len == 32) {
        const x0 = v128.load(xb), x1 = v128.load(xb, 16), x2 = v128.load(xb, 32), x3 = v128.load(xb, 48);
        const x4 = v128.load(xb, 64), x5 = v128.load(xb, 80), x6 = v128.load(xb, 96), x7 = v128.load(xb, 112);
        // the runs never wrap: the streaming copy repeats the first Z − 1 buckets after the last (runPad)
        const end = partial + (<usize>rows << 4);
        for (let at = partial, s = starts, k = masks; at < end; at += 16, s += 4, k += 4) {
          addBlock32(src, (load<u32>(s) << startShift) + runOffset, dtype, aligned, at, fence, v128.load32_splat(k), x0, x1, x2, x3, x4, x5, x6, x7);
        }
      } else if (len == 16) { // Z = 16, or the last 16 columns of a row under Z = 32
        const x0 = v128.load(xb), x1 = v128.load(xb, 16), x2 = v128.load(xb, 32), x3 = v128.load(xb, 48);
        const end = partial + (<usize>rows << 4);
        for (let at = partial, s = starts, k = masks; at < end; at += 16, s += 4, k += 4) {
          const dot = blockDot16(src, (load<u32>(s) << startShift) + runOffset, dtype, aligned, x0, x1, x2, x3);
          v128.store(at, f32x4.add(v128.load(at), v128.xor(dot, v128.load32_splat(k))));
        }
      } else {
        const reach = count + runPad(w); // with the streaming copy's repeated buckets
        for (let m = 0; m < rows; m++) {
          const at = partial + (<usize>m << 4);
          const dot = runDot(src, dtype, valueScale, count, reach, (load<u32>(starts + (<usize>m << 2)) << startShift) + runOffset, xb, len);
          v128.store(at, f32x4.add(v128.load(at), v128.xor(dot, v128.load32_splat(masks + (<usize>m << 2)))));
        }
      }
    }
  }
  for (let m = 0; m < rows; m++) {
    store<f32>(y + (<usize>m << 2), sumScale * hsum(v128.load(partial + (<usize>m << 4))) + (bias != 0 ? load<f32>(bias + (<usize>m << 2)) : 0));
  }
}

/** Decodes `count` stored values to f32 (plain weights, biases); int4 in SIMD, 16 values per step. */
export function decodeValues(src: usize, dtype: i32, scale: f32, count: i32, dst: usize): void {
  let i = 0;
  if (dtype == DT_INT4) {
    const scale4 = f32x4.splat(scale);
    for (; i + 16 <= count; i += 16) {
      const bytes = v128.load64_zero(src + (<usize>i >> 1)); // 8 bytes = 16 nibbles
      // Sign-extended nibbles as i8: the low one shifted up and back, the high one shifted down arithmetically.
      const low = i8x16.shr_s(i8x16.shl(bytes, 4), 4);
      const high = i8x16.shr_s(bytes, 4);
      const q = i8x16.shuffle(low, high, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23); // in element order
      const q0 = i16x8.extend_low_i8x16_s(q);
      const q1 = i16x8.extend_high_i8x16_s(q);
      const d = dst + (<usize>i << 2);
      v128.store(d, f32x4.mul(scale4, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(q0))));
      v128.store(d + 16, f32x4.mul(scale4, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(q0))));
      v128.store(d + 32, f32x4.mul(scale4, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(q1))));
      v128.store(d + 48, f32x4.mul(scale4, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(q1))));
    }
  }
  for (; i < count; i++) store<f32>(dst + (<usize>i << 2), storedValue(src, dtype, scale, <u32>i));
}

/** decodeValues one value at a time: the naive twin the tests compare it with. */
export function decodeValuesNaive(src: usize, dtype: i32, scale: f32, count: i32, dst: usize): void {
  for (let i = 0; i < count; i++) store<f32>(dst + (<usize>i << 2), storedValue(src, dtype, scale, <u32>i));
}

// ---- Matrix product: the core of Dense and Conv2D ----------------------------

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

// @ts-ignore: decorator
@inline function fma(acc: v128, a: v128, b: v128): v128 {
  return f32x4.add(acc, f32x4.mul(a, b));
}

/**
 * Naive reference of gemm, kept beside it (hnet_set_naive switches to it):
 * y[r·rs + m·ms] = Σ_k x[r, k] · w[m, k] + bias[m].
 */
export function gemmNaive(x: usize, rows: i32, k: i32, w: usize, mCount: i32, y: usize, rs: i32, ms: i32, bias: usize): void {
  for (let r = 0; r < rows; r++) {
    for (let m = 0; m < mCount; m++) {
      let acc: f32 = bias != 0 ? load<f32>(bias + (<usize>m << 2)) : 0;
      for (let i = 0; i < k; i++) acc += load<f32>(x + ((<usize>r * k + i) << 2)) * load<f32>(w + ((<usize>m * k + i) << 2));
      store<f32>(y + ((<usize>r * rs + <usize>m * ms) << 2), acc);
    }
  }
}

/**
 * y[r·rs + m·ms] = Σ_k x[r, k] · w[m, k] + bias[m] for r < rows, m < mCount,
 * with x [rows, k] and w [mCount, k] row-major, bias 0 for none.
 * Dense: x is the batch [N, in], w the weight rows [out, in], (rs, ms) = (out, 1).
 * Conv2D: x is the im2col matrix [OH·OW, C/g·KH·KW], (rs, ms) = (1, OH·OW).
 * Blocks of 4 rows × 2 weight rows share their loads: 6 loads per 8 f32x4
 * multiply-adds; a single row (batch 1) runs four accumulators per weight row.
 */
export function gemm(x: usize, rows: i32, k: i32, w: usize, mCount: i32, y: usize, rs: i32, ms: i32, bias: usize): void {
  const rowBytes = <usize>k << 2;
  const k4 = k & ~3;
  if (rows < 4) {
    // Matrix-vector (batch 1..3): bound by reading w, so four weight rows
    // stream at once against one x row that stays in cache.
    for (let r = 0; r < rows; r++) gemv(x + <usize>r * rowBytes, k, w, mCount, y + ((<usize>r * rs) << 2), ms, bias);
    return;
  }
  let m = 0;
  for (; m + 2 <= mCount; m += 2) {
    const w0 = w + <usize>m * rowBytes;
    const w1 = w0 + rowBytes;
    const b0: f32 = bias != 0 ? load<f32>(bias + (<usize>m << 2)) : 0;
    const b1: f32 = bias != 0 ? load<f32>(bias + (<usize>(m + 1) << 2)) : 0;
    let r = 0;
    for (; r + 4 <= rows; r += 4) {
      const x0 = x + <usize>r * rowBytes;
      const x1 = x0 + rowBytes, x2 = x1 + rowBytes, x3 = x2 + rowBytes;
      let a00 = f32x4.splat(0), a10 = f32x4.splat(0), a20 = f32x4.splat(0), a30 = f32x4.splat(0);
      let a01 = f32x4.splat(0), a11 = f32x4.splat(0), a21 = f32x4.splat(0), a31 = f32x4.splat(0);
      for (let i = 0; i < k4; i += 4) {
        const off = <usize>i << 2;
        const v0 = v128.load(w0 + off), v1 = v128.load(w1 + off);
        const u0 = v128.load(x0 + off), u1 = v128.load(x1 + off), u2 = v128.load(x2 + off), u3 = v128.load(x3 + off);
        a00 = fma(a00, u0, v0); a01 = fma(a01, u0, v1);
        a10 = fma(a10, u1, v0); a11 = fma(a11, u1, v1);
        a20 = fma(a20, u2, v0); a21 = fma(a21, u2, v1);
        a30 = fma(a30, u3, v0); a31 = fma(a31, u3, v1);
      }
      let s00 = hsum(a00), s10 = hsum(a10), s20 = hsum(a20), s30 = hsum(a30);
      let s01 = hsum(a01), s11 = hsum(a11), s21 = hsum(a21), s31 = hsum(a31);
      for (let i = k4; i < k; i++) {
        const off = <usize>i << 2;
        const v0 = load<f32>(w0 + off), v1 = load<f32>(w1 + off);
        const u0 = load<f32>(x0 + off), u1 = load<f32>(x1 + off), u2 = load<f32>(x2 + off), u3 = load<f32>(x3 + off);
        s00 += u0 * v0; s01 += u0 * v1;
        s10 += u1 * v0; s11 += u1 * v1;
        s20 += u2 * v0; s21 += u2 * v1;
        s30 += u3 * v0; s31 += u3 * v1;
      }
      const y0 = y + ((<usize>r * rs + <usize>m * ms) << 2);
      const dr = <usize>rs << 2, dm = <usize>ms << 2;
      store<f32>(y0, s00 + b0); store<f32>(y0 + dm, s01 + b1);
      store<f32>(y0 + dr, s10 + b0); store<f32>(y0 + dr + dm, s11 + b1);
      store<f32>(y0 + 2 * dr, s20 + b0); store<f32>(y0 + 2 * dr + dm, s21 + b1);
      store<f32>(y0 + 3 * dr, s30 + b0); store<f32>(y0 + 3 * dr + dm, s31 + b1);
    }
    for (; r < rows; r++) {
      dotRow(x + <usize>r * rowBytes, k, w0, b0, y + ((<usize>r * rs + <usize>m * ms) << 2));
      dotRow(x + <usize>r * rowBytes, k, w1, b1, y + ((<usize>r * rs + <usize>(m + 1) * ms) << 2));
    }
  }
  for (; m < mCount; m++) {
    const wm = w + <usize>m * rowBytes;
    const bm: f32 = bias != 0 ? load<f32>(bias + (<usize>m << 2)) : 0;
    for (let r = 0; r < rows; r++) dotRow(x + <usize>r * rowBytes, k, wm, bm, y + ((<usize>r * rs + <usize>m * ms) << 2));
  }
}

/** out[m · ms] = x · w[m, :] + bias[m] for m < mCount, four weight rows at a time. */
function gemv(x: usize, k: i32, w: usize, mCount: i32, out: usize, ms: i32, bias: usize): void {
  const rowBytes = <usize>k << 2;
  const k4 = k & ~3;
  let m = 0;
  for (; m + 4 <= mCount; m += 4) {
    const w0 = w + <usize>m * rowBytes;
    const w1 = w0 + rowBytes, w2 = w1 + rowBytes, w3 = w2 + rowBytes;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let i = 0; i < k4; i += 4) {
      const off = <usize>i << 2;
      const u = v128.load(x + off);
      a0 = fma(a0, u, v128.load(w0 + off));
      a1 = fma(a1, u, v128.load(w1 + off));
      a2 = fma(a2, u, v128.load(w2 + off));
      a3 = fma(a3, u, v128.load(w3 + off));
    }
    let s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
    for (let i = k4; i < k; i++) {
      const off = <usize>i << 2;
      const u = load<f32>(x + off);
      s0 += u * load<f32>(w0 + off);
      s1 += u * load<f32>(w1 + off);
      s2 += u * load<f32>(w2 + off);
      s3 += u * load<f32>(w3 + off);
    }
    const dm = <usize>ms << 2;
    const o = out + <usize>m * dm;
    if (bias != 0) {
      const b = bias + (<usize>m << 2);
      s0 += load<f32>(b); s1 += load<f32>(b, 4); s2 += load<f32>(b, 8); s3 += load<f32>(b, 12);
    }
    store<f32>(o, s0); store<f32>(o + dm, s1); store<f32>(o + 2 * dm, s2); store<f32>(o + 3 * dm, s3);
  }
  for (; m < mCount; m++) {
    dotRow(x, k, w + <usize>m * rowBytes, bias != 0 ? load<f32>(bias + (<usize>m << 2)) : 0, out + ((<usize>m * ms) << 2));
  }
}

/** *out = x · w + bias over k floats, four accumulators deep. */
function dotRow(x: usize, k: i32, w: usize, bias: f32, out: usize): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const k16 = k & ~15, k4 = k & ~3;
  let i = 0;
  for (; i < k16; i += 16) {
    const off = <usize>i << 2;
    a0 = fma(a0, v128.load(x + off), v128.load(w + off));
    a1 = fma(a1, v128.load(x + off + 16), v128.load(w + off + 16));
    a2 = fma(a2, v128.load(x + off + 32), v128.load(w + off + 32));
    a3 = fma(a3, v128.load(x + off + 48), v128.load(w + off + 48));
  }
  for (; i < k4; i += 4) a0 = fma(a0, v128.load(x + (<usize>i << 2)), v128.load(w + (<usize>i << 2)));
  let s = hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  for (; i < k; i++) s += load<f32>(x + (<usize>i << 2)) * load<f32>(w + (<usize>i << 2));
  store<f32>(out, s + bias);
}

// ---- Conv2D: x [N, C, H, W] -> y [N, M, OH, OW] -------------------------------

export class ConvShape {
  n: i32 = 0; c: i32 = 0; h: i32 = 0; w: i32 = 0;
  m: i32 = 0; oh: i32 = 0; ow: i32 = 0;
  kh: i32 = 1; kw: i32 = 1; sh: i32 = 1; sw: i32 = 1;
  pt: i32 = 0; pl: i32 = 0; dh: i32 = 1; dw: i32 = 1;
  group: i32 = 1;
}

/**
 * The im2col matrix of image b, group g: col[q, p] with q = (ci·KH + kh)·KW + kw
 * and p = oh·OW + ow, holding x[b, g·C/group + ci, oh·sh − pt + kh·dh,
 * ow·sw − pl + kw·dw] or 0 in the padding. [C/group·KH·KW, OH·OW] floats: each
 * row is one kernel tap over all output positions, so the rows of an
 * undilated stride-1 tap are runs of x.
 */
export function im2col(s: ConvShape, x: usize, b: i32, g: i32, col: usize): void {
  const h = s.h, w = s.w, kh = s.kh, kw = s.kw, sh = s.sh, sw = s.sw, dh = s.dh, dw = s.dw;
  const pt = s.pt, pl = s.pl, oh = s.oh, ow = s.ow;
  const cg = s.c / s.group;
  const first = x + ((<usize>(b * s.c + g * cg) * h * w) << 2);
  let dst = col;
  for (let ci = 0; ci < cg; ci++) {
    const plane = first + ((<usize>ci * h * w) << 2);
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        // output columns whose input column iw = ow·sw − pl + kx·dw is inside [0, W)
        const colOff = kx * dw - pl;
        const ow0 = min(ow, max(0, (-colOff + sw - 1) / sw));
        const ow1 = max(ow0, min(ow, colOff >= w ? 0 : (w - 1 - colOff) / sw + 1));
        for (let y = 0; y < oh; y++) {
          const ih = y * sh - pt + ky * dh;
          if (ih < 0 || ih >= h) {
            for (let o = 0; o < ow; o++) store<f32>(dst + (<usize>o << 2), 0);
            dst += <usize>ow << 2;
            continue;
          }
          const row = plane + ((<usize>ih * w) << 2);
          let o = 0;
          for (; o < ow0; o++) store<f32>(dst + (<usize>o << 2), 0);
          if (sw == 1) {
            // a short run: an inline f32x4 copy beats memory.copy's call at these sizes
            const from = row + (<usize>colOff << 2);
            for (; o + 4 <= ow1; o += 4) v128.store(dst + (<usize>o << 2), v128.load(from + (<usize>o << 2)));
            for (; o < ow1; o++) store<f32>(dst + (<usize>o << 2), load<f32>(from + (<usize>o << 2)));
          } else {
            for (; o < ow1; o++) store<f32>(dst + (<usize>o << 2), load<f32>(row + (<usize>(o * sw + colOff) << 2)));
          }
          for (o = ow1; o < ow; o++) store<f32>(dst + (<usize>o << 2), 0);
          dst += <usize>ow << 2;
        }
      }
    }
  }
}

/**
 * y[m, p] = Σ_q w[m, q] · col[q, p] + bias[m] for one image: w [mCount, K]
 * weight rows, col [K, P] from im2col, y [mCount, P] (NCHW planes). SIMD
 * runs along the output positions p, so no horizontal sums: blocks of 4
 * weight rows × 8 positions keep 8 accumulators and 6 loads per 8 f32x4
 * multiply-adds.
 */
export function convGemm(w: usize, mCount: i32, k: i32, col: usize, p: i32, y: usize, bias: usize): void {
  const rowBytes = <usize>k << 2;
  const colBytes = <usize>p << 2;
  const p8 = p & ~7, p4 = p & ~3;
  let m = 0;
  for (; m < mCount; m += 4) {
    const rows = min(4, mCount - m);
    // Weight rows past the last are read from row m (and their sums dropped).
    const w0 = w + <usize>m * rowBytes;
    const w1 = rows > 1 ? w0 + rowBytes : w0;
    const w2 = rows > 2 ? w0 + 2 * rowBytes : w0;
    const w3 = rows > 3 ? w0 + 3 * rowBytes : w0;
    const b0 = f32x4.splat(bias != 0 ? load<f32>(bias + (<usize>m << 2)) : 0);
    const b1 = f32x4.splat(bias != 0 && rows > 1 ? load<f32>(bias + (<usize>(m + 1) << 2)) : 0);
    const b2 = f32x4.splat(bias != 0 && rows > 2 ? load<f32>(bias + (<usize>(m + 2) << 2)) : 0);
    const b3 = f32x4.splat(bias != 0 && rows > 3 ? load<f32>(bias + (<usize>(m + 3) << 2)) : 0);
    const y0 = y + <usize>m * colBytes;
    let q = 0;
    for (; q < p8; q += 8) {
      let a00 = b0, a01 = b0, a10 = b1, a11 = b1, a20 = b2, a21 = b2, a30 = b3, a31 = b3;
      let c = col + (<usize>q << 2);
      for (let i = 0; i < k; i++) {
        const off = <usize>i << 2;
        const u0 = v128.load(c), u1 = v128.load(c, 16);
        const v0 = f32x4.splat(load<f32>(w0 + off)), v1 = f32x4.splat(load<f32>(w1 + off));
        const v2 = f32x4.splat(load<f32>(w2 + off)), v3 = f32x4.splat(load<f32>(w3 + off));
        a00 = fma(a00, u0, v0); a01 = fma(a01, u1, v0);
        a10 = fma(a10, u0, v1); a11 = fma(a11, u1, v1);
        a20 = fma(a20, u0, v2); a21 = fma(a21, u1, v2);
        a30 = fma(a30, u0, v3); a31 = fma(a31, u1, v3);
        c += colBytes;
      }
      const o = y0 + (<usize>q << 2);
      v128.store(o, a00); v128.store(o, a01, 16);
      if (rows > 1) { v128.store(o + colBytes, a10); v128.store(o + colBytes, a11, 16); }
      if (rows > 2) { v128.store(o + 2 * colBytes, a20); v128.store(o + 2 * colBytes, a21, 16); }
      if (rows > 3) { v128.store(o + 3 * colBytes, a30); v128.store(o + 3 * colBytes, a31, 16); }
    }
    for (; q < p4; q += 4) {
      let a0 = b0, a1 = b1, a2 = b2, a3 = b3;
      let c = col + (<usize>q << 2);
      for (let i = 0; i < k; i++) {
        const off = <usize>i << 2;
        const u = v128.load(c);
        a0 = fma(a0, u, f32x4.splat(load<f32>(w0 + off)));
        a1 = fma(a1, u, f32x4.splat(load<f32>(w1 + off)));
        a2 = fma(a2, u, f32x4.splat(load<f32>(w2 + off)));
        a3 = fma(a3, u, f32x4.splat(load<f32>(w3 + off)));
        c += colBytes;
      }
      const o = y0 + (<usize>q << 2);
      v128.store(o, a0);
      if (rows > 1) v128.store(o + colBytes, a1);
      if (rows > 2) v128.store(o + 2 * colBytes, a2);
      if (rows > 3) v128.store(o + 3 * colBytes, a3);
    }
    for (; q < p; q++) {
      for (let r = 0; r < rows; r++) {
        const wr = w0 + <usize>r * rowBytes;
        let acc: f32 = bias != 0 ? load<f32>(bias + (<usize>(m + r) << 2)) : 0;
        for (let i = 0; i < k; i++) acc += load<f32>(wr + (<usize>i << 2)) * load<f32>(col + ((<usize>i * p + q) << 2));
        store<f32>(y0 + <usize>r * colBytes + (<usize>q << 2), acc);
      }
    }
  }
}

/**
 * Copies the channels of group g of image b into `dst` with the convolution's
 * zero padding around each plane: [C/group, H + pt + pb, W + pl + pr].
 * convDirect then runs on it as on an unpadded input.
 */
export function padCopy(s: ConvShape, x: usize, b: i32, g: i32, pb: i32, pr: i32, dst: usize): void {
  const cg = s.c / s.group;
  const hp = s.h + s.pt + pb, wp = s.w + s.pl + pr;
  memory.fill(dst, 0, (<usize>cg * hp * wp) << 2);
  const rowBytes = <usize>s.w << 2;
  for (let ci = 0; ci < cg; ci++) {
    const src = x + ((<usize>(b * s.c + g * cg + ci) * s.h * s.w) << 2);
    const plane = dst + ((<usize>ci * hp * wp) << 2);
    for (let yy = 0; yy < s.h; yy++) {
      memory.copy(plane + ((<usize>((yy + s.pt) * wp + s.pl)) << 2), src + <usize>yy * rowBytes, rowBytes);
    }
  }
}

/**
 * convGemm without the im2col copy, for convolutions of stride 1 along W
 * over an unpadded source (x itself, or padCopy's output) of planes
 * [srcH, srcW] starting at `src` (the group's first channel): tap
 * q = (ci·KH + kh)·KW + kw of output (oh, ow) reads src[ci, oh·sh + kh·dh,
 * ow + kw·dw], i.e. src at origin(oh) + taps[q] + ow, so each output row is a
 * gemm with runs of the source as columns. `taps` is scratch for K ints.
 * Same blocking as convGemm: 4 weight rows × 8 positions.
 */
export function convDirect(s: ConvShape, src: usize, srcH: i32, srcW: i32, w: usize, mCount: i32, y: usize, bias: usize, taps: usize): void {
  const kh = s.kh, kw = s.kw, oh = s.oh, ow = s.ow;
  const cg = s.c / s.group;
  const k = cg * kh * kw;
  let q = 0;
  for (let ci = 0; ci < cg; ci++) {
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        store<i32>(taps + (<usize>q << 2), ((ci * srcH + ky * s.dh) * srcW + kx * s.dw) << 2); // byte offset
        q++;
      }
    }
  }
  const xb = src;
  const wd = srcW;
  const rowBytes = <usize>k << 2;
  const planeBytes = (<usize>oh * ow) << 2;
  const ow8 = ow & ~7, ow4 = ow & ~3;
  for (let m = 0; m < mCount; m += 4) {
    const rows = min(4, mCount - m);
    const w0 = w + <usize>m * rowBytes;
    const w1 = rows > 1 ? w0 + rowBytes : w0;
    const w2 = rows > 2 ? w0 + 2 * rowBytes : w0;
    const w3 = rows > 3 ? w0 + 3 * rowBytes : w0;
    const b0 = f32x4.splat(bias != 0 ? load<f32>(bias + (<usize>m << 2)) : 0);
    const b1 = f32x4.splat(bias != 0 && rows > 1 ? load<f32>(bias + (<usize>(m + 1) << 2)) : 0);
    const b2 = f32x4.splat(bias != 0 && rows > 2 ? load<f32>(bias + (<usize>(m + 2) << 2)) : 0);
    const b3 = f32x4.splat(bias != 0 && rows > 3 ? load<f32>(bias + (<usize>(m + 3) << 2)) : 0);
    for (let yo = 0; yo < oh; yo++) {
      const origin = xb + ((<usize>(yo * s.sh) * wd) << 2);
      const out = y + <usize>m * planeBytes + ((<usize>yo * ow) << 2);
      let o = 0;
      for (; o < ow8; o += 8) {
        let a00 = b0, a01 = b0, a10 = b1, a11 = b1, a20 = b2, a21 = b2, a30 = b3, a31 = b3;
        const start = origin + (<usize>o << 2);
        for (let i = 0; i < k; i++) {
          const off = <usize>i << 2;
          const c = start + <usize>load<i32>(taps + off);
          const u0 = v128.load(c), u1 = v128.load(c, 16);
          const v0 = f32x4.splat(load<f32>(w0 + off)), v1 = f32x4.splat(load<f32>(w1 + off));
          const v2 = f32x4.splat(load<f32>(w2 + off)), v3 = f32x4.splat(load<f32>(w3 + off));
          a00 = fma(a00, u0, v0); a01 = fma(a01, u1, v0);
          a10 = fma(a10, u0, v1); a11 = fma(a11, u1, v1);
          a20 = fma(a20, u0, v2); a21 = fma(a21, u1, v2);
          a30 = fma(a30, u0, v3); a31 = fma(a31, u1, v3);
        }
        const d = out + (<usize>o << 2);
        v128.store(d, a00); v128.store(d, a01, 16);
        if (rows > 1) { v128.store(d + planeBytes, a10); v128.store(d + planeBytes, a11, 16); }
        if (rows > 2) { v128.store(d + 2 * planeBytes, a20); v128.store(d + 2 * planeBytes, a21, 16); }
        if (rows > 3) { v128.store(d + 3 * planeBytes, a30); v128.store(d + 3 * planeBytes, a31, 16); }
      }
      for (; o < ow4; o += 4) {
        let a0 = b0, a1 = b1, a2 = b2, a3 = b3;
        const start = origin + (<usize>o << 2);
        for (let i = 0; i < k; i++) {
          const off = <usize>i << 2;
          const u = v128.load(start + <usize>load<i32>(taps + off));
          a0 = fma(a0, u, f32x4.splat(load<f32>(w0 + off)));
          a1 = fma(a1, u, f32x4.splat(load<f32>(w1 + off)));
          a2 = fma(a2, u, f32x4.splat(load<f32>(w2 + off)));
          a3 = fma(a3, u, f32x4.splat(load<f32>(w3 + off)));
        }
        const d = out + (<usize>o << 2);
        v128.store(d, a0);
        if (rows > 1) v128.store(d + planeBytes, a1);
        if (rows > 2) v128.store(d + 2 * planeBytes, a2);
        if (rows > 3) v128.store(d + 3 * planeBytes, a3);
      }
      for (; o < ow; o++) {
        const start = origin + (<usize>o << 2);
        for (let r = 0; r < rows; r++) {
          const wr = w0 + <usize>r * rowBytes;
          let acc: f32 = bias != 0 ? load<f32>(bias + (<usize>(m + r) << 2)) : 0;
          for (let i = 0; i < k; i++) acc += load<f32>(wr + (<usize>i << 2)) * load<f32>(start + <usize>load<i32>(taps + (<usize>i << 2)));
          store<f32>(out + <usize>r * planeBytes + (<usize>o << 2), acc);
        }
      }
    }
  }
}

/**
 * Naive reference of the convolution for output channel m of every image,
 * from its weight row ([C/group, KH, KW] floats at wrow), written like the
 * formula: y[b, m, oh, ow] = bias + Σ w[ci, kh, kw] · x[b, g·C/group + ci, ih, iw].
 */
export function convNaive(s: ConvShape, x: usize, wrow: usize, m: i32, bias: f32, y: usize): void {
  const cg = s.c / s.group;
  const g = m / (s.m / s.group);
  for (let b = 0; b < s.n; b++) {
    for (let oh = 0; oh < s.oh; oh++) {
      for (let ow = 0; ow < s.ow; ow++) {
        let acc = bias;
        for (let ci = 0; ci < cg; ci++) {
          for (let kh = 0; kh < s.kh; kh++) {
            const ih = oh * s.sh - s.pt + kh * s.dh;
            if (ih < 0 || ih >= s.h) continue;
            for (let kw = 0; kw < s.kw; kw++) {
              const iw = ow * s.sw - s.pl + kw * s.dw;
              if (iw < 0 || iw >= s.w) continue;
              acc += load<f32>(wrow + ((<usize>((ci * s.kh + kh) * s.kw + kw)) << 2)) *
                load<f32>(x + ((<usize>(((b * s.c + g * cg + ci) * s.h + ih) * s.w + iw)) << 2));
            }
          }
        }
        store<f32>(y + ((<usize>(((b * s.m + m) * s.oh + oh) * s.ow + ow)) << 2), acc);
      }
    }
  }
}

// ---- Depthwise Conv2D: group == C == M, weight [C, 1, KH, KW] -------------------

/**
 * Channels c0 .. c0 + count of every image, SIMD over four output columns
 * at a time: acc[ox..ox+3] += w[ky, kx] · src[oy·sh + ky·dh, ox·sw + kx·dw]
 * for each tap, src being the channel's plane, or its zero-padded copy in
 * `scratch` when there is padding ([H + pt + pb, W + pl + pr] plus slack for
 * the last stride-2 load). Stride 1 and 2 along W run in f32x4 (stride 2
 * picks the even lanes of two loads); other strides run the scalar loop.
 * w: `count` weight rows of KH·KW floats; bias: `count` floats or 0.
 */
export function depthwiseConv(s: ConvShape, x: usize, b: i32, c0: i32, count: i32, w: usize, bias: usize, pb: i32, pr: i32, y: usize, scratch: usize): void {
  const kh = s.kh, kw = s.kw, sh = s.sh, sw = s.sw, dh = s.dh, dw = s.dw, oh = s.oh, ow = s.ow;
  const padded = s.pt + s.pl + pb + pr > 0;
  const hp = s.h + s.pt + pb, wp = s.w + s.pl + pr;
  const taps = kh * kw;
  const simd = sw == 1 || sw == 2;
  const ow4 = simd ? ow & ~3 : 0;
  for (let k = 0; k < count; k++) {
    const c = c0 + k;
    let plane = x + ((<usize>(b * s.c + c) * s.h * s.w) << 2);
    if (padded) {
      // zeros only where the input does not land: top rows, each row's left and right pads, bottom rows and the slack
      const rowBytes = <usize>s.w << 2;
      memory.fill(scratch, 0, (<usize>(s.pt * wp + s.pl)) << 2);
      for (let yy = 0; yy < s.h; yy++) {
        const row = scratch + ((<usize>((yy + s.pt) * wp + s.pl)) << 2);
        memory.copy(row, plane + <usize>yy * rowBytes, rowBytes);
        memory.fill(row + rowBytes, 0, (<usize>(pr + s.pl)) << 2); // this row's right pad, the next row's left
      }
      const tail = (<usize>((s.h + s.pt) * wp + s.pl)) << 2;
      memory.fill(scratch + tail, 0, (((<usize>hp * wp) + 8) << 2) - tail);
      plane = scratch;
    }
    const wk = w + ((<usize>k * taps) << 2);
    const bv: f32 = bias != 0 ? load<f32>(bias + (<usize>k << 2)) : 0;
    const out = y + ((<usize>(b * s.m + c) * oh * ow) << 2);
    for (let oy = 0; oy < oh; oy++) {
      const rowBase = plane + ((<usize>(oy * sh) * wp) << 2);
      const yr = out + ((<usize>oy * ow) << 2);
      let ox = 0;
      // eight columns per step: two independent accumulators keep more multiply-adds in flight
      const ow8 = simd ? ow & ~7 : 0;
      for (; ox < ow8; ox += 8) {
        let a0 = f32x4.splat(bv), a1 = a0;
        for (let ky = 0; ky < kh; ky++) {
          const row = rowBase + ((<usize>(ky * dh) * wp) << 2);
          for (let kx = 0; kx < kw; kx++) {
            const p = row + (<usize>(ox * sw + kx * dw) << 2);
            const wv = f32x4.splat(load<f32>(wk + (<usize>(ky * kw + kx) << 2)));
            if (sw == 1) {
              a0 = fma(a0, v128.load(p), wv);
              a1 = fma(a1, v128.load(p, 16), wv);
            } else {
              a0 = fma(a0, i32x4.shuffle(v128.load(p), v128.load(p, 16), 0, 2, 4, 6), wv);
              a1 = fma(a1, i32x4.shuffle(v128.load(p, 32), v128.load(p, 48), 0, 2, 4, 6), wv);
            }
          }
        }
        v128.store(yr + (<usize>ox << 2), a0);
        v128.store(yr + (<usize>ox << 2), a1, 16);
      }
      for (; ox < ow4; ox += 4) {
        let acc = f32x4.splat(bv);
        for (let ky = 0; ky < kh; ky++) {
          const row = rowBase + ((<usize>(ky * dh) * wp) << 2);
          for (let kx = 0; kx < kw; kx++) {
            const p = row + (<usize>(ox * sw + kx * dw) << 2);
            const u = sw == 1 ? v128.load(p) : i32x4.shuffle(v128.load(p), v128.load(p, 16), 0, 2, 4, 6);
            acc = fma(acc, u, f32x4.splat(load<f32>(wk + (<usize>(ky * kw + kx) << 2))));
          }
        }
        v128.store(yr + (<usize>ox << 2), acc);
      }
      for (; ox < ow; ox++) {
        let acc = bv;
        for (let ky = 0; ky < kh; ky++) {
          const row = rowBase + ((<usize>(ky * dh) * wp) << 2);
          for (let kx = 0; kx < kw; kx++) {
            acc += load<f32>(wk + (<usize>(ky * kw + kx) << 2)) * load<f32>(row + (<usize>(ox * sw + kx * dw) << 2));
          }
        }
        store<f32>(yr + (<usize>ox << 2), acc);
      }
    }
  }
}

// ---- ConvTranspose: x [N, C, H, W] -> y [N, M, OH, OW], weight [C, M/group, KH, KW] ----

export class ConvTransposeShape {
  n: i32 = 0; c: i32 = 0; h: i32 = 0; w: i32 = 0;
  m: i32 = 0; oh: i32 = 0; ow: i32 = 0;
  kh: i32 = 1; kw: i32 = 1; sh: i32 = 1; sw: i32 = 1;
  pt: i32 = 0; pl: i32 = 0; dh: i32 = 1; dw: i32 = 1;
  group: i32 = 1;
}

/** y = bias per output channel (or 0): the start of the scatter of either ConvTranspose kernel. */
export function convTransposeInit(s: ConvTransposeShape, bias: usize, y: usize): void {
  const plane = s.oh * s.ow;
  for (let b = 0; b < s.n; b++) {
    for (let m = 0; m < s.m; m++) {
      const v: f32 = bias != 0 ? load<f32>(bias + (<usize>m << 2)) : 0;
      const p = y + ((<usize>(b * s.m + m) * plane) << 2);
      for (let i = 0; i < plane; i++) store<f32>(p + (<usize>i << 2), v);
    }
  }
}

/**
 * Adds the contribution of input channels c0 .. c0 + count (their weight rows
 * [count, M/group·KH·KW] at w) to y, for every image: each input row ih,
 * tap (m, ky, kx) scatters w · x[b, c, ih, :] to output row ih·sh − pt + ky·dh
 * at columns iw·sw − pl + kx·dw. With stride 1 along W that is an axpy of
 * contiguous runs, in f32x4; other strides run a scalar loop.
 */
export function convTranspose(s: ConvTransposeShape, x: usize, c0: i32, count: i32, w: usize, y: usize): void {
  const kh = s.kh, kw = s.kw, sh = s.sh, sw = s.sw, dh = s.dh, dw = s.dw;
  const h = s.h, wd = s.w, oh = s.oh, ow = s.ow;
  const cg = s.c / s.group, mg = s.m / s.group;
  const cols = mg * kh * kw;
  for (let b = 0; b < s.n; b++) {
    for (let k = 0; k < count; k++) {
      const c = c0 + k;
      const g = c / cg;
      const xp = x + ((<usize>(b * s.c + c) * h * wd) << 2);
      const wr = w + ((<usize>k * cols) << 2);
      for (let m = 0; m < mg; m++) {
        const yp = y + ((<usize>(b * s.m + g * mg + m) * oh * ow) << 2);
        for (let kx = 0; kx < kw; kx++) {
          // input columns whose output column iw·sw − pl + kx·dw lies in [0, OW)
          const off = kx * dw - s.pl;
          const iw0 = off >= 0 ? 0 : (-off + sw - 1) / sw;
          const iw1 = off >= ow ? 0 : min(wd, (ow - 1 - off) / sw + 1);
          if (iw1 <= iw0) continue;
          for (let ky = 0; ky < kh; ky++) {
            const wv = load<f32>(wr + ((<usize>((m * kh + ky) * kw + kx)) << 2));
            const w4 = f32x4.splat(wv);
            for (let ih = 0; ih < h; ih++) {
              const oy = ih * sh - s.pt + ky * dh;
              if (oy < 0 || oy >= oh) continue;
              const xr = xp + ((<usize>ih * wd) << 2);
              const yr = yp + ((<usize>oy * ow) << 2);
              let iw = iw0;
              if (sw == 1) {
                const yo = yr + (<usize>off << 2); // y column iw + off
                for (; iw + 4 <= iw1; iw += 4) {
                  const d = yo + (<usize>iw << 2);
                  v128.store(d, fma(v128.load(d), w4, v128.load(xr + (<usize>iw << 2))));
                }
              }
              for (; iw < iw1; iw++) {
                const d = yr + (<usize>(iw * sw + off) << 2);
                store<f32>(d, load<f32>(d) + wv * load<f32>(xr + (<usize>iw << 2)));
              }
            }
          }
        }
      }
    }
  }
}

/**
 * Naive twin of convTranspose, written like the formula: for every input
 * element and tap, y[b, g·M/group + m, ih·sh − pt + ky·dh, iw·sw − pl + kx·dw]
 * += w[c, m, ky, kx] · x[b, c, ih, iw] when that position is inside y.
 */
export function convTransposeNaive(s: ConvTransposeShape, x: usize, c0: i32, count: i32, w: usize, y: usize): void {
  const cg = s.c / s.group, mg = s.m / s.group;
  for (let b = 0; b < s.n; b++) {
    for (let k = 0; k < count; k++) {
      const c = c0 + k, g = c / cg;
      for (let m = 0; m < mg; m++) {
        for (let ky = 0; ky < s.kh; ky++) {
          for (let kx = 0; kx < s.kw; kx++) {
            const wv = load<f32>(w + ((<usize>(((k * mg + m) * s.kh + ky) * s.kw + kx)) << 2));
            for (let ih = 0; ih < s.h; ih++) {
              const oy = ih * s.sh - s.pt + ky * s.dh;
              if (oy < 0 || oy >= s.oh) continue;
              for (let iw = 0; iw < s.w; iw++) {
                const ox = iw * s.sw - s.pl + kx * s.dw;
                if (ox < 0 || ox >= s.ow) continue;
                const d = y + ((<usize>(((b * s.m + g * mg + m) * s.oh + oy) * s.ow + ox)) << 2);
                store<f32>(d, load<f32>(d) + wv * load<f32>(x + ((<usize>(((b * s.c + c) * s.h + ih) * s.w + iw)) << 2)));
              }
            }
          }
        }
      }
    }
  }
}

// ---- MatMul of two computed tensors: [..., M, K] x [..., K, N] -> [..., M, N] ------

/**
 * Each output matrix is gemm (Dense's blocking) of a [M, K] against Bᵀ
 * [N, K], B transposed into `scratch` first (K·N floats); the batch axes
 * walk an odometer with each input's strides (0 where it broadcasts).
 */
export function matmul(a: usize, b: usize, y: usize, mm: MatMulPlan, scratch: usize, index: StaticArray<i32>): void {
  const m = mm.m, k = mm.k, n = mm.n;
  const r = mm.batch.length;
  for (let d = 0; d < r; d++) unchecked(index[d] = 0);
  let ia = 0, ib = 0;
  for (let e = 0; e < mm.count; e++) {
    const bp = b + (<usize>ib << 2);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < n; j++) store<f32>(scratch + ((<usize>j * k + i) << 2), load<f32>(bp + ((<usize>i * n + j) << 2)));
    }
    gemm(a + (<usize>ia << 2), m, k, scratch, n, y + ((<usize>e * m * n) << 2), n, 1, 0);
    for (let d = r - 1; d >= 0; d--) {
      const j = unchecked(index[d]) + 1;
      if (j < unchecked(mm.batch[d])) {
        unchecked(index[d] = j);
        ia += unchecked(mm.aStrides[d]); ib += unchecked(mm.bStrides[d]);
        break;
      }
      unchecked(index[d] = 0);
      ia -= (j - 1) * unchecked(mm.aStrides[d]); ib -= (j - 1) * unchecked(mm.bStrides[d]);
    }
  }
}

/** Naive twin of matmul: y[e, i, j] = Σ_k a[e', i, k] · b[e'', k, j], the batch offsets from each output matrix's multi-index. */
export function matmulNaive(a: usize, b: usize, y: usize, mm: MatMulPlan): void {
  const m = mm.m, k = mm.k, n = mm.n;
  const r = mm.batch.length;
  for (let e = 0; e < mm.count; e++) {
    let rest = e, ia = 0, ib = 0;
    for (let d = r - 1; d >= 0; d--) {
      const i = rest % mm.batch[d];
      rest /= mm.batch[d];
      ia += i * mm.aStrides[d]; ib += i * mm.bStrides[d];
    }
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc: f32 = 0;
        for (let q = 0; q < k; q++) acc += load<f32>(a + ((<usize>(ia + i * k + q)) << 2)) * load<f32>(b + ((<usize>(ib + q * n + j)) << 2));
        store<f32>(y + ((<usize>((e * m + i) * n + j)) << 2), acc);
      }
    }
  }
}

// Compute kernels. Pointers are byte addresses of f32 data in linear memory;
// callers (runtime.ts) have checked every size against the arena plan, so the
// loops use raw load/store. Layout is NCHW; shapes are noted at each kernel.

import { Weight, DT_FLOAT32, DT_FLOAT16 } from "./model";
import { bucketOf, bucketOf4, keyFinish, keyFinish4, keyRowState } from "./hash";

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
  return scale * <f32>load<i8>(src + <usize>k);
}

// ---- Virtual weights ---------------------------------------------------------

/**
 * Writes row r of a hashed weight's virtual tensor to dst (w.cols floats):
 * dst[c] = ξ(r, c) · stored[h(r, c)]. The one place where buckets become
 * weights: materialized mode calls it for every row at load, streaming mode
 * for one row at a time during the matmul/conv.
 */
export function expandRow(w: Weight, src: usize, r: i32, dst: usize): void {
  const cols = w.cols;
  const count = w.count;
  const dtype = w.dtype;
  const scale = w.scale;
  const bucketRow = keyRowState(<u32>r, w.bucketSeed);
  const signRow = keyRowState(<u32>r, w.signSeed);
  const signed = w.signed;
  let c = 0;
  if (dtype == DT_FLOAT32) {
    // Four columns per step: SIMD hashing, scalar gathers (wasm has no gather).
    const bucketRow4 = i32x4.splat(bucketRow);
    const signRow4 = i32x4.splat(signRow);
    const count4 = i32x4.splat(count);
    const signMask = i32x4.splat(0x80000000);
    let cols4 = i32x4(0, 1, 2, 3);
    const step = i32x4.splat(4);
    for (; c + 4 <= cols; c += 4) {
      const k = bucketOf4(keyFinish4(bucketRow4, cols4), count4);
      let v = f32x4.splat(load<f32>(src + (<usize>i32x4.extract_lane(k, 0) << 2)));
      v = f32x4.replace_lane(v, 1, load<f32>(src + (<usize>i32x4.extract_lane(k, 1) << 2)));
      v = f32x4.replace_lane(v, 2, load<f32>(src + (<usize>i32x4.extract_lane(k, 2) << 2)));
      v = f32x4.replace_lane(v, 3, load<f32>(src + (<usize>i32x4.extract_lane(k, 3) << 2)));
      if (signed) v = v128.xor(v, v128.and(keyFinish4(signRow4, cols4), signMask)); // flip the sign bit
      v128.store(dst + (<usize>c << 2), v);
      cols4 = i32x4.add(cols4, step);
    }
  }
  for (; c < cols; c++) {
    let v = storedValue(src, dtype, scale, bucketOf(keyFinish(bucketRow, <u32>c), count));
    if (signed && (keyFinish(signRow, <u32>c) >> 31) != 0) v = -v;
    store<f32>(dst + (<usize>c << 2), v);
  }
}

/** Decodes `count` stored values to f32 (plain weights, biases). */
export function decodeValues(src: usize, dtype: i32, scale: f32, count: i32, dst: usize): void {
  for (let i = 0; i < count; i++) store<f32>(dst + (<usize>i << 2), storedValue(src, dtype, scale, <u32>i));
}

// ---- Dense: x [N, in] -> y [N, out], y = x · Wᵀ + b -------------------------

/** Naive reference kernel, kept beside the fast one (test: hnet_debug_naive). */
export function denseNaive(x: usize, n: i32, inF: i32, wrow: usize, o: i32, outF: i32, bias: f32, y: usize): void {
  for (let b = 0; b < n; b++) {
    let acc: f32 = 0;
    for (let i = 0; i < inF; i++) acc += load<f32>(x + ((<usize>b * inF + i) << 2)) * load<f32>(wrow + (<usize>i << 2));
    store<f32>(y + ((<usize>b * outF + o) << 2), acc + bias);
  }
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/**
 * Output column o of a Dense layer for the whole batch, from one weight row
 * (`in` floats at wrow): y[b, o] = x[b, :] · wrow + bias. Four batch rows
 * share each weight load; a single row uses four accumulators.
 */
export function denseRow(x: usize, n: i32, inF: i32, wrow: usize, o: i32, outF: i32, bias: f32, y: usize): void {
  const rowBytes = <usize>inF << 2;
  const in4 = inF & ~3;
  let b = 0;
  for (; b + 4 <= n; b += 4) {
    const x0 = x + <usize>b * rowBytes;
    const x1 = x0 + rowBytes, x2 = x1 + rowBytes, x3 = x2 + rowBytes;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let i = 0; i < in4; i += 4) {
      const off = <usize>i << 2;
      const w = v128.load(wrow + off);
      a0 = f32x4.add(a0, f32x4.mul(v128.load(x0 + off), w));
      a1 = f32x4.add(a1, f32x4.mul(v128.load(x1 + off), w));
      a2 = f32x4.add(a2, f32x4.mul(v128.load(x2 + off), w));
      a3 = f32x4.add(a3, f32x4.mul(v128.load(x3 + off), w));
    }
    let s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
    for (let i = in4; i < inF; i++) {
      const off = <usize>i << 2;
      const w = load<f32>(wrow + off);
      s0 += load<f32>(x0 + off) * w;
      s1 += load<f32>(x1 + off) * w;
      s2 += load<f32>(x2 + off) * w;
      s3 += load<f32>(x3 + off) * w;
    }
    const yo = y + ((<usize>b * outF + o) << 2);
    const yStride = <usize>outF << 2;
    store<f32>(yo, s0 + bias);
    store<f32>(yo + yStride, s1 + bias);
    store<f32>(yo + 2 * yStride, s2 + bias);
    store<f32>(yo + 3 * yStride, s3 + bias);
  }
  const in16 = inF & ~15;
  for (; b < n; b++) {
    const xb = x + <usize>b * rowBytes;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let i = 0;
    for (; i < in16; i += 16) {
      const off = <usize>i << 2;
      a0 = f32x4.add(a0, f32x4.mul(v128.load(xb + off), v128.load(wrow + off)));
      a1 = f32x4.add(a1, f32x4.mul(v128.load(xb + off + 16), v128.load(wrow + off + 16)));
      a2 = f32x4.add(a2, f32x4.mul(v128.load(xb + off + 32), v128.load(wrow + off + 32)));
      a3 = f32x4.add(a3, f32x4.mul(v128.load(xb + off + 48), v128.load(wrow + off + 48)));
    }
    for (; i < in4; i += 4) {
      const off = <usize>i << 2;
      a0 = f32x4.add(a0, f32x4.mul(v128.load(xb + off), v128.load(wrow + off)));
    }
    let s = hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
    for (; i < inF; i++) s += load<f32>(xb + (<usize>i << 2)) * load<f32>(wrow + (<usize>i << 2));
    store<f32>(y + ((<usize>b * outF + o) << 2), s + bias);
  }
}

// ---- Conv2D: x [N, C, H, W] -> y [N, M, OH, OW] -------------------------------

export class ConvShape {
  n: i32 = 0; c: i32 = 0; h: i32 = 0; w: i32 = 0;
  m: i32 = 0; oh: i32 = 0; ow: i32 = 0;
  kh: i32 = 1; kw: i32 = 1; sh: i32 = 1; sw: i32 = 1;
  pt: i32 = 0; pl: i32 = 0; dh: i32 = 1; dw: i32 = 1;
  group: i32 = 1;
}

/** floor(a / b) for b > 0. */
// @ts-ignore: decorator
@inline function floorDiv(a: i32, b: i32): i32 {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/**
 * Output channel m of a convolution for the whole batch, from its weight row
 * ([C/group, KH, KW] floats at wrow), by direct accumulation:
 * y[b, m, oh, ow] += w[ci, kh, kw] · x[b, g·C/group + ci, oh·sh − pt + kh·dh, ow·sw − pl + kw·dw].
 * The valid (unpadded) output range is computed per (kh, kw), so the inner
 * loop has no bounds tests; stride-1 rows run in f32x4.
 */
export function convChannel(s: ConvShape, x: usize, wrow: usize, m: i32, bias: f32, y: usize, naive: bool): void {
  const cg = s.c / s.group;
  const mg = s.m / s.group;
  const g = m / mg;
  const planeOut = s.oh * s.ow;
  const planeIn = s.h * s.w;
  for (let b = 0; b < s.n; b++) {
    const yp = y + ((<usize>(b * s.m + m) * planeOut) << 2);
    for (let p = 0; p < planeOut; p++) store<f32>(yp + (<usize>p << 2), bias);
    for (let ci = 0; ci < cg; ci++) {
      const xp = x + ((<usize>(b * s.c + g * cg + ci) * planeIn) << 2);
      for (let kh = 0; kh < s.kh; kh++) {
        // rows with 0 <= ih = oh*sh - pt + kh*dh < H
        const rowOff = kh * s.dh - s.pt;
        const oh0 = max(0, floorDiv(-rowOff + s.sh - 1, s.sh));
        const oh1 = min(s.oh, floorDiv(s.h - 1 - rowOff, s.sh) + 1);
        for (let kw = 0; kw < s.kw; kw++) {
          const w = load<f32>(wrow + ((<usize>((ci * s.kh + kh) * s.kw + kw)) << 2));
          const colOff = kw * s.dw - s.pl;
          const ow0 = max(0, floorDiv(-colOff + s.sw - 1, s.sw));
          const ow1 = min(s.ow, floorDiv(s.w - 1 - colOff, s.sw) + 1);
          if (ow0 >= ow1) continue;
          const wv = f32x4.splat(w);
          for (let oh = oh0; oh < oh1; oh++) {
            const xr = xp + ((<usize>((oh * s.sh + rowOff) * s.w)) << 2);
            const yr = yp + ((<usize>(oh * s.ow)) << 2);
            let ow = ow0;
            if (s.sw == 1 && !naive) {
              // x index = ow + colOff, contiguous
              for (; ow + 4 <= ow1; ow += 4) {
                const yo = yr + (<usize>ow << 2);
                v128.store(yo, f32x4.add(v128.load(yo), f32x4.mul(wv, v128.load(xr + (<usize>(ow + colOff) << 2)))));
              }
            }
            for (; ow < ow1; ow++) {
              const yo = yr + (<usize>ow << 2);
              store<f32>(yo, load<f32>(yo) + w * load<f32>(xr + (<usize>(ow * s.sw + colOff) << 2)));
            }
          }
        }
      }
    }
  }
}

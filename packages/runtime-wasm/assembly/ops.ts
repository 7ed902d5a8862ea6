// The non-parametric ops: activations, softmax, pools, batch norm, the
// element-wise and broadcasting ops, data movement, reductions, LayerNorm and
// Resize. They are memory-bound and small next to Dense/Conv2D, so they
// favour clarity (and f64 where the reference's rounding matters) over SIMD,
// except on the common paths (element-wise, broadcasting, rows of softmax,
// reductions and LayerNorm), where an f32x4 kernel has a naive twin beside it.

import { Broadcast, Copy, Reduction, ResizePlan } from "./layout";

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}
// @ts-ignore: decorator
@inline function put(p: usize, i: i32, v: f32): void {
  store<f32>(p + (<usize>i << 2), v);
}

export function relu(x: usize, y: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), f32x4.max(v128.load(x + (<usize>i << 2)), zero));
  for (; i < n; i++) { const v = at(x, i); put(y, i, v > 0 ? v : 0); }
}

export function leakyRelu(x: usize, y: usize, n: i32, alpha: f32): void {
  for (let i = 0; i < n; i++) { const v = at(x, i); put(y, i, v >= 0 ? v : alpha * v); }
}

export function tanh(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) put(y, i, <f32>Math.tanh(<f64>at(x, i)));
}

export function copy(x: usize, y: usize, n: i32): void {
  if (x != y) memory.copy(y, x, <usize>n << 2);
}

/** Softmax or log-softmax over the middle axis of [outer, len, inner]. */
export function softmax(x: usize, y: usize, outer: i32, len: i32, inner: i32, log: bool): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * len * inner + j;
      let mx: f64 = -Infinity;
      for (let k = 0; k < len; k++) mx = Math.max(mx, <f64>at(x, base + k * inner));
      let sum: f64 = 0;
      for (let k = 0; k < len; k++) sum += Math.exp(<f64>at(x, base + k * inner) - mx);
      if (log) {
        const ls = Math.log(sum);
        for (let k = 0; k < len; k++) put(y, base + k * inner, <f32>(<f64>at(x, base + k * inner) - mx - ls));
      } else {
        for (let k = 0; k < len; k++) put(y, base + k * inner, <f32>(Math.exp(<f64>at(x, base + k * inner) - mx) / sum));
      }
    }
  }
}

export class PoolShape {
  n: i32 = 0; c: i32 = 0; h: i32 = 0; w: i32 = 0; oh: i32 = 0; ow: i32 = 0;
  kh: i32 = 1; kw: i32 = 1; sh: i32 = 1; sw: i32 = 1;
  pt: i32 = 0; pl: i32 = 0; pb: i32 = 0; pr: i32 = 0; dh: i32 = 1; dw: i32 = 1;
}

/** Max over each window; padding never wins (it is -inf). NaN propagates, as Math.max. */
export function maxPool(s: PoolShape, x: usize, y: usize): void {
  const h = s.h, w = s.w, oh = s.oh, ow = s.ow, kh = s.kh, kw = s.kw;
  const sh = s.sh, sw = s.sw, pt = s.pt, pl = s.pl, dh = s.dh, dw = s.dw;
  // The common 2x2 stride-2 pool over the inside of the image runs in f32x4.
  const pairs = kh == 2 && kw == 2 && sh == 2 && sw == 2 && dh == 1 && dw == 1 && pt == 0 && pl == 0;
  const insideRows = pairs ? min(oh, h / 2) : 0;
  const insideCols4 = pairs ? min(ow, w / 2) & ~3 : 0;
  for (let p = 0; p < s.n * s.c; p++) {
    const xp = x + ((<usize>p * h * w) << 2);
    const yp = y + ((<usize>p * oh * ow) << 2);
    for (let oy = 0; oy < oh; oy++) {
      let ox = 0;
      if (oy < insideRows) {
        const r0 = xp + ((<usize>(2 * oy) * w) << 2);
        const r1 = r0 + (<usize>w << 2);
        for (; ox < insideCols4; ox += 4) {
          const off = <usize>(2 * ox) << 2;
          const a = f32x4.max(v128.load(r0 + off), v128.load(r1 + off));           // columns 2ox .. 2ox+3
          const b = f32x4.max(v128.load(r0 + off + 16), v128.load(r1 + off + 16)); // columns 2ox+4 .. 2ox+7
          const even = i32x4.shuffle(a, b, 0, 2, 4, 6);
          const odd = i32x4.shuffle(a, b, 1, 3, 5, 7);
          v128.store(yp + ((<usize>(oy * ow + ox)) << 2), f32x4.max(even, odd));
        }
      }
      for (; ox < ow; ox++) {
        let mx: f32 = -Infinity;
        const ih0 = oy * sh - pt, iw0 = ox * sw - pl;
        if (ih0 >= 0 && ih0 + (kh - 1) * dh < h && iw0 >= 0 && iw0 + (kw - 1) * dw < w) {
          // the whole window is inside: no bounds tests
          for (let ky = 0; ky < kh; ky++) {
            const row = (ih0 + ky * dh) * w + iw0;
            for (let kx = 0; kx < kw; kx++) mx = max(mx, at(xp, row + kx * dw));
          }
        } else {
          for (let ky = 0; ky < kh; ky++) {
            const ih = ih0 + ky * dh;
            if (ih < 0 || ih >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const iw = iw0 + kx * dw;
              if (iw >= 0 && iw < w) mx = max(mx, at(xp, ih * w + iw));
            }
          }
        }
        put(yp, oy * ow + ox, mx);
      }
    }
  }
}

/**
 * Mean over each window. count_include_pad divides by the window clipped to
 * the padded input (ONNX/PyTorch); otherwise by the elements inside the input.
 */
export function averagePool(s: PoolShape, x: usize, y: usize, countIncludePad: bool): void {
  for (let p = 0; p < s.n * s.c; p++) {
    const xp = x + ((<usize>p * s.h * s.w) << 2);
    const yp = y + ((<usize>p * s.oh * s.ow) << 2);
    for (let oh = 0; oh < s.oh; oh++) {
      const h0 = oh * s.sh - s.pt;
      const h1 = min(h0 + s.kh, s.h + s.pb);
      for (let ow = 0; ow < s.ow; ow++) {
        const w0 = ow * s.sw - s.pl;
        const w1 = min(w0 + s.kw, s.w + s.pr);
        let sum: f64 = 0;
        let count = 0;
        for (let ih = max(h0, 0); ih < min(h1, s.h); ih++) {
          for (let iw = max(w0, 0); iw < min(w1, s.w); iw++) {
            sum += <f64>at(xp, ih * s.w + iw);
            count++;
          }
        }
        const divisor: f64 = countIncludePad ? <f64>(h1 - h0) * <f64>(w1 - w0) : <f64>count; // f64: a window may pass 2^31
        put(yp, oh * s.ow + ow, divisor > 0 ? <f32>(sum / divisor) : 0);
      }
    }
  }
}

/** [N, C, H, W] -> [N, C, 1, 1]. */
export function globalAveragePool(x: usize, y: usize, planes: i32, plane: i32): void {
  for (let p = 0; p < planes; p++) {
    let sum: f64 = 0;
    for (let i = 0; i < plane; i++) sum += <f64>at(x, p * plane + i);
    put(y, p, <f32>(sum / <f64>plane));
  }
}

/** y = scale · (x − mean) / sqrt(var + eps) + bias over axis 1 of [N, C, inner]. */
export function batchNorm(x: usize, y: usize, n: i32, c: i32, inner: i32,
  scale: StaticArray<f32>, bias: StaticArray<f32>, mean: StaticArray<f32>, variance: StaticArray<f32>, eps: f32): void {
  for (let ch = 0; ch < c; ch++) {
    // the reference's order of operations, in f64, so that results round alike
    const s = <f64>unchecked(scale[ch]);
    const sd = Math.sqrt(<f64>unchecked(variance[ch]) + <f64>eps);
    const mu = <f64>unchecked(mean[ch]);
    const b = <f64>unchecked(bias[ch]);
    for (let b0 = 0; b0 < n; b0++) {
      const base = (b0 * c + ch) * inner;
      for (let i = 0; i < inner; i++) put(y, base + i, <f32>((s * (<f64>at(x, base + i) - mu)) / sd + b));
    }
  }
}

// ---- 1.1: data movement ---------------------------------------------------------

/**
 * The copy of a Copy record (layout.ts) from x to y, along its collapsed
 * runs: a run contiguous in both is one memory.copy, a run that repeats one
 * value (Expand) a fill, any other a strided loop.
 */
export function copyStrided(x: usize, y: usize, c: Copy, index: StaticArray<i32>): void {
  const shape = c.runShape, src = c.runSrc, dst = c.runDst;
  const r = shape.length;
  let xo = c.srcBase, yo = c.dstBase;
  if (r == 0) { put(y, yo, at(x, xo)); return; }
  const run = unchecked(shape[r - 1]), rs = unchecked(src[r - 1]), rd = unchecked(dst[r - 1]);
  const runs = c.total / run;
  for (let d = 0; d < r; d++) unchecked(index[d] = 0);
  for (let k = 0; k < runs; k++) {
    if (rs == 1 && rd == 1) {
      memory.copy(y + (<usize>yo << 2), x + (<usize>xo << 2), <usize>run << 2);
    } else if (rs == 0 && rd == 1) {
      const v = at(x, xo);
      const v4 = f32x4.splat(v);
      const yp = y + (<usize>yo << 2);
      let i = 0;
      for (; i + 4 <= run; i += 4) v128.store(yp + (<usize>i << 2), v4);
      for (; i < run; i++) put(yp, i, v);
    } else {
      for (let i = 0; i < run; i++) put(y, yo + i * rd, at(x, xo + i * rs));
    }
    // odometer over the axes outside the run
    for (let d = r - 2; d >= 0; d--) {
      const j = unchecked(index[d]) + 1;
      if (j < unchecked(shape[d])) {
        unchecked(index[d] = j);
        xo += unchecked(src[d]); yo += unchecked(dst[d]);
        break;
      }
      unchecked(index[d] = 0);
      xo -= (j - 1) * unchecked(src[d]); yo -= (j - 1) * unchecked(dst[d]);
    }
  }
}

/** Naive twin of copyStrided: every element's offsets from its multi-index, over the raw (uncollapsed) axes. */
export function copyStridedNaive(x: usize, y: usize, c: Copy): void {
  const r = c.shape.length;
  for (let e = 0; e < c.total; e++) {
    let rest = e, xo = c.srcBase, yo = c.dstBase;
    for (let d = r - 1; d >= 0; d--) {
      const i = rest % c.shape[d];
      rest /= c.shape[d];
      xo += i * c.src[d]; yo += i * c.dst[d];
    }
    put(y, yo, at(x, xo));
  }
}

export function fill(y: usize, n: i32, v: f32): void {
  const v4 = f32x4.splat(v);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), v4);
  for (; i < n; i++) put(y, i, v);
}

// ---- 1.1: element-wise -------------------------------------------------------------

export const U_CLIP: i32 = 0;
export const U_HARDSIGMOID: i32 = 1;
export const U_HARDSWISH: i32 = 2;
export const U_NEG: i32 = 3;
export const U_SQRT: i32 = 4;
export const U_SQUARE: i32 = 5; // Pow with exponent 2
export const U_EXP: i32 = 6;
export const U_SIGMOID: i32 = 7;
export const U_ERF: i32 = 8;
export const U_GELU: i32 = 9;      // x · Φ(x), with erf
export const U_GELU_TANH: i32 = 10; // the tanh approximation

/**
 * exp of four lanes in f32: e^x = 2^k · e^r with k = round(x / ln 2) and
 * |r| <= ln 2 / 2, e^r by its Taylor polynomial to r^7 (error below 1e-8,
 * so about one f32 rounding in all). Below -87.3 the result is 0, above
 * 88.7 +Infinity, NaN stays NaN.
 */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  const big = f32x4.gt(x, f32x4.splat(88.72283)), tiny = f32x4.lt(x, f32x4.splat(-87.33654));
  const c = f32x4.min(f32x4.max(x, f32x4.splat(-87.33654)), f32x4.splat(88.72283));
  const k = f32x4.nearest(f32x4.mul(c, f32x4.splat(1.4426950408889634)));
  // r = c − k·ln 2 in two parts (Cody–Waite) so that the product's rounding does not show
  let r = f32x4.sub(c, f32x4.mul(k, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(k, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.0 / 5040);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 720));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 120));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 24));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 6));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  // 2^k by its exponent bits; k in [-126, 128]: 2^128 overflows only where x > 88.7 (big)
  const kk = i32x4.trunc_sat_f32x4_s(k);
  const half = i32x4.shr_s(kk, 1); // 2^k = 2^(k/2) · 2^(k − k/2), each within range
  const s0 = i32x4.shl(i32x4.add(half, i32x4.splat(127)), 23);
  const s1 = i32x4.shl(i32x4.add(i32x4.sub(kk, half), i32x4.splat(127)), 23);
  let y = f32x4.mul(f32x4.mul(p, s0), s1);
  y = v128.bitselect(f32x4.splat(Infinity), y, big);
  return v128.bitselect(f32x4.splat(0), y, tiny);
}

/** The scalar formula of each unary op, in f64 like the reference; what the naive kernel runs and the fast one's tails. */
// @ts-ignore: decorator
@inline function unaryScalar(op: i32, v: f32, p: f32, q: f32): f32 {
  const x = <f64>v;
  switch (op) {
    case U_CLIP: return <f32>Math.min(Math.max(x, <f64>p), <f64>q); // as the schema: min > max gives max; NaN stays NaN
    case U_HARDSIGMOID: return <f32>Math.max(0, Math.min(1, <f64>p * x + <f64>q));
    case U_HARDSWISH: return <f32>(x * Math.max(0, Math.min(1, x / 6 + 0.5)));
    case U_NEG: return -v;
    case U_SQRT: return <f32>Math.sqrt(x);
    case U_SQUARE: return <f32>(x * x);
    case U_SIGMOID: return <f32>(1.0 / (1.0 + Math.exp(-x)));
    case U_ERF: return <f32>erf64(x);
    case U_GELU: return <f32>(0.5 * x * (1 + erf64(x * 0.7071067811865476)));
    case U_GELU_TANH: return <f32>(0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))));
    default: return <f32>Math.exp(x);
  }
}

/**
 * erf64's formulas in f32x4: the series (in x², to x^13) below 0.5, else
 * 1 − erfc with the same Chebyshev fit and exp4, with x's sign.
 */
// @ts-ignore: decorator
@inline function erf4(x: v128): v128 {
  const sign = f32x4.splat(-0.0);
  const a = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  // Σ (−1)^n x^(2n+1) / (n! (2n + 1)) · 2/√π, Horner in z
  let s = f32x4.splat(0.00012055332981789664);                           // n = 6
  s = f32x4.add(f32x4.mul(s, z), f32x4.splat(-0.0008548327023450852));   // n = 5
  s = f32x4.add(f32x4.mul(s, z), f32x4.splat(0.005223977625442188));     // n = 4
  s = f32x4.add(f32x4.mul(s, z), f32x4.splat(-0.026866170645131252));    // n = 3
  s = f32x4.add(f32x4.mul(s, z), f32x4.splat(0.11283791670955126));      // n = 2
  s = f32x4.add(f32x4.mul(s, z), f32x4.splat(-0.37612638903183754));     // n = 1
  const series = f32x4.mul(x, f32x4.add(f32x4.mul(s, z), f32x4.splat(1.1283791670955126)));
  const t = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), f32x4.mul(f32x4.splat(0.5), a)));
  let p = f32x4.splat(0.17087277);
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-0.82215223));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(1.48851587));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-1.13520398));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.27886807));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-0.18628806));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.09678418));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.37409196));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(1.00002368));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-1.26551223));
  const erfc = f32x4.mul(t, exp4(f32x4.sub(p, z)));
  const large = v128.or(f32x4.sub(f32x4.splat(1), erfc), v128.and(x, sign)); // 1 − erfc ≥ 0, with x's sign
  return v128.bitselect(series, large, f32x4.lt(a, f32x4.splat(0.5)));
}

// @ts-ignore: decorator
@inline function unary4(op: i32, v: v128, p: v128, q: v128): v128 {
  switch (op) {
    case U_CLIP: return f32x4.min(f32x4.max(v, p), q); // wasm's min/max propagate NaN, as Math's
    case U_HARDSIGMOID: return f32x4.max(f32x4.splat(0), f32x4.min(f32x4.splat(1), f32x4.add(f32x4.mul(p, v), q)));
    case U_HARDSWISH: {
      const gate = f32x4.max(f32x4.splat(0), f32x4.min(f32x4.splat(1), f32x4.add(f32x4.div(v, f32x4.splat(6)), f32x4.splat(0.5))));
      return f32x4.mul(v, gate);
    }
    case U_NEG: return f32x4.neg(v);
    case U_SQRT: return f32x4.sqrt(v);
    case U_SQUARE: return f32x4.mul(v, v);
    case U_SIGMOID: return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), exp4(f32x4.neg(v))));
    case U_ERF: return erf4(v);
    case U_GELU: return f32x4.mul(f32x4.mul(f32x4.splat(0.5), v), f32x4.add(f32x4.splat(1), erf4(f32x4.mul(v, f32x4.splat(0.7071067811865476)))));
    case U_GELU_TANH: {
      // tanh(u) = 1 − 2 / (e^(2u) + 1): ±1 where e^(2u) overflows or vanishes
      const u = f32x4.mul(f32x4.splat(0.7978845608028654), f32x4.add(v, f32x4.mul(f32x4.splat(0.044715), f32x4.mul(v, f32x4.mul(v, v)))));
      const th = f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(exp4(f32x4.add(u, u)), f32x4.splat(1))));
      return f32x4.mul(f32x4.mul(f32x4.splat(0.5), v), f32x4.add(f32x4.splat(1), th));
    }
    default: return exp4(v);
  }
}

// @ts-ignore: decorator
@inline function unaryLoop(op: i32, x: usize, y: usize, n: i32, p: f32, q: f32): void {
  const p4 = f32x4.splat(p), q4 = f32x4.splat(q);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), unary4(op, v128.load(x + (<usize>i << 2)), p4, q4));
  for (; i < n; i++) put(y, i, unaryScalar(op, at(x, i), p, q));
}

/**
 * y = f(x) element by element in f32x4 (U_* ops; p, q: Clip's bounds or
 * HardSigmoid's alpha and beta), with a scalar tail.
 */
export function unary(op: i32, x: usize, y: usize, n: i32, p: f32, q: f32): void {
  // a constant op per loop, so each inlined loop keeps only its own arithmetic
  switch (op) {
    case U_CLIP: unaryLoop(U_CLIP, x, y, n, p, q); break;
    case U_HARDSIGMOID: unaryLoop(U_HARDSIGMOID, x, y, n, p, q); break;
    case U_HARDSWISH: unaryLoop(U_HARDSWISH, x, y, n, p, q); break;
    case U_NEG: unaryLoop(U_NEG, x, y, n, p, q); break;
    case U_SQRT: unaryLoop(U_SQRT, x, y, n, p, q); break;
    case U_SQUARE: unaryLoop(U_SQUARE, x, y, n, p, q); break;
    case U_SIGMOID: unaryLoop(U_SIGMOID, x, y, n, p, q); break;
    case U_ERF: unaryLoop(U_ERF, x, y, n, p, q); break;
    case U_GELU: unaryLoop(U_GELU, x, y, n, p, q); break;
    case U_GELU_TANH: unaryLoop(U_GELU_TANH, x, y, n, p, q); break;
    default: unaryLoop(U_EXP, x, y, n, p, q);
  }
}

/** Naive twin of unary: the f64 formula for every element. */
export function unaryNaive(op: i32, x: usize, y: usize, n: i32, p: f32, q: f32): void {
  for (let i = 0; i < n; i++) put(y, i, unaryScalar(op, at(x, i), p, q));
}

export function pow(x: usize, y: usize, n: i32, exponent: f32): void {
  for (let i = 0; i < n; i++) put(y, i, <f32>Math.pow(<f64>at(x, i), <f64>exponent));
}

/**
 * erf in f64: the Maclaurin series below 0.5 (terms fall by x²/n, 14 of
 * them reach 1e-17), else 1 − erfc with Numerical Recipes' Chebyshev fit of
 * erfc (relative error below 1.2e-7), odd in x.
 */
export function erf64(x: f64): f64 {
  const a = Math.abs(x);
  if (a < 0.5) {
    const x2 = x * x;
    let term = x, sum = x;
    for (let n = 1; n < 14; n++) {
      term *= -x2 / <f64>n;
      sum += term / <f64>(2 * n + 1);
    }
    return sum * 1.1283791670955126; // 2 / sqrt(pi)
  }
  const t = 1 / (1 + 0.5 * a);
  const erfc = t * Math.exp(-a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - erfc : erfc - 1;
}

export const B_ADD: i32 = 0;
export const B_SUB: i32 = 1;
export const B_MUL: i32 = 2;
export const B_DIV: i32 = 3;

// @ts-ignore: decorator
@inline function binaryScalar(op: i32, a: f32, b: f32): f32 {
  switch (op) {
    case B_ADD: return a + b;
    case B_SUB: return a - b;
    case B_MUL: return a * b;
    default: return a / b;
  }
}

// @ts-ignore: decorator
@inline function binary4(op: i32, a: v128, b: v128): v128 {
  switch (op) {
    case B_ADD: return f32x4.add(a, b);
    case B_SUB: return f32x4.sub(a, b);
    case B_MUL: return f32x4.mul(a, b);
    default: return f32x4.div(a, b);
  }
}

// @ts-ignore: decorator
@inline function binaryLoop(op: i32, a: usize, b: usize, y: usize, bc: Broadcast, index: StaticArray<i32>): void {
  const run = bc.run, runA = bc.runA, runB = bc.runB;
  const outer = bc.outer, oa = bc.outerA, ob = bc.outerB;
  const r = outer.length;
  const runs = bc.total / run;
  for (let d = 0; d < r; d++) unchecked(index[d] = 0);
  let ia = 0, ib = 0, iy = 0;
  for (let k = 0; k < runs; k++) {
    const ap = a + (<usize>ia << 2), bp = b + (<usize>ib << 2), yp = y + (<usize>iy << 2);
    let i = 0;
    if (runA == 1 && runB == 1) {
      for (; i + 4 <= run; i += 4) v128.store(yp + (<usize>i << 2), binary4(op, v128.load(ap + (<usize>i << 2)), v128.load(bp + (<usize>i << 2))));
      for (; i < run; i++) put(yp, i, binaryScalar(op, at(ap, i), at(bp, i)));
    } else if (runA == 1) {
      // b repeats one value along the run: a per-channel or scalar operand
      const v = load<f32>(bp), v4 = f32x4.splat(v);
      for (; i + 4 <= run; i += 4) v128.store(yp + (<usize>i << 2), binary4(op, v128.load(ap + (<usize>i << 2)), v4));
      for (; i < run; i++) put(yp, i, binaryScalar(op, at(ap, i), v));
    } else {
      const u = load<f32>(ap), u4 = f32x4.splat(u);
      for (; i + 4 <= run; i += 4) v128.store(yp + (<usize>i << 2), binary4(op, u4, v128.load(bp + (<usize>i << 2))));
      for (; i < run; i++) put(yp, i, binaryScalar(op, u, at(bp, i)));
    }
    iy += run;
    for (let d = r - 1; d >= 0; d--) {
      const j = unchecked(index[d]) + 1;
      if (j < unchecked(outer[d])) {
        unchecked(index[d] = j);
        ia += unchecked(oa[d]); ib += unchecked(ob[d]);
        break;
      }
      unchecked(index[d] = 0);
      ia -= (j - 1) * unchecked(oa[d]); ib -= (j - 1) * unchecked(ob[d]);
    }
  }
}

/**
 * y = a ∘ b (B_* ops) with numpy broadcasting, along the runs of a Broadcast
 * record: f32x4 where both advance, or against a splat where one repeats.
 */
export function binary(op: i32, a: usize, b: usize, y: usize, bc: Broadcast, index: StaticArray<i32>): void {
  switch (op) {
    case B_ADD: binaryLoop(B_ADD, a, b, y, bc, index); break;
    case B_SUB: binaryLoop(B_SUB, a, b, y, bc, index); break;
    case B_MUL: binaryLoop(B_MUL, a, b, y, bc, index); break;
    default: binaryLoop(B_DIV, a, b, y, bc, index);
  }
}

/** Naive twin of binary: each output element's input offsets from its multi-index. */
export function binaryNaive(op: i32, a: usize, b: usize, y: usize, bc: Broadcast): void {
  const r = bc.shape.length;
  for (let e = 0; e < bc.total; e++) {
    let rest = e, ia = 0, ib = 0;
    for (let d = r - 1; d >= 0; d--) {
      const i = rest % bc.shape[d];
      rest /= bc.shape[d];
      ia += i * bc.a[d]; ib += i * bc.b[d];
    }
    put(y, e, binaryScalar(op, at(a, ia), at(b, ib)));
  }
}

// ---- 1.1: reductions, normalization, pooling, resize ----------------------------------

export const R_MEAN: i32 = 0;
export const R_SUM: i32 = 1;
export const R_MAX: i32 = 2;

/**
 * Reduce* when the reduced axes are one block: x [outer, len, inner] -> y
 * [outer, inner], rows in f32x4 (inner = 1) or whole [len, inner] planes
 * summed row into row; other layouts take the naive path.
 */
export function reduce(op: i32, x: usize, y: usize, red: Reduction, index: StaticArray<i32>): void {
  if (!red.oneBlock) { reduceNaive(op, x, y, red, index); return; }
  const outer = red.outer, len = red.len, inner = red.inner;
  const isMax = op == R_MAX;
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const row = x + ((<usize>o * len) << 2);
      let acc = f32x4.splat(isMax ? -Infinity : 0);
      let i = 0;
      for (; i + 4 <= len; i += 4) {
        const v = v128.load(row + (<usize>i << 2));
        acc = isMax ? f32x4.max(acc, v) : f32x4.add(acc, v);
      }
      let s: f32;
      if (isMax) {
        s = max(max(f32x4.extract_lane(acc, 0), f32x4.extract_lane(acc, 1)), max(f32x4.extract_lane(acc, 2), f32x4.extract_lane(acc, 3)));
        for (; i < len; i++) s = max(s, at(row, i));
      } else {
        s = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
        for (; i < len; i++) s += at(row, i);
        if (op == R_MEAN) s /= <f32>len;
      }
      put(y, o, s);
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    const plane = x + ((<usize>o * len * inner) << 2);
    const yo = y + ((<usize>o * inner) << 2);
    memory.copy(yo, plane, <usize>inner << 2);
    for (let k = 1; k < len; k++) {
      const row = plane + ((<usize>k * inner) << 2);
      let i = 0;
      for (; i + 4 <= inner; i += 4) {
        const off = <usize>i << 2;
        const v = v128.load(row + off), acc = v128.load(yo + off);
        v128.store(yo + off, isMax ? f32x4.max(acc, v) : f32x4.add(acc, v));
      }
      for (; i < inner; i++) put(yo, i, isMax ? max(at(yo, i), at(row, i)) : at(yo, i) + at(row, i));
    }
    if (op == R_MEAN) {
      const n4 = f32x4.splat(<f32>len);
      let i = 0;
      for (; i + 4 <= inner; i += 4) v128.store(yo + (<usize>i << 2), f32x4.div(v128.load(yo + (<usize>i << 2)), n4));
      for (; i < inner; i++) put(yo, i, at(yo, i) / <f32>len);
    }
  }
}

/** Naive twin of reduce: for each output (the kept axes in order), the reduced axes by odometer, in f64. */
export function reduceNaive(op: i32, x: usize, y: usize, red: Reduction, index: StaticArray<i32>): void {
  const kept = red.kept, rd = red.reduced;
  let outputs = 1;
  for (let d = 0; d < kept.length; d++) outputs *= kept[d];
  for (let e = 0; e < outputs; e++) {
    let rest = e, base = 0;
    for (let d = kept.length - 1; d >= 0; d--) {
      base += (rest % kept[d]) * red.keptStrides[d];
      rest /= kept[d];
    }
    for (let d = 0; d < rd.length; d++) index[d] = 0;
    let acc: f64 = op == R_MAX ? -Infinity : 0;
    let off = base;
    for (let k = 0; k < red.count; k++) {
      const v = <f64>at(x, off);
      acc = op == R_MAX ? Math.max(acc, v) : acc + v;
      for (let d = rd.length - 1; d >= 0; d--) {
        const j = index[d] + 1;
        if (j < rd[d]) { index[d] = j; off += red.reducedStrides[d]; break; }
        index[d] = 0;
        off -= (j - 1) * red.reducedStrides[d];
      }
    }
    put(y, e, <f32>(op == R_MEAN ? acc / <f64>red.count : acc));
  }
}

/**
 * LayerNorm over rows of `len` (the trailing axes): y = (x − mean) /
 * sqrt(var + eps) · scale + bias in f32x4. A row's spread can be far below
 * its mean (a row shifted by a large value), where x − mean in f32 would
 * lose the digits that matter: so the mean is m0 + δ, m0 the f32 mean of a
 * first pass and δ the mean of x − m0 (exact differences, small sums) from
 * a second, which also sums the squares: var = mean((x − m0)²) − δ².
 */
export function layerNorm(x: usize, y: usize, rows: i32, len: i32, scale: usize, bias: usize, eps: f32): void {
  const len4 = len & ~3;
  const n = <f32>len;
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>r * len) << 2), yr = y + ((<usize>r * len) << 2);
    let acc = f32x4.splat(0);
    let i = 0;
    for (; i < len4; i += 4) acc = f32x4.add(acc, v128.load(xr + (<usize>i << 2)));
    let sum = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
    for (; i < len; i++) sum += at(xr, i);
    const m0 = sum / n;
    const m4 = f32x4.splat(m0);
    let d4 = f32x4.splat(0), q4 = f32x4.splat(0);
    for (i = 0; i < len4; i += 4) {
      const d = f32x4.sub(v128.load(xr + (<usize>i << 2)), m4);
      d4 = f32x4.add(d4, d);
      q4 = f32x4.add(q4, f32x4.mul(d, d));
    }
    let ds = (f32x4.extract_lane(d4, 0) + f32x4.extract_lane(d4, 1)) + (f32x4.extract_lane(d4, 2) + f32x4.extract_lane(d4, 3));
    let qs = (f32x4.extract_lane(q4, 0) + f32x4.extract_lane(q4, 1)) + (f32x4.extract_lane(q4, 2) + f32x4.extract_lane(q4, 3));
    for (; i < len; i++) { const d = at(xr, i) - m0; ds += d; qs += d * d; }
    const delta = ds / n;
    const variance = max<f64>(<f64>qs / <f64>len - <f64>delta * <f64>delta, 0);
    const invS = <f32>(1 / Math.sqrt(variance + <f64>eps));
    const inv = f32x4.splat(invS), delta4 = f32x4.splat(delta);
    for (i = 0; i < len4; i += 4) {
      const off = <usize>i << 2;
      let v = f32x4.mul(f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + off), m4), delta4), inv), v128.load(scale + off));
      if (bias != 0) v = f32x4.add(v, v128.load(bias + off));
      v128.store(yr + off, v);
    }
    for (; i < len; i++) put(yr, i, ((at(xr, i) - m0) - delta) * invS * at(scale, i) + (bias != 0 ? at(bias, i) : 0));
  }
}

/** Naive twin of layerNorm: the formula in f64, two passes per row. */
export function layerNormNaive(x: usize, y: usize, rows: i32, len: i32, scale: usize, bias: usize, eps: f32): void {
  for (let r = 0; r < rows; r++) {
    const base = r * len;
    let sum: f64 = 0;
    for (let i = 0; i < len; i++) sum += <f64>at(x, base + i);
    const mean = sum / <f64>len;
    let sq: f64 = 0;
    for (let i = 0; i < len; i++) { const d = <f64>at(x, base + i) - mean; sq += d * d; }
    const sd = Math.sqrt(sq / <f64>len + <f64>eps);
    for (let i = 0; i < len; i++) {
      put(y, base + i, <f32>((<f64>at(x, base + i) - mean) / sd * <f64>at(scale, i) + (bias != 0 ? <f64>at(bias, i) : 0)));
    }
  }
}

/**
 * Softmax (or log-softmax) over contiguous rows of `len` (the last axis):
 * the max, exp and sum in f32x4 (exp4), then a scale (or a shift for log).
 * softmax() above is its naive twin and handles any axis.
 */
export function softmaxRows(x: usize, y: usize, rows: i32, len: i32, log: bool): void {
  const len4 = len & ~3;
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>r * len) << 2), yr = y + ((<usize>r * len) << 2);
    let m4 = f32x4.splat(-Infinity);
    let i = 0;
    for (; i < len4; i += 4) m4 = f32x4.max(m4, v128.load(xr + (<usize>i << 2)));
    let mx = max(max(f32x4.extract_lane(m4, 0), f32x4.extract_lane(m4, 1)), max(f32x4.extract_lane(m4, 2), f32x4.extract_lane(m4, 3)));
    for (; i < len; i++) mx = max(mx, at(xr, i));
    m4 = f32x4.splat(mx);
    let s4 = f32x4.splat(0);
    for (i = 0; i < len4; i += 4) {
      const e = exp4(f32x4.sub(v128.load(xr + (<usize>i << 2)), m4));
      if (!log) v128.store(yr + (<usize>i << 2), e);
      s4 = f32x4.add(s4, e);
    }
    let sum = (f32x4.extract_lane(s4, 0) + f32x4.extract_lane(s4, 1)) + (f32x4.extract_lane(s4, 2) + f32x4.extract_lane(s4, 3));
    for (; i < len; i++) {
      const e = <f32>Math.exp(<f64>(at(xr, i) - mx));
      if (!log) put(yr, i, e);
      sum += e;
    }
    if (log) {
      // (x − max) − log(sum): x − max is exact, where max + log(sum) would round away a large max's digits
      const ls = <f32>Math.log(<f64>sum);
      const ls4 = f32x4.splat(ls);
      for (i = 0; i < len4; i += 4) v128.store(yr + (<usize>i << 2), f32x4.sub(f32x4.sub(v128.load(xr + (<usize>i << 2)), m4), ls4));
      for (; i < len; i++) put(yr, i, (at(xr, i) - mx) - ls);
    } else {
      const s = f32x4.splat(sum);
      for (i = 0; i < len4; i += 4) v128.store(yr + (<usize>i << 2), f32x4.div(v128.load(yr + (<usize>i << 2)), s));
      for (; i < len; i++) put(yr, i, at(yr, i) / sum);
    }
  }
}

/** [N, C, H, W] -> [N, C, 1, 1], the max of each plane in f32x4 (NaN propagates, as Math.max). */
export function globalMaxPool(x: usize, y: usize, planes: i32, plane: i32): void {
  for (let p = 0; p < planes; p++) {
    const xp = x + ((<usize>p * plane) << 2);
    let m4 = f32x4.splat(-Infinity);
    let i = 0;
    for (; i + 4 <= plane; i += 4) m4 = f32x4.max(m4, v128.load(xp + (<usize>i << 2)));
    let mx = max(max(f32x4.extract_lane(m4, 0), f32x4.extract_lane(m4, 1)), max(f32x4.extract_lane(m4, 2), f32x4.extract_lane(m4, 3)));
    for (; i < plane; i++) mx = max(mx, at(xp, i));
    put(y, p, mx);
  }
}

/** Naive twin of globalMaxPool. */
export function globalMaxPoolNaive(x: usize, y: usize, planes: i32, plane: i32): void {
  for (let p = 0; p < planes; p++) {
    let mx: f64 = -Infinity;
    for (let i = 0; i < plane; i++) mx = Math.max(mx, <f64>at(x, p * plane + i));
    put(y, p, <f32>mx);
  }
}

/**
 * Resize of the planes [planes, H, W] -> [planes, OH, OW] by the source
 * tables of a ResizePlan: nearest copies, linear blends four neighbours
 * (rows first, then columns, in f64 as the reference).
 */
export function resize(x: usize, y: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32, rs: ResizePlan): void {
  for (let p = 0; p < planes; p++) {
    const xp = p * h * w, yp = p * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      const r0 = unchecked(rs.rows0[oy]) * w;
      if (!rs.linear) {
        for (let ox = 0; ox < ow; ox++) put(y, yp + oy * ow + ox, at(x, xp + r0 + unchecked(rs.cols0[ox])));
        continue;
      }
      const r1 = unchecked(rs.rows1[oy]) * w;
      const fy = <f64>unchecked(rs.rowFrac[oy]);
      for (let ox = 0; ox < ow; ox++) {
        const c0 = unchecked(rs.cols0[ox]), c1 = unchecked(rs.cols1[ox]);
        const fx = <f64>unchecked(rs.colFrac[ox]);
        const top = <f64>at(x, xp + r0 + c0) * (1 - fx) + <f64>at(x, xp + r0 + c1) * fx;
        const bottom = <f64>at(x, xp + r1 + c0) * (1 - fx) + <f64>at(x, xp + r1 + c1) * fx;
        put(y, yp + oy * ow + ox, <f32>(top * (1 - fy) + bottom * fy));
      }
    }
  }
}

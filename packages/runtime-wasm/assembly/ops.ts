// The non-parametric ops: activations, softmax, pools, batch norm, add.
// They are memory-bound and small next to Dense/Conv2D, so they favour
// clarity (and f64 where the reference's rounding matters) over SIMD, except
// the element-wise activations on the common path.

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

export function sigmoid(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) put(y, i, <f32>(1.0 / (1.0 + Math.exp(-<f64>at(x, i)))));
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

/**
 * y = a + b with numpy broadcasting. Shapes are right-aligned and padded to
 * the output's rank by the caller; strides are 0 along broadcast axes.
 */
export function add(a: usize, b: usize, y: usize, outShape: StaticArray<i32>, aStrides: StaticArray<i32>,
  bStrides: StaticArray<i32>, index: StaticArray<i32>, total: i32, same: bool): void {
  if (same) {
    let i = 0;
    for (; i + 4 <= total; i += 4) {
      const off = <usize>i << 2;
      v128.store(y + off, f32x4.add(v128.load(a + off), v128.load(b + off)));
    }
    for (; i < total; i++) put(y, i, at(a, i) + at(b, i));
    return;
  }
  const rank = outShape.length;
  for (let d = 0; d < rank; d++) unchecked(index[d] = 0);
  let ia = 0, ib = 0;
  for (let i = 0; i < total; i++) {
    put(y, i, at(a, ia) + at(b, ib));
    // odometer increment of the multi-index, moving both input offsets along
    for (let d = rank - 1; d >= 0; d--) {
      const k = unchecked(index[d]) + 1;
      if (k < unchecked(outShape[d])) {
        unchecked(index[d] = k);
        ia += unchecked(aStrides[d]);
        ib += unchecked(bStrides[d]);
        break;
      }
      unchecked(index[d] = 0);
      ia -= (k - 1) * unchecked(aStrides[d]);
      ib -= (k - 1) * unchecked(bStrides[d]);
    }
  }
}

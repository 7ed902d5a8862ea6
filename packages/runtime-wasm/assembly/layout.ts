// The index arithmetic of the data-movement, broadcasting, reduction, MatMul
// and Resize kernels, worked out once per batch size by the planner so that
// a run allocates nothing and its loops only add strides. Offsets and
// strides count elements (f32), not bytes.

import {
  Node,
  COORD_ALIGN_CORNERS, COORD_ASYMMETRIC, COORD_PYTORCH_HALF_PIXEL, RESIZE_LINEAR,
  ROUND_CEIL, ROUND_FLOOR, ROUND_PREFER_CEIL,
} from "./model";
import { broadcastStrides } from "./shapes";

/**
 * dst[dstBase + Σ i_d·dst_d] = src[srcBase + Σ i_d·src_d] for every index i of
 * `shape`: Concat (one per input), Slice, Transpose, Expand and Pad are each
 * one or more of these. The raw form is what the naive kernel walks; the
 * collapsed form drops size-1 axes and merges neighbours that are contiguous
 * in both, so the fast kernel copies the longest runs it can.
 */
export class Copy {
  input: i32;
  shape: StaticArray<i32>;
  src: StaticArray<i32>;
  dst: StaticArray<i32>;
  srcBase: i32;
  dstBase: i32;
  runShape: StaticArray<i32>; // collapsed
  runSrc: StaticArray<i32>;
  runDst: StaticArray<i32>;
  total: i32;

  constructor(input: i32, shape: StaticArray<i32>, src: StaticArray<i32>, srcBase: i32, dst: StaticArray<i32>, dstBase: i32) {
    this.input = input;
    this.shape = shape;
    this.src = src;
    this.dst = dst;
    this.srcBase = srcBase;
    this.dstBase = dstBase;
    let total = 1;
    for (let d = 0; d < shape.length; d++) total *= shape[d];
    this.total = total;
    // Innermost first: an axis joins the run inside it when it steps by the run's whole extent in both.
    const sh = new Array<i32>(0), ss = new Array<i32>(0), ds = new Array<i32>(0);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (shape[d] == 1) continue;
      const last = sh.length - 1;
      if (last >= 0 && src[d] == ss[last] * sh[last] && dst[d] == ds[last] * sh[last]) {
        sh[last] *= shape[d];
        continue;
      }
      sh.push(shape[d]); ss.push(src[d]); ds.push(dst[d]);
    }
    const r = sh.length;
    this.runShape = new StaticArray<i32>(r);
    this.runSrc = new StaticArray<i32>(r);
    this.runDst = new StaticArray<i32>(r);
    for (let k = 0; k < r; k++) {
      this.runShape[k] = sh[r - 1 - k]; this.runSrc[k] = ss[r - 1 - k]; this.runDst[k] = ds[r - 1 - k];
    }
  }
}

/**
 * numpy broadcasting of y = a ∘ b. Naive: the output's shape with each
 * input's strides (0 along broadcast axes). Fast: collapsed the same way as
 * Copy, the innermost axis is a run along which each input either advances
 * (stride 1) or repeats one value (stride 0), and the axes outside it are an
 * odometer. Same shapes collapse to one run; a per-channel or scalar operand
 * to runs of a splat.
 */
export class Broadcast {
  shape: StaticArray<i32>;
  a: StaticArray<i32>;
  b: StaticArray<i32>;
  outer: StaticArray<i32> = new StaticArray<i32>(0); // collapsed axes outside the run
  outerA: StaticArray<i32> = new StaticArray<i32>(0);
  outerB: StaticArray<i32> = new StaticArray<i32>(0);
  run: i32 = 1;
  runA: i32 = 1; // 1: a advances along the run, 0: repeats
  runB: i32 = 1;
  total: i32 = 1;

  constructor(shape: StaticArray<i32>, a: StaticArray<i32>, b: StaticArray<i32>) {
    this.shape = shape; this.a = a; this.b = b;
  }
}

export function planBroadcast(xa: StaticArray<i32>, xb: StaticArray<i32>, out: StaticArray<i32>): Broadcast {
  const bc = new Broadcast(out, broadcastStrides(xa, out), broadcastStrides(xb, out));
  const sh = new Array<i32>(0), sa = new Array<i32>(0), sb = new Array<i32>(0);
  let total = 1;
  for (let d = out.length - 1; d >= 0; d--) {
    total *= out[d];
    if (out[d] == 1) continue;
    const last = sh.length - 1;
    if (last >= 0 && bc.a[d] == sa[last] * sh[last] && bc.b[d] == sb[last] * sh[last]) {
      sh[last] *= out[d];
      continue;
    }
    sh.push(out[d]); sa.push(bc.a[d]); sb.push(bc.b[d]);
  }
  bc.total = total;
  const r = sh.length;
  if (r == 0) return bc; // one element
  // The innermost collapsed axis has stride 1 or 0 in each input (both 0 would make it size 1).
  bc.run = sh[0]; bc.runA = sa[0]; bc.runB = sb[0];
  bc.outer = new StaticArray<i32>(r - 1);
  bc.outerA = new StaticArray<i32>(r - 1);
  bc.outerB = new StaticArray<i32>(r - 1);
  for (let k = 0; k < r - 1; k++) {
    bc.outer[k] = sh[r - 1 - k]; bc.outerA[k] = sa[r - 1 - k]; bc.outerB[k] = sb[r - 1 - k];
  }
  return bc;
}

/**
 * A reduction over some axes of x. Naive: an odometer over the kept axes
 * (the output's order) with an inner odometer over the reduced ones, input
 * strides for both. Fast: when the reduced axes are one block once adjacent
 * axes of the same kind are merged, x is [outer, len, inner] and the output
 * [outer, inner]: rows (inner = 1) or planes summed along len.
 */
export class Reduction {
  kept: StaticArray<i32> = new StaticArray<i32>(0);
  keptStrides: StaticArray<i32> = new StaticArray<i32>(0);
  reduced: StaticArray<i32> = new StaticArray<i32>(0);
  reducedStrides: StaticArray<i32> = new StaticArray<i32>(0);
  count: i32 = 1; // elements per output
  oneBlock: bool = false;
  outer: i32 = 1;
  len: i32 = 1;
  inner: i32 = 1;
}

export function planReduction(x: StaticArray<i32>, flags: StaticArray<bool>): Reduction {
  const red = new Reduction();
  const rank = x.length;
  let nk = 0, nr = 0;
  for (let d = 0; d < rank; d++) if (flags[d]) nr++; else nk++;
  red.kept = new StaticArray<i32>(nk); red.keptStrides = new StaticArray<i32>(nk);
  red.reduced = new StaticArray<i32>(nr); red.reducedStrides = new StaticArray<i32>(nr);
  let stride = 1;
  for (let d = rank - 1; d >= 0; d--) {
    if (flags[d]) { nr--; red.reduced[nr] = x[d]; red.reducedStrides[nr] = stride; red.count *= x[d]; }
    else { nk--; red.kept[nk] = x[d]; red.keptStrides[nk] = stride; }
    stride *= x[d];
  }
  // Blocks of reduced axes, ignoring size-1 axes (they belong to either side).
  let blocks = 0;
  let inBlock = false;
  let outer = 1, len = 1, inner = 1;
  for (let d = 0; d < rank; d++) {
    if (x[d] == 1) continue;
    if (flags[d]) {
      if (!inBlock) blocks++;
      inBlock = true;
      len *= x[d];
    } else {
      inBlock = false;
      if (blocks == 0) outer *= x[d]; else inner *= x[d];
    }
  }
  red.oneBlock = blocks <= 1;
  red.outer = outer; red.len = len; red.inner = inner;
  if (blocks == 0) { red.outer = 1; red.len = 1; red.inner = outer; } // nothing reduced: a copy
  return red;
}

/** Batched y[..., M, N] = a[..., M, K] · b[..., K, N]: the output's batch axes with each input's strides (0 where broadcast). */
export class MatMulPlan {
  m: i32 = 0; k: i32 = 0; n: i32 = 0;
  batch: StaticArray<i32> = new StaticArray<i32>(0);
  aStrides: StaticArray<i32> = new StaticArray<i32>(0);
  bStrides: StaticArray<i32> = new StaticArray<i32>(0);
  count: i32 = 1; // matrices in the output

  constructor(xa: StaticArray<i32>, xb: StaticArray<i32>, out: StaticArray<i32>) {
    const r = out.length;
    this.m = xa[xa.length - 2]; this.k = xa[xa.length - 1]; this.n = xb[xb.length - 1];
    this.batch = StaticArray.slice<i32>(out, 0, r - 2);
    this.aStrides = broadcastStrides(StaticArray.slice<i32>(xa, 0, xa.length - 2), this.batch);
    this.bStrides = broadcastStrides(StaticArray.slice<i32>(xb, 0, xb.length - 2), this.batch);
    const aMatrix = this.m * this.k, bMatrix = this.k * this.n;
    for (let d = 0; d < r - 2; d++) {
      this.aStrides[d] *= aMatrix;
      this.bStrides[d] *= bMatrix;
      this.count *= this.batch[d];
    }
  }
}

/**
 * Resize's source indices, one table per spatial axis: nearest reads rows0 and
 * cols0; linear blends *0 and *1 by *Frac (ONNX opset 13). The rules
 * are defined once in packages/format/src/reference/resize.ts (resizeSource,
 * resizeNearest, resizeLinear); sourceCoordinate and fillAxis are their twins.
 */
export class ResizePlan {
  linear: bool = false;
  rows0: StaticArray<i32> = new StaticArray<i32>(0);
  rows1: StaticArray<i32> = new StaticArray<i32>(0);
  rowFrac: StaticArray<f32> = new StaticArray<f32>(0);
  cols0: StaticArray<i32> = new StaticArray<i32>(0);
  cols1: StaticArray<i32> = new StaticArray<i32>(0);
  colFrac: StaticArray<f32> = new StaticArray<f32>(0);
}

/** The input coordinate of output coordinate o (ONNX's coordinate_transformation_mode). */
export function sourceCoordinate(n: Node, o: i32, inLen: i32, outLen: i32, scale: f64): f64 {
  const c = n.coordinates;
  if (c == COORD_ASYMMETRIC) return <f64>o / scale;
  if (c == COORD_ALIGN_CORNERS) return outLen == 1 ? 0 : <f64>o * <f64>(inLen - 1) / <f64>(outLen - 1);
  if (c == COORD_PYTORCH_HALF_PIXEL && outLen == 1) return 0;
  return (<f64>o + 0.5) / scale - 0.5; // half_pixel, pytorch_half_pixel
}

function fillAxis(n: Node, inLen: i32, outLen: i32, scale: f64, i0: StaticArray<i32>, i1: StaticArray<i32>, frac: StaticArray<f32>): void {
  for (let o = 0; o < outLen; o++) {
    const x = sourceCoordinate(n, o, inLen, outLen, scale);
    if (n.mode == RESIZE_LINEAR) {
      const c = Math.min(Math.max(x, 0), <f64>(inLen - 1));
      const f = Math.floor(c);
      i0[o] = <i32>f;
      i1[o] = min(<i32>f + 1, inLen - 1);
      frac[o] = <f32>(c - f);
    } else {
      let r: f64;
      if (n.nearest == ROUND_FLOOR) r = Math.floor(x);
      else if (n.nearest == ROUND_CEIL) r = Math.ceil(x);
      else if (n.nearest == ROUND_PREFER_CEIL) r = Math.floor(x + 0.5);
      else r = Math.ceil(x - 0.5); // round_prefer_floor: halves go down
      i0[o] = <i32>Math.min(Math.max(r, 0), <f64>(inLen - 1));
    }
  }
}

export function planResize(n: Node, x: StaticArray<i32>, out: StaticArray<i32>): ResizePlan {
  const rs = new ResizePlan();
  rs.linear = n.mode == RESIZE_LINEAR;
  const oh = out[2], ow = out[3];
  rs.rows0 = new StaticArray<i32>(oh); rs.rows1 = new StaticArray<i32>(oh); rs.rowFrac = new StaticArray<f32>(oh);
  rs.cols0 = new StaticArray<i32>(ow); rs.cols1 = new StaticArray<i32>(ow); rs.colFrac = new StaticArray<f32>(ow);
  fillAxis(n, x[2], oh, <f64>n.scaleH, rs.rows0, rs.rows1, rs.rowFrac);
  fillAxis(n, x[3], ow, <f64>n.scaleW, rs.cols0, rs.cols1, rs.colFrac);
  return rs;
}

// Shape inference at a concrete batch size: the output shape of each op from
// its input shapes, with the runtime's caps on sizes (the twin of
// packages/format/src/shapes.ts, which infers with a symbolic batch).

import { E_SHAPE, fail } from "./errors";
import {
  Node,
  OP_DENSE, OP_CONV2D, OP_SOFTMAX, OP_LOGSOFTMAX,
  OP_FLATTEN, OP_RESHAPE, OP_MAXPOOL, OP_AVERAGEPOOL, OP_GLOBALAVERAGEPOOL, OP_BATCHNORM, OP_ADD,
  OP_CONSTANT, OP_CONCAT, OP_SLICE, OP_MUL, OP_SUB, OP_DIV, OP_REDUCEMEAN, OP_REDUCESUM, OP_REDUCEMAX,
  OP_TRANSPOSE, OP_MATMUL, OP_LAYERNORM, OP_SQUEEZE, OP_UNSQUEEZE, OP_PAD, OP_GLOBALMAXPOOL, OP_RESIZE,
  OP_CONVTRANSPOSE, OP_EXPAND,
} from "./model";
import { MAX_ELEMENTS, MAX_GEOMETRY, MAX_RANK } from "./limits";

export function shapeString(s: StaticArray<i32>): string {
  let out = "[";
  for (let i = 0; i < s.length; i++) out += (i > 0 ? ", " : "") + s[i].toString();
  return out + "]";
}

/** Output size of a sliding window along one axis (ONNX Conv / pools); -1 when the window does not fit. */
export function windowOut(size: i32, kernel: i32, stride: i32, padBegin: i32, padEnd: i32, dilation: i32, ceilMode: bool): i64 {
  const span = <i64>size + padBegin + padEnd - (<i64>(kernel - 1) * dilation + 1);
  if (span < 0) return -1;
  let out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
  // ceil_mode: the last window must start inside the input or the left padding
  if (ceilMode && (out - 1) * stride >= <i64>size + padBegin) out--;
  return out;
}

/** numpy broadcast of two shapes (right-aligned), or null when they do not broadcast. */
export function broadcast(x: StaticArray<i32>, y: StaticArray<i32>): StaticArray<i32> | null {
  const r = max(x.length, y.length);
  const out = new StaticArray<i32>(r);
  for (let d = 0; d < r; d++) {
    const a = d - (r - x.length) >= 0 ? x[d - (r - x.length)] : 1;
    const b = d - (r - y.length) >= 0 ? y[d - (r - y.length)] : 1;
    if (a != b && a != 1 && b != 1) return null;
    out[d] = a == 1 ? b : a;
  }
  return out;
}

/** An axis in [-rank, rank) as an index in [0, rank), or -1 when out of range. */
export function axisIndex(axis: i64, rank: i32): i32 {
  if (axis < -<i64>rank || axis >= <i64>rank) return -1;
  return <i32>(axis < 0 ? axis + rank : axis);
}

/**
 * ONNX Slice along one axis of size `dim`: the first index and the count
 * (0 when empty). Negative start/end count from the end; both are clamped,
 * to [0, dim] for a positive step and to [-1, dim - 1] for a negative one.
 */
export function sliceFirst(dim: i32, start: i64, end: i64, step: i64): i64 {
  let s = start < 0 ? start + dim : start;
  if (step > 0) s = min(max(s, 0), <i64>dim);
  else s = min(max(s, -1), <i64>dim - 1);
  return s;
}
export function sliceCount(dim: i32, start: i64, end: i64, step: i64): i64 {
  const s = sliceFirst(dim, start, end, step);
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    e = min(max(e, 0), <i64>dim);
    return e > s ? (e - s + step - 1) / step : 0;
  }
  e = min(max(e, -1), <i64>dim - 1);
  return s > e ? (s - e - step - 1) / -step : 0;
}

/** Axes (negative from the end) as flags over `rank` dims; null when one is out of range or repeated. */
export function axisFlags(axes: StaticArray<i32>, rank: i32): StaticArray<bool> | null {
  const flags = new StaticArray<bool>(rank);
  for (let k = 0; k < axes.length; k++) {
    const a = axisIndex(axes[k], rank);
    if (a < 0 || flags[a]) return null;
    flags[a] = true;
  }
  return flags;
}

function tooLarge(size: i64): bool {
  return size < 1 || size > MAX_ELEMENTS;
}

/**
 * The output shape of node i from its input shapes (`ins`, one per input) at
 * `batch`, or null (and a recorded error).
 */
export function inferShape(i: i32, n: Node, ins: Array<StaticArray<i32>>, batch: i32): StaticArray<i32> | null {
  const x = ins.length > 0 ? ins[0] : new StaticArray<i32>(0);
  const x1: StaticArray<i32> | null = ins.length > 1 ? ins[1] : null;
  const rank = x.length;
  let out: StaticArray<i32> = x;
  switch (n.op) {
    case OP_DENSE: {
      const w = n.weight!;
      if (rank != 2 || w.shape.length != 2 || x[1] != w.shape[1]) {
        fail(E_SHAPE, n.describe(i) + ": input " + shapeString(x) + " does not fit weight " + shapeString(w.shape) + " (expected [N, in], weight [out, in])");
        return null;
      }
      const b = n.bias;
      if (b != null && (b.shape.length != 1 || b.shape[0] != w.shape[0])) {
        fail(E_SHAPE, n.describe(i) + ": bias " + shapeString(b.shape) + " does not match " + w.shape[0].toString() + " outputs");
        return null;
      }
      out = new StaticArray<i32>(2);
      out[0] = x[0]; out[1] = w.shape[0];
      break;
    }
    case OP_CONV2D: {
      const w = n.weight!;
      if (rank != 4 || w.shape.length != 4 || w.shape[0] % n.group != 0 || <i64>x[1] != <i64>w.shape[1] * n.group) {
        fail(E_SHAPE, n.describe(i) + ": input " + shapeString(x) + " does not fit weight " + shapeString(w.shape) +
          " with group " + n.group.toString() + " (expected [N, C, H, W], weight [M, C/group, KH, KW], M % group == 0)");
        return null;
      }
      const b = n.bias;
      if (b != null && (b.shape.length != 1 || b.shape[0] != w.shape[0])) {
        fail(E_SHAPE, n.describe(i) + ": bias " + shapeString(b.shape) + " does not match " + w.shape[0].toString() + " output channels");
        return null;
      }
      n.kh = w.shape[2]; n.kw = w.shape[3];
      if (<i64>x[2] + n.pt + n.pb > MAX_GEOMETRY || <i64>x[3] + n.pl + n.pr > MAX_GEOMETRY) {
        fail(E_SHAPE, n.describe(i) + ": the padded input is larger than 2^28 along an axis");
        return null;
      }
      const oh = windowOut(x[2], n.kh, n.sh, n.pt, n.pb, n.dh, false);
      const ow = windowOut(x[3], n.kw, n.sw, n.pl, n.pr, n.dw, false);
      if (oh < 1 || ow < 1 || oh > MAX_ELEMENTS || ow > MAX_ELEMENTS) {
        fail(E_SHAPE, n.describe(i) + ": the kernel does not fit the padded input " + shapeString(x));
        return null;
      }
      out = new StaticArray<i32>(4);
      out[0] = x[0]; out[1] = w.shape[0]; out[2] = <i32>oh; out[3] = <i32>ow;
      break;
    }
    case OP_MAXPOOL:
    case OP_AVERAGEPOOL: {
      if (rank != 4) { fail(E_SHAPE, n.describe(i) + ": input " + shapeString(x) + " is not [N, C, H, W]"); return null; }
      if (<i64>x[2] + n.pt + n.pb > MAX_GEOMETRY || <i64>x[3] + n.pl + n.pr > MAX_GEOMETRY) {
        fail(E_SHAPE, n.describe(i) + ": the padded input is larger than 2^28 along an axis");
        return null;
      }
      const oh = windowOut(x[2], n.kh, n.sh, n.pt, n.pb, n.dh, n.ceilMode);
      const ow = windowOut(x[3], n.kw, n.sw, n.pl, n.pr, n.dw, n.ceilMode);
      if (oh < 1 || ow < 1 || oh > MAX_ELEMENTS || ow > MAX_ELEMENTS) {
        fail(E_SHAPE, n.describe(i) + ": the window does not fit the padded input " + shapeString(x));
        return null;
      }
      out = new StaticArray<i32>(4);
      out[0] = x[0]; out[1] = x[1]; out[2] = <i32>oh; out[3] = <i32>ow;
      break;
    }
    case OP_GLOBALAVERAGEPOOL: {
      if (rank != 4) { fail(E_SHAPE, n.describe(i) + ": input " + shapeString(x) + " is not [N, C, H, W]"); return null; }
      out = new StaticArray<i32>(4);
      out[0] = x[0]; out[1] = x[1]; out[2] = 1; out[3] = 1;
      break;
    }
    case OP_BATCHNORM: {
      if (rank < 2 || x[1] != n.bnScale.length) {
        fail(E_SHAPE, n.describe(i) + ": input " + shapeString(x) + " does not have " + n.bnScale.length.toString() + " channels on axis 1");
        return null;
      }
      break;
    }
    case OP_SOFTMAX:
    case OP_LOGSOFTMAX: {
      if (n.axis < -rank || n.axis >= rank) {
        fail(E_SHAPE, n.describe(i) + ": axis " + n.axis.toString() + " is out of range for rank " + rank.toString());
        return null;
      }
      break;
    }
    case OP_FLATTEN: {
      if (n.axis < -rank || n.axis > rank) {
        fail(E_SHAPE, n.describe(i) + ": axis " + n.axis.toString() + " is out of range for rank " + rank.toString());
        return null;
      }
      const axis = n.axis < 0 ? n.axis + rank : n.axis;
      let a: i64 = 1, b: i64 = 1;
      for (let d = 0; d < rank; d++) { if (d < axis) a *= x[d]; else b *= x[d]; }
      out = new StaticArray<i32>(2);
      out[0] = <i32>a; out[1] = <i32>b;
      break;
    }
    case OP_RESHAPE: {
      const spec = n.reshape;
      out = new StaticArray<i32>(spec.length);
      let total: i64 = 1;
      for (let d = 0; d < rank; d++) total *= x[d];
      let known: i64 = 1;
      let inferred = -1;
      for (let d = 0; d < spec.length; d++) {
        let v = spec[d];
        if (v == 0) {
          if (d >= rank) { fail(E_SHAPE, n.describe(i) + ": shape[" + d.toString() + "] = 0 copies a dimension the input " + shapeString(x) + " lacks"); return null; }
          v = x[d];
        }
        if (v == -1) { inferred = d; continue; }
        known *= v;
        if (known > MAX_ELEMENTS) { fail(E_SHAPE, n.describe(i) + ": target shape is too large"); return null; }
        out[d] = <i32>v;
      }
      if (inferred >= 0) {
        if (known == 0 || total % known != 0) {
          fail(E_SHAPE, n.describe(i) + ": cannot infer the -1 of the target shape from " + total.toString() + " elements");
          return null;
        }
        out[inferred] = <i32>(total / known);
      } else if (known != total) {
        fail(E_SHAPE, n.describe(i) + ": cannot reshape " + shapeString(x) + " (" + total.toString() + " elements) to " + known.toString() + " elements");
        return null;
      }
      break;
    }
    case OP_ADD:
    case OP_MUL:
    case OP_SUB:
    case OP_DIV: {
      const y = x1!;
      const b = broadcast(x, y);
      if (b == null) {
        fail(E_SHAPE, n.describe(i) + ": shapes " + shapeString(x) + " and " + shapeString(y) + " do not broadcast");
        return null;
      }
      out = b;
      break;
    }
    // ---- 1.1 ----
    case OP_CONSTANT:
      out = StaticArray.slice<i32>(n.weight!.shape);
      break;
    case OP_CONCAT: {
      const axis = axisIndex(n.axis, rank);
      if (axis < 0) { fail(E_SHAPE, n.describe(i) + ": axis " + n.axis.toString() + " is out of range for rank " + rank.toString()); return null; }
      let total: i64 = 0;
      for (let k = 0; k < ins.length; k++) {
        const s = ins[k];
        let fits = s.length == rank;
        for (let d = 0; fits && d < rank; d++) fits = d == axis || s[d] == x[d];
        if (!fits) {
          fail(E_SHAPE, n.describe(i) + ": input " + k.toString() + " " + shapeString(s) + " does not fit input 0 " + shapeString(x) +
            " (every dimension but axis " + axis.toString() + " must be equal)");
          return null;
        }
        total += s[axis];
      }
      if (total > MAX_ELEMENTS) { fail(E_SHAPE, n.describe(i) + ": the joined axis has more than 2^28 entries"); return null; }
      out = StaticArray.slice<i32>(x);
      out[axis] = <i32>total;
      break;
    }
    case OP_SLICE: {
      const flags = axisFlags(n.axes, rank);
      if (flags == null) { fail(E_SHAPE, n.describe(i) + ": axes " + shapeString(n.axes) + " are out of range or repeated for rank " + rank.toString()); return null; }
      out = StaticArray.slice<i32>(x);
      for (let k = 0; k < n.axes.length; k++) {
        const a = axisIndex(n.axes[k], rank);
        const count = sliceCount(x[a], n.starts[k], n.ends[k], n.steps[k]);
        if (count < 1) {
          fail(E_SHAPE, n.describe(i) + ": the slice of axis " + a.toString() + " (size " + x[a].toString() + ") from " + n.starts[k].toString() +
            " to " + n.ends[k].toString() + " by " + n.steps[k].toString() + " is empty");
          return null;
        }
        out[a] = <i32>count;
      }
      break;
    }
    case OP_REDUCEMEAN:
    case OP_REDUCESUM:
    case OP_REDUCEMAX: {
      const flags = n.allAxes ? new StaticArray<bool>(rank) : axisFlags(n.axes, rank);
      if (flags == null) { fail(E_SHAPE, n.describe(i) + ": axes " + shapeString(n.axes) + " are out of range or repeated for rank " + rank.toString()); return null; }
      if (n.allAxes) for (let d = 0; d < rank; d++) flags[d] = true;
      let kept = 0;
      for (let d = 0; d < rank; d++) if (n.keepdims || !flags[d]) kept++;
      if (kept == 0) { fail(E_SHAPE, n.describe(i) + ": reducing every axis of " + shapeString(x) + " without keepdims leaves a scalar; hnet tensors have rank >= 1"); return null; }
      out = new StaticArray<i32>(kept);
      let k = 0;
      for (let d = 0; d < rank; d++) {
        if (!flags[d]) out[k++] = x[d];
        else if (n.keepdims) out[k++] = 1;
      }
      break;
    }
    case OP_TRANSPOSE: {
      if (n.axes.length != rank) { fail(E_SHAPE, n.describe(i) + ": perm " + shapeString(n.axes) + " does not have the input's rank " + rank.toString()); return null; }
      out = new StaticArray<i32>(rank);
      for (let d = 0; d < rank; d++) out[d] = x[n.axes[d]];
      break;
    }
    case OP_MATMUL: {
      const y = x1!;
      if (rank < 2 || y.length < 2 || x[rank - 1] != y[y.length - 2]) {
        fail(E_SHAPE, n.describe(i) + ": shapes " + shapeString(x) + " and " + shapeString(y) + " do not fit [..., M, K] x [..., K, N]");
        return null;
      }
      const bx = StaticArray.slice<i32>(x, 0, rank - 2), by = StaticArray.slice<i32>(y, 0, y.length - 2);
      const b = broadcast(bx, by);
      if (b == null) {
        fail(E_SHAPE, n.describe(i) + ": the batch dimensions of " + shapeString(x) + " and " + shapeString(y) + " do not broadcast");
        return null;
      }
      out = new StaticArray<i32>(b.length + 2);
      for (let d = 0; d < b.length; d++) out[d] = b[d];
      out[b.length] = x[rank - 2];
      out[b.length + 1] = y[y.length - 1];
      break;
    }
    case OP_LAYERNORM: {
      const axis = axisIndex(n.axis, rank);
      if (axis < 0) { fail(E_SHAPE, n.describe(i) + ": axis " + n.axis.toString() + " is out of range for rank " + rank.toString()); return null; }
      const norm = StaticArray.slice<i32>(x, axis);
      const b = n.bias;
      if (!sameShape(n.scale!.shape, norm) || (b != null && !sameShape(b.shape, norm))) {
        fail(E_SHAPE, n.describe(i) + ": scale " + shapeString(n.scale!.shape) + (b != null ? " and bias " + shapeString(b.shape) : "") +
          " must have the normalized shape " + shapeString(norm));
        return null;
      }
      break;
    }
    case OP_SQUEEZE: {
      const flags = axisFlags(n.axes, rank);
      if (flags == null) { fail(E_SHAPE, n.describe(i) + ": axes " + shapeString(n.axes) + " are out of range or repeated for rank " + rank.toString()); return null; }
      if (rank == n.axes.length) { fail(E_SHAPE, n.describe(i) + ": squeezing every axis of " + shapeString(x) + " leaves a scalar; hnet tensors have rank >= 1"); return null; }
      out = new StaticArray<i32>(rank - n.axes.length);
      let k = 0;
      for (let d = 0; d < rank; d++) {
        if (!flags[d]) { out[k++] = x[d]; continue; }
        if (x[d] != 1) { fail(E_SHAPE, n.describe(i) + ": axis " + d.toString() + " of " + shapeString(x) + " has size " + x[d].toString() + ", not 1"); return null; }
      }
      break;
    }
    case OP_UNSQUEEZE: {
      const r = rank + n.axes.length;
      if (r > MAX_RANK) { fail(E_SHAPE, n.describe(i) + ": output rank above " + MAX_RANK.toString()); return null; }
      const flags = axisFlags(n.axes, r);
      if (flags == null) { fail(E_SHAPE, n.describe(i) + ": axes " + shapeString(n.axes) + " are out of range or repeated for the output rank " + r.toString()); return null; }
      out = new StaticArray<i32>(r);
      let k = 0;
      for (let d = 0; d < r; d++) out[d] = flags[d] ? 1 : x[k++];
      break;
    }
    case OP_PAD: {
      if (n.padding.length != 2 * rank) {
        fail(E_SHAPE, n.describe(i) + ": pads has " + n.padding.length.toString() + " entries, expected 2 · rank = " + (2 * rank).toString());
        return null;
      }
      out = new StaticArray<i32>(rank);
      for (let d = 0; d < rank; d++) {
        const size = <i64>x[d] + n.padding[d] + n.padding[rank + d];
        if (tooLarge(size)) { fail(E_SHAPE, n.describe(i) + ": the padded axis " + d.toString() + " has more than 2^28 entries"); return null; }
        out[d] = <i32>size;
      }
      break;
    }
    case OP_GLOBALMAXPOOL: {
      if (rank != 4) { fail(E_SHAPE, n.describe(i) + ": input " + shapeString(x) + " is not [N, C, H, W]"); return null; }
      out = new StaticArray<i32>(4);
      out[0] = x[0]; out[1] = x[1]; out[2] = 1; out[3] = 1;
      break;
    }
    case OP_RESIZE: {
      if (rank != 4) { fail(E_SHAPE, n.describe(i) + ": input " + shapeString(x) + " is not [N, C, H, W]"); return null; }
      // floor(f32(size · scale)), as onnxruntime computes it (the f64 product of an i32 and an f32 is exact)
      const oh = Math.floor(<f64><f32>(<f64>x[2] * <f64>n.scaleH)), ow = Math.floor(<f64><f32>(<f64>x[3] * <f64>n.scaleW));
      if (!(oh >= 1 && ow >= 1 && oh <= <f64>MAX_ELEMENTS && ow <= <f64>MAX_ELEMENTS)) {
        fail(E_SHAPE, n.describe(i) + ": scales [" + n.scaleH.toString() + ", " + n.scaleW.toString() + "] make an output of " +
          oh.toString() + " x " + ow.toString() + " from " + shapeString(x) + ", expected 1..2^28 each");
        return null;
      }
      out = new StaticArray<i32>(4);
      out[0] = x[0]; out[1] = x[1]; out[2] = <i32>oh; out[3] = <i32>ow;
      break;
    }
    case OP_CONVTRANSPOSE: {
      const w = n.weight!;
      if (rank != 4 || w.shape.length != 4 || x[1] != w.shape[0] || x[1] % n.group != 0) {
        fail(E_SHAPE, n.describe(i) + ": input " + shapeString(x) + " does not fit weight " + shapeString(w.shape) +
          " with group " + n.group.toString() + " (expected [N, C, H, W], weight [C, M/group, KH, KW], C % group == 0)");
        return null;
      }
      const m = <i64>w.shape[1] * n.group;
      const b = n.bias;
      if (b != null && (b.shape.length != 1 || <i64>b.shape[0] != m)) {
        fail(E_SHAPE, n.describe(i) + ": bias " + shapeString(b.shape) + " does not match " + m.toString() + " output channels");
        return null;
      }
      n.kh = w.shape[2]; n.kw = w.shape[3];
      const oh = <i64>n.sh * (x[2] - 1) + n.oph + <i64>(n.kh - 1) * n.dh + 1 - n.pt - n.pb;
      const ow = <i64>n.sw * (x[3] - 1) + n.opw + <i64>(n.kw - 1) * n.dw + 1 - n.pl - n.pr;
      if (tooLarge(oh) || tooLarge(ow) || m > MAX_ELEMENTS) {
        fail(E_SHAPE, n.describe(i) + ": the output of " + oh.toString() + " x " + ow.toString() + " from input " + shapeString(x) + " is empty or above 2^28");
        return null;
      }
      out = new StaticArray<i32>(4);
      out[0] = x[0]; out[1] = <i32>m; out[2] = <i32>oh; out[3] = <i32>ow;
      break;
    }
    case OP_EXPAND: {
      const target = new StaticArray<i32>(n.reshape.length);
      for (let d = 0; d < target.length; d++) target[d] = n.reshape[d] == -1 ? batch : <i32>n.reshape[d];
      const b = broadcast(x, target);
      if (b == null) {
        fail(E_SHAPE, n.describe(i) + ": input " + shapeString(x) + " does not broadcast to " + shapeString(target));
        return null;
      }
      out = b;
      break;
    }
    default:
      break; // element-wise: same shape
  }
  return out;
}

export function sameShape(a: StaticArray<i32>, b: StaticArray<i32>): bool {
  if (a.length != b.length) return false;
  for (let d = 0; d < a.length; d++) if (a[d] != b[d]) return false;
  return true;
}

/** Element strides of `s` along the axes of `out` (right-aligned; 0 where broadcast). */
export function broadcastStrides(s: StaticArray<i32>, out: StaticArray<i32>): StaticArray<i32> {
  const r = out.length;
  const strides = new StaticArray<i32>(r);
  let stride = 1;
  for (let d = r - 1; d >= 0; d--) {
    const k = d - (r - s.length);
    const dim = k >= 0 ? s[k] : 1;
    strides[d] = dim == 1 ? 0 : stride;
    stride *= dim;
  }
  return strides;
}

// Shape inference at a concrete batch size: the output shape of each op from
// its input shapes, with the runtime's caps on sizes (the twin of
// packages/format/src/shapes.ts, which infers with a symbolic batch).

import { E_SHAPE, fail } from "./errors";
import {
  Node,
  OP_DENSE, OP_CONV2D, OP_SOFTMAX, OP_LOGSOFTMAX,
  OP_FLATTEN, OP_RESHAPE, OP_MAXPOOL, OP_AVERAGEPOOL, OP_GLOBALAVERAGEPOOL, OP_BATCHNORM, OP_ADD,
} from "./model";
import { MAX_ELEMENTS, MAX_GEOMETRY } from "./limits";

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

/** The output shape of node i from its input shapes, or null (and a recorded error). */
export function inferShape(i: i32, n: Node, x: StaticArray<i32>, x1: StaticArray<i32> | null): StaticArray<i32> | null {
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
    case OP_ADD: {
      const y = x1!;
      const r = max(rank, y.length);
      out = new StaticArray<i32>(r);
      for (let d = 0; d < r; d++) {
        const a = d - (r - rank) >= 0 ? x[d - (r - rank)] : 1;
        const b = d - (r - y.length) >= 0 ? y[d - (r - y.length)] : 1;
        if (a != b && a != 1 && b != 1) {
          fail(E_SHAPE, n.describe(i) + ": shapes " + shapeString(x) + " and " + shapeString(y) + " do not broadcast");
          return null;
        }
        out[d] = a == 1 ? b : a;
      }
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
